/**
 * The transaction builder. Every write is one TransactWriteItems assembled from named parts
 * (`sequence`, `object`, `uid`, `change`, and parts other modules add, such as a lock or a task
 * guard), each with its own condition built from small named fragments. A cancelled transaction
 * comes back as the names of the parts whose condition failed, each with the item DynamoDB found
 * there (ALL_OLD), so callers turn failures into domain errors by name, never by position.
 */
import type { AttributeValue, TransactWriteItem } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import type { Item } from "./query.js";
import { StoreError } from "./errors.js";
import { transact } from "./transact.js";

/** DynamoDB's limit on the items of one TransactWriteItems. */
export const MAX_TX_PARTS = 100;

/** The placeholders of one part's expressions: every attribute name and value gets its own. */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private readonly byAttr = new Map<string, string>();

  name(attr: string): string {
    let p = this.byAttr.get(attr);
    if (!p) {
      p = `#a${this.byAttr.size}`;
      this.byAttr.set(attr, p);
      this.names[p] = attr;
    }
    return p;
  }

  value(v: AttributeValue): string {
    const p = `:v${Object.keys(this.values).length}`;
    this.values[p] = v;
    return p;
  }
}

/**
 * A condition fragment: writes its expression, allocating placeholders as it goes. Compound
 * fragments come back in one pair of parentheses, so they combine without adding more (DynamoDB
 * refuses redundant parentheses).
 */
export type Cond = (e: Expr) => string;
/** An update expression (`SET …`), written the same way. */
export type Update = (e: Expr) => string;

function group(parts: string[], op: "AND" | "OR"): string {
  if (parts.length === 0) throw new Error(`a condition needs at least one operand of ${op}`);
  return parts.length === 1 ? parts[0] : `(${parts.join(` ${op} `)})`;
}

/** No item under this key yet. */
export const absent: Cond = () => "attribute_not_exists(pk)";
/** An item exists under this key. */
export const present: Cond = () => "attribute_exists(pk)";
/** The item has no such attribute. */
export const lacks =
  (attr: string): Cond =>
  (e) =>
    `attribute_not_exists(${e.name(attr)})`;
/** A condition no item satisfies (an If-Match that names no strong tag). */
export const never: Cond = () => "(attribute_exists(pk) AND attribute_not_exists(pk))";
export const equals =
  (attr: string, value: AttributeValue): Cond =>
  (e) =>
    `${e.name(attr)} = ${e.value(value)}`;
/** The attribute is one of the values (`IN` takes 100 operands at most, so longer lists are OR-ed groups). */
export const oneOf =
  (attr: string, values: AttributeValue[]): Cond =>
  (e) => {
    if (values.length === 0) return never(e);
    const groups: string[] = [];
    for (let i = 0; i < values.length; i += 100) {
      groups.push(
        `${e.name(attr)} IN (${values
          .slice(i, i + 100)
          .map((v) => e.value(v))
          .join(", ")})`,
      );
    }
    return group(groups, "OR");
  };
/** A (possibly nested) attribute below or above a number: `lessThan(["locks", token, "expires"], n)`. */
const pathOf = (e: Expr, path: string | string[]) =>
  (Array.isArray(path) ? path : [path]).map((p) => e.name(p)).join(".");
export const lessThan =
  (path: string | string[], value: AttributeValue): Cond =>
  (e) =>
    `${pathOf(e, path)} < ${e.value(value)}`;
export const greaterThan =
  (path: string | string[], value: AttributeValue): Cond =>
  (e) =>
    `${pathOf(e, path)} > ${e.value(value)}`;
export const pathEquals =
  (path: string[], value: AttributeValue): Cond =>
  (e) =>
    `${pathOf(e, path)} = ${e.value(value)}`;
export const allOf =
  (...conds: Cond[]): Cond =>
  (e) =>
    group(
      conds.map((c) => c(e)),
      "AND",
    );
export const anyOf =
  (...conds: Cond[]): Cond =>
  (e) =>
    group(
      conds.map((c) => c(e)),
      "OR",
    );
export const not =
  (cond: Cond): Cond =>
  (e) => {
    const inner = cond(e);
    return inner.startsWith("(") ? `NOT ${inner}` : `NOT (${inner})`;
  };

/** A write would change more items than one DynamoDB transaction can (a subtree, with its locks). */
export class TooManyParts extends StoreError {
  constructor() {
    super(`the write takes more than ${MAX_TX_PARTS} items, more than one transaction holds`);
  }
}

/** The parts whose conditions failed when a transaction was cancelled, with the items found there. */
export class TxFailures {
  constructor(private readonly failed: ReadonlyMap<string, Item | undefined>) {}

  has(part: string): boolean {
    return this.failed.has(part);
  }

  /** The item DynamoDB held under the failed part's key (ALL_OLD); undefined when there was none. */
  old(part: string): Item | undefined {
    return this.failed.get(part);
  }

  get parts(): string[] {
    return [...this.failed.keys()];
  }
}

