/**
 * The If header (RFC 4918 §10.4), which a class 1 server must evaluate: lists of conditions on
 * entity tags and state tokens, untagged (about the request URL) or tagged with the resource they
 * are about. The header holds when at least one list holds; a list holds when each of its
 * conditions does. Conditions on the request URL become a predicate on its ETag, which the write
 * evaluates again in every round of its optimistic loop, next to If-Match; lists about other
 * resources are evaluated once, against those resources as they are. A state token matches a
 * resource that a lock with that token covers (the state tokens modules name for it).
 */
import { BadRequest } from "../errors.js";
import { addressHref, addressOfHref, type Address } from "./paths.js";

export interface IfCondition {
  not: boolean;
  kind: "etag" | "token";
  /** The entity tag as written (`"x"`, `W/"x"`), or the state token's URI. */
  value: string;
}

export interface IfProduction {
  /** The resource a tagged list is about, as written; undefined for the request URL. */
  tag?: string;
  lists: IfCondition[][];
}

/** What a condition is matched against. */
export interface ResourceState {
  etag?: string;
  tokens: readonly string[];
}

/** Distinct resources one If header may name: each costs a read. */
export const MAX_TAGGED_RESOURCES = 10;

const malformed = (why: string) => new BadRequest(`Malformed If header (RFC 4918 §10.4.2): ${why}.`);

/** Parse an If header; throws a 400 for anything the grammar does not allow. */
export function parseIfHeader(text: string): IfProduction[] {
  let i = 0;
  const ws = () => {
    while (i < text.length && /[ \t]/.test(text[i])) i++;
  };
  const coded = (): string => {
    const end = text.indexOf(">", i);
    if (end < 0) throw malformed("a '<' without its '>'");
    const uri = text.slice(i + 1, end).trim();
    if (uri === "") throw malformed("an empty <>");
    i = end + 1;
    return uri;
  };
  const etag = (): string => {
    const m = /^\[\s*((?:W\/)?"[^"]*")\s*\]/.exec(text.slice(i));
    if (!m) throw malformed(`an entity tag in [] expected at position ${i + 1}`);
    i += m[0].length;
    return m[1];
  };
  const list = (): IfCondition[] => {
    i++; // "("
    const conditions: IfCondition[] = [];
    for (;;) {
      ws();
      if (text[i] === ")") {
        i++;
        if (conditions.length === 0) throw malformed("an empty list ()");
        return conditions;
      }
      let not = false;
      if (/^not\b/i.test(text.slice(i))) {
        not = true;
        i += 3;
        ws();
      }
      if (text[i] === "<") conditions.push({ not, kind: "token", value: coded() });
      else if (text[i] === "[") conditions.push({ not, kind: "etag", value: etag() });
      else throw malformed(`a state token <…> or an entity tag […] expected at position ${i + 1}`);
    }
  };
  const productions: IfProduction[] = [];
  for (;;) {
    ws();
    if (i >= text.length) break;
    if (text[i] === "<") {
      const tag = coded();
      const production: IfProduction = { tag, lists: [] };
      ws();
      while (text[i] === "(") {
        production.lists.push(list());
        ws();
      }
      if (production.lists.length === 0) throw malformed(`the resource <${tag}> has no list`);
      productions.push(production);
    } else if (text[i] === "(") {
      const last = productions[productions.length - 1];
      if (last && last.tag !== undefined) throw malformed("untagged lists after tagged ones");
      if (last) last.lists.push(list());
      else productions.push({ lists: [list()] });
    } else {
      throw malformed(`'(' or '<' expected at position ${i + 1}`);
    }
  }
  if (productions.length === 0) throw malformed("no list");
  if (productions.some((p) => p.tag === undefined) && productions.some((p) => p.tag !== undefined)) {
    throw malformed("untagged and tagged lists mixed");
  }
  return productions;
}

/** RFC 4918 §10.4.4: entity tags compare strongly (a weak tag matches nothing); state tokens exactly. */
function matches(c: IfCondition, state: ResourceState): boolean {
  return c.kind === "etag"
    ? state.etag !== undefined && c.value === state.etag
    : state.tokens.includes(c.value);
}

const listHolds = (list: IfCondition[], state: ResourceState) =>
  list.every((c) => c.not !== matches(c, state));

/**
 * The header as a predicate on the request URL's ETag, and whether lists about other resources
 * took part (their state can change under a write that retries, so it is read again then).
 * `lookup` gives the state of another resource a tagged list names (one the user may not see has none).
 */
export async function ifPredicate(
  productions: IfProduction[],
  request: Address,
  lookup: (a: Address | undefined) => Promise<ResourceState>,
  hereTokens: readonly string[] = [],
): Promise<{ holds: (etag: string | undefined) => boolean; aboutOthers: boolean }> {
  const here = addressHref(request);
  const ours: IfCondition[][] = [];
  const others = new Map<string, IfCondition[][]>();
  for (const p of productions) {
    const address = p.tag === undefined ? request : addressOfHref(p.tag);
    const key = address ? addressHref(address) : `\u0000${p.tag}`;
    if (key === here) ours.push(...p.lists);
    else others.set(key, [...(others.get(key) ?? []), ...p.lists]);
  }
  if (others.size > MAX_TAGGED_RESOURCES) {
    throw new BadRequest(
      `The If header names ${others.size} resources; at most ${MAX_TAGGED_RESOURCES} are accepted.`,
    );
  }
  const aboutOthers = others.size > 0;
  for (const [key, lists] of others) {
    const state = await lookup(key.startsWith("\u0000") ? undefined : addressOfHref(key));
    if (lists.some((l) => listHolds(l, state))) return { holds: () => true, aboutOthers };
  }
  return { holds: (etag) => ours.some((l) => listHolds(l, { etag, tokens: hereTokens })), aboutOthers };
}

/** Every state token the header names outside `Not`: the lock tokens the client submits. */
export function submittedTokens(productions: IfProduction[]): string[] {
  const tokens = productions.flatMap((p) => p.lists.flat().filter((c) => c.kind === "token" && !c.not));
  return [...new Set(tokens.map((c) => c.value))];
}
