/**
 * The CARDDAV:filter of addressbook-query (RFC 6352 §10.5): parsed once per request, then tested
 * against each card's properties as ical.js reads them.
 */
import { BadRequest, Forbidden } from "../errors.js";
import { COLLATIONS, isCollation } from "../text/collation.js";
import { card } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import type { JProp } from "./vcard-text.js";
import { parseVcard } from "./vcard-version.js";

type Test = "anyof" | "allof";
type MatchType = "equals" | "contains" | "starts-with" | "ends-with";

export interface TextMatch {
  text: string;
  fold: (s: string) => string;
  matchType: MatchType;
  negate: boolean;
}

export interface ParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch?: TextMatch;
}

export interface PropFilter {
  name: string;
  test: Test;
  isNotDefined: boolean;
  textMatches: TextMatch[];
  paramFilters: ParamFilter[];
}

export interface CardFilter {
  test: Test;
  props: PropFilter[];
}

const MATCH_TYPES: readonly MatchType[] = ["equals", "contains", "starts-with", "ends-with"];

const unsupported = (message: string) => new Forbidden(message, { name: card("supported-filter") });

function testOf(el: XmlElement): Test {
  const test = (el.attrs["{}test"] ?? "anyof").trim();
  if (test !== "anyof" && test !== "allof") throw unsupported(`test="${test}" is neither anyof nor allof.`);
  return test;
}

function nameOf(el: XmlElement, what: string): string {
  const name = (el.attrs["{}name"] ?? "").trim();
  if (!name) throw new BadRequest(`A CARDDAV:${what} needs a name attribute.`);
  return name.toLowerCase();
}

function parseTextMatch(el: XmlElement): TextMatch {
  const collation = (el.attrs["{}collation"] ?? "i;unicode-casemap").trim();
  if (!isCollation(collation)) {
    throw new Forbidden(
      `The collation ${collation} is not supported; use ${Object.keys(COLLATIONS).join(", ")}.`,
      { name: card("supported-collation") },
    );
  }
  const matchType = (el.attrs["{}match-type"] ?? "contains").trim() as MatchType;
  if (!MATCH_TYPES.includes(matchType)) {
    throw unsupported(`match-type="${matchType}" is not one of ${MATCH_TYPES.join(", ")}.`);
  }
  const negate = (el.attrs["{}negate-condition"] ?? "no").trim();
  if (negate !== "yes" && negate !== "no")
    throw unsupported(`negate-condition="${negate}" is neither yes nor no.`);
  const fold = COLLATIONS[collation];
  return { text: fold(el.text), fold, matchType, negate: negate === "yes" };
}

function parseParamFilter(el: XmlElement): ParamFilter {
  const textMatch = el.children.find((c) => c.name === card("text-match"));
  return {
    name: nameOf(el, "param-filter"),
    isNotDefined: el.children.some((c) => c.name === card("is-not-defined")),
    textMatch: textMatch && parseTextMatch(textMatch),
  };
}

function parsePropFilter(el: XmlElement): PropFilter {
  return {
    name: nameOf(el, "prop-filter"),
    test: testOf(el),
    isNotDefined: el.children.some((c) => c.name === card("is-not-defined")),
    textMatches: el.children.filter((c) => c.name === card("text-match")).map(parseTextMatch),
    paramFilters: el.children.filter((c) => c.name === card("param-filter")).map(parseParamFilter),
  };
}

/** Tests one query may ask for: every card is tested against each, so the count bounds a query's time. */
export const MAX_FILTER_TESTS = 100;

export function parseCardFilter(el: XmlElement): CardFilter {
  const props = el.children.filter((c) => c.name === card("prop-filter"));
  const tests = props.reduce(
    (n, p) => n + 1 + p.children.filter((c) => c.name !== card("is-not-defined")).length,
    0,
  );
  if (tests > MAX_FILTER_TESTS) {
    throw unsupported(
      `The filter has ${tests} prop-filters, text-matches and param-filters; at most ${MAX_FILTER_TESTS} are supported.`,
    );
  }
  return {
    test: testOf(el),
    props: props.map(parsePropFilter),
  };
}

type Prop = JProp;

/** ical.js keeps values of unknown (X-) properties as written; the filter compares them unescaped. */
const unescape = (s: string) =>
  s.replace(/\\([\\,;nN])/g, (_, c: string) => (c.toLowerCase() === "n" ? "\n" : c));

/**
 * The strings a text-match compares with: the whole value as a client shows it, and each part of a
 * structured or multi-valued one (N's family name, one of several CATEGORIES).
 */
function valueTexts(p: Prop): string[] {
  const values = p.slice(3).map((v) => (typeof v === "string" && p[2] === "unknown" ? unescape(v) : v));
  const part = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(part) : [String(v)]);
  const whole = values
    .map((v) =>
      Array.isArray(v) ? v.map((x) => (Array.isArray(x) ? x.join(",") : String(x))).join(";") : String(v),
    )
    .join(",");
  const parts = values.flatMap(part);
  return parts.length > 1 ? [whole, ...parts] : [whole];
}

function textMatches(m: TextMatch, texts: string[]): boolean {
  const hit = texts.some((raw) => {
    const s = m.fold(raw);
    switch (m.matchType) {
      case "equals":
        return s === m.text;
      case "starts-with":
        return s.startsWith(m.text);
      case "ends-with":
        return s.endsWith(m.text);
      default:
        return s.includes(m.text);
    }
  });
  return hit !== m.negate;
}

function paramMatches(f: ParamFilter, p: Prop): boolean {
  // ical.js keeps a property's group among its parameters; `constructor` and the like are no parameter either.
  const value = f.name === "group" || !Object.hasOwn(p[1], f.name) ? undefined : p[1][f.name];
  if (f.isNotDefined) return value === undefined;
  if (value === undefined) return false;
  if (!f.textMatch) return true;
  // TYPE=work,voice is two values: `equals work` matches it.
  const values = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(","));
  return textMatches(f.textMatch, values);
}

const combine = (test: Test, checks: (() => boolean)[]) =>
  test === "allof" ? checks.every((c) => c()) : checks.some((c) => c());

/**
 * RFC 6352 §10.5.1: a prop-filter matches when an instance of the property meets its text-matches
 * and param-filters (any or all of them, as `test` says); an empty one when the property exists;
 * is-not-defined when it does not.
 */
function propMatches(f: PropFilter, props: Prop[]): boolean {
  const instances = props.filter((p) => p[0] === f.name);
  if (f.isNotDefined) return instances.length === 0;
  const checks = (p: Prop) => [
    ...f.textMatches.map((m) => () => textMatches(m, valueTexts(p))),
    ...f.paramFilters.map((pf) => () => paramMatches(pf, p)),
  ];
  return instances.some((p) => {
    const c = checks(p);
    return c.length === 0 || combine(f.test, c);
  });
}

/** RFC 6352 §10.5: whether the card matches; a filter without prop-filters matches every card. */
export function matchesCardFilter(text: string, filter: CardFilter): boolean {
  if (filter.props.length === 0) return true;
  let props: Prop[];
  try {
    props = parseVcard(text).jcard[1];
  } catch {
    // Every stored card was parsed when it was written; one that no longer parses matches nothing
    // rather than making its whole address book unsearchable.
    return false;
  }
  return combine(
    filter.test,
    filter.props.map((f) => () => propMatches(f, props)),
  );
}