/**
 * A condition another module adds to a write it does not own (a lock on the resource, a task
 * running on the collection): its part, and the domain error its failure means.
 */
export interface Guard {
  part: string;
  add(tx: WriteTx): void;
  failure(old: Item | undefined): Error;
  /**
   * Of two guards with one part (two writes of a transaction asking about one item), the one of
   * higher rank stands: its condition implies the other's (a lock check on a collection whose
   * membership changes outranks one on a collection something lies below).
   */
  rank?: number;
  /**
   * The lock this guard checks could only be rooted in the member's own collection (the member, or
   * the collection itself): while that collection's item says no such lock is active (its
   * `lockedUntil` has passed; absent means unknown, and the check stays), a member write leaves
   * this part out and pins `lockedUntil` in its sequence condition instead, so a LOCK committing
   * meanwhile makes it retry with the check (collections.ts, recordChanges).
   */
  inCollection?: boolean;
}

export class WriteTx {
  private readonly parts: { name: string; item: TransactWriteItem }[] = [];

  constructor(private readonly store: Store) {}

  /** Write `item`, on `condition` when given. */
  put(name: string, item: Item, condition?: Cond): this {
    const e = new Expr();
    const expr = condition?.(e);
    return this.add(name, { Put: { TableName: this.store.tableName, Item: item, ...conditional(e, expr) } });
  }

  /** Update the item under `key`. */
  update(name: string, key: Item, update: Update, condition?: Cond): this {
    const e = new Expr();
    const updateExpr = update(e);
    const expr = condition?.(e);
    return this.add(name, {
      Update: {
        TableName: this.store.tableName,
        Key: key,
        UpdateExpression: updateExpr,
        ...conditional(e, expr),
      },
    });
  }

  /** Delete the item under `key`. */
  delete(name: string, key: Item, condition?: Cond): this {
    const e = new Expr();
    const expr = condition?.(e);
    return this.add(name, { Delete: { TableName: this.store.tableName, Key: key, ...conditional(e, expr) } });
  }

  /** Demand `condition` of the item under `key` without writing it (a guard). */
  check(name: string, key: Item, condition: Cond): this {
    const e = new Expr();
    const expr = condition(e);
    return this.add(name, {
      ConditionCheck: {
        TableName: this.store.tableName,
        Key: key,
        ...conditional(e, expr),
        ConditionExpression: expr,
      },
    });
  }

  /** Let each guard add its part. */
  guard(guards: readonly Guard[]): this {
    for (const g of guards) g.add(this);
    return this;
  }

  get names(): string[] {
    return this.parts.map((p) => p.name);
  }

  /** Run the transaction: undefined when it committed, else the failed parts by name. */
  async commit(): Promise<TxFailures | undefined> {
    if (this.parts.length === 0) return undefined;
    const cancelled = await transact(
      this.store,
      this.parts.map((p) => p.item),
    );
    if (!cancelled) return undefined;
    const failed = new Map<string, Item | undefined>();
    cancelled.reasons.forEach((r, i) => {
      if (r.code === "ConditionalCheckFailed" && this.parts[i]) failed.set(this.parts[i].name, r.item);
    });
    return new TxFailures(failed);
  }

  private add(name: string, item: TransactWriteItem): this {
    if (this.parts.some((p) => p.name === name)) throw new Error(`transaction part '${name}' added twice`);
    if (this.parts.length >= MAX_TX_PARTS) throw new TooManyParts();
    this.parts.push({ name, item });
    return this;
  }
}

/** Guards with one part each, the strictest of each part: two writes of one transaction may ask about one item (their collection's lock). */
export function distinctGuards(guards: readonly Guard[]): Guard[] {
  const byPart = new Map<string, Guard>();
  for (const g of guards) {
    const held = byPart.get(g.part);
    if (!held || (g.rank ?? 0) > (held.rank ?? 0)) byPart.set(g.part, g);
  }
  return [...byPart.values()];
}

/** The first failed guard's error, if a guard's part failed. */
export function guardFailure(failures: TxFailures, guards: readonly Guard[]): Error | undefined {
  const g = guards.find((x) => failures.has(x.part));
  return g?.failure(failures.old(g.part));
}

/** The expression without the one pair of parentheses a compound fragment brings, if it spans it all. */
function unwrap(expr: string): string {
  if (!expr.startsWith("(") || !expr.endsWith(")")) return expr;
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] === "(") depth++;
    else if (expr[i] === ")") depth--;
    if (depth === 0 && i < expr.length - 1) return expr;
  }
  return expr.slice(1, -1);
}

function conditional(e: Expr, raw: string | undefined) {
  const expr = raw === undefined ? undefined : unwrap(raw);
  const names = Object.keys(e.names).length ? { ExpressionAttributeNames: e.names } : {};
  const values = Object.keys(e.values).length ? { ExpressionAttributeValues: e.values } : {};
  if (expr === undefined) return { ...names, ...values };
  // ALL_OLD on every conditioned part: a failure names its part and shows what was there.
  return {
    ...names,
    ...values,
    ConditionExpression: expr,
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
}
