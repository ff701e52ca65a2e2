/**
 * WebDAV write locks (RFC 4918 §6, §7), one item per locked path in the owner's lock partition:
 * `LOCKS#<owner>` / `<path>`, holding every lock on that path (shared locks are several) and the
 * latest expiry of each sort, which the conditions of writes and of other LOCKs test without
 * reading: a write commits only if every lock item on its path is absent, expired, or names a
 * lock the client submitted. The item expires by DynamoDB TTL as well, and every read ignores
 * locks whose time is up, so an expired lock never blocks, even before TTL removes it.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { createHash } from "node:crypto";
import type { Store } from "./client.js";
import { getCollection, type CollectionRef, type CollectionRecord } from "./collections.js";
import { ParentMissing, StoreError } from "./errors.js";
import { collectionKey } from "./keys.js";
import { queryAll, type Item } from "./query.js";
import { TTL_ATTRIBUTE } from "./table.js";
import { RETRY, withRetries } from "./transact.js";
import {
  absent,
  allOf,
  anyOf,
  equals,
  greaterThan,
  lacks,
  lessThan,
  pathEquals,
  WriteTx,
  type Cond,
  type Expr,
  type Guard,
} from "./tx.js";

export type LockScope = "exclusive" | "shared";
export type LockDepth = "0" | "infinity";

export interface LockRecord {
  token: string;
  /** The locked resource's path (RFC 4918 §14.12 lockroot). */
  root: string;
  scope: LockScope;
  depth: LockDepth;
  /** The client's DAV:owner element, as XML. */
  owner?: string;
  principal: string;
  /** Seconds the lock was granted for. */
  timeout: number;
  /** When it ends (epoch milliseconds). */
  expires: number;
}

/** A lock conflicts with what the client asked (RFC 4918 §9.10.6 no-conflicting-lock). */
export class LockConflict extends StoreError {
  constructor(readonly root: string) {
    super(`a lock on ${root} conflicts`);
  }
}

/** The lock to refresh or remove is not on this path (RFC 4918 §9.11.1 lock-token-matches-request-uri). */
export class LockNotFound extends StoreError {}

const pk = (owner: string) => ({ S: `LOCKS#${owner}` });
/** Sort keys hold 1,024 bytes: a longer path is keyed by its first bytes and its hash (its prefix still sorts below its collection's). */
const KEY_BYTES = 700;
function truncateBytes(s: string, max: number): string {
  const b = Buffer.from(s);
  if (b.length <= max) return s;
  return b
    .subarray(0, max)
    .toString("utf8")
    .replace(/\uFFFD+$/, "");
}
const skOf = (path: string) =>
  Buffer.byteLength(path) <= KEY_BYTES + 100
    ? path
    : `${truncateBytes(path, KEY_BYTES)}\u0001${createHash("sha256").update(path).digest("base64url")}`;
const lockKey = (owner: string, path: string) => ({ pk: pk(owner), sk: { S: skOf(path) } });
/** A path's item: its key, and the path itself (the key may be a hash). */
const pathItem = (owner: string, path: string) => ({ ...lockKey(owner, path), path: { S: path } });
const pathOfItem = (item: Item) => item.path?.S ?? item.sk.S!;

function locksOf(item: Item | undefined, now: number): LockRecord[] {
  const m = item?.locks?.M ?? {};
  return Object.entries(m)
    .map(([token, v]) => ({
      token,
      root: pathOfItem(item!),
      scope: v.M!.scope.S as LockScope,
      depth: v.M!.depth.S as LockDepth,
      owner: v.M!.owner?.S,
      principal: v.M!.principal.S!,
      timeout: Number(v.M!.timeout.N),
      expires: Number(v.M!.expires.N),
    }))
    .filter((l) => l.expires > now);
}

async function readItem(store: Store, owner: string, path: string): Promise<Item | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: lockKey(owner, path), ConsistentRead: true }),
  );
  return Item;
}

/** The active locks on one path. */
export async function locksAt(store: Store, owner: string, path: string): Promise<LockRecord[]> {
  return locksOf(await readItem(store, owner, path), Date.now());
}

/** The paths below a collection that hold active locks (a collection's DELETE or MOVE must honour them). */
export async function lockedPathsBelow(store: Store, owner: string, prefix: string): Promise<string[]> {
  return [...(await locksBelow(store, owner, prefix)).keys()];
}

/** Every active lock in an owner's space (one Query: a user holds few locks). */
export async function allLocks(store: Store, owner: string): Promise<LockRecord[]> {
  return [...(await locksBelow(store, owner, "")).values()].flat();
}

/** The active locks on paths below `prefix` (a collection's members), for a depth-infinity LOCK. */
async function locksBelow(store: Store, owner: string, prefix: string): Promise<Map<string, LockRecord[]>> {
  const items = await queryAll(
    store,
    {
      ...(prefix
        ? {
            KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues: { ":p": pk(owner), ":s": { S: truncateBytes(prefix, KEY_BYTES) } },
          }
        : { KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": pk(owner) } }),
      ConsistentRead: true,
    },
    (item) => item,
  );
  const out = new Map<string, LockRecord[]>();
  for (const item of items) {
    const path = pathOfItem(item);
    if (prefix && (path === prefix || !path.startsWith(prefix))) continue;
    const locks = locksOf(item, Date.now());
    if (locks.length) out.set(path, locks);
  }
  return out;
}

/** The item for a path's locks, with the latest expiry of each sort the conditions test. */
function lockItem(owner: string, path: string, locks: LockRecord[], version: number): Item {
  const max = (ls: LockRecord[]) => String(Math.max(0, ...ls.map((l) => l.expires)));
  const deep = locks.filter((l) => l.depth === "infinity");
  return {
    ...pathItem(owner, path),
    version: { N: String(version) },
    locks: {
      M: Object.fromEntries(
        locks.map((l) => [
          l.token,
          {
            M: {
              scope: { S: l.scope },
              depth: { S: l.depth },
              deep: { BOOL: l.depth === "infinity" },
              principal: { S: l.principal },
              timeout: { N: String(l.timeout) },
              expires: { N: String(l.expires) },
              ...(l.owner !== undefined ? { owner: { S: l.owner } } : {}),
            },
          },
        ]),
      ),
    },
    expAny: { N: max(locks) },
    expExcl: { N: max(locks.filter((l) => l.scope === "exclusive")) },
    expDeep: { N: max(deep) },
    expDeepExcl: { N: max(deep.filter((l) => l.scope === "exclusive")) },
    // DynamoDB TTL (seconds) removes the item some time after its last lock ends.
    [TTL_ATTRIBUTE]: {
      N: String(Math.ceil(Math.max(Date.now(), ...locks.map((l) => l.expires)) / 1000) + 60),
    },
  };
}

/** Advance a path's version (an ancestor's, by a LOCK below it), creating its item without locks if missing. */
function touch(path: string, now: number) {
  return (e: Expr) => {
    const zero = e.value({ N: "0" });
    const keep = (attr: string) => `${e.name(attr)} = if_not_exists(${e.name(attr)}, ${zero})`;
    return `SET ${e.name("version")} = if_not_exists(${e.name("version")}, ${zero}) + ${e.value({ N: "1" })}, ${e.name("path")} = ${e.value({ S: path })}, ${["expAny", "expExcl", "expDeep", "expDeepExcl"].map(keep).join(", ")}, ${e.name(TTL_ATTRIBUTE)} = if_not_exists(${e.name(TTL_ATTRIBUTE)}, ${e.value({ N: String(Math.ceil(now / 1000) + MAX_LOCK_SECONDS) })})`;
  };
}

/** The longest a lock lasts (the LOCK method bounds Timeout by it): an item only touched expires after it. */
export const MAX_LOCK_SECONDS = 7 * 24 * 3600;
const MAX_SHARED_LOCKS = 20;

/** Nothing at this path's lock item that is still running under `attr`. */
const idle = (attr: string, now: number): Cond => anyOf(absent, lessThan(attr, { N: String(now) }));

/** One of the submitted tokens names a running lock here (`deep`: of depth infinity). */
const submitted = (tokens: readonly string[], now: number, deep: boolean): Cond[] =>
  tokens.map((t) =>
    allOf(
      greaterThan(["locks", t, "expires"], { N: String(now) }),
      ...(deep ? [pathEquals(["locks", t, "deep"], { BOOL: true })] : []),
    ),
  );

/** What a write asks of the locks on one path above or at what it changes. */
export interface LockedPath {
  path: string;
  /** `self`: the resource written, or a collection whose membership changes: any lock there counts. */
  scope: "self" | "below";
  /**
   * The write removes the resource: its locks go with it in the same transaction (RFC 4918 §7: a
   * lock whose root becomes unmapped is deleted by that request), on the same condition.
   */
  removes?: boolean;
  /** Only a lock rooted in the member's own calendar or address book can be here (tx.ts, Guard.inCollection). */
  inCollection?: boolean;
}

/**
 * The guard of a write: for each path, a condition that the locks there do not forbid it. A lock on
 * the resource (or, for a member created or removed, on its collection) blocks unless one of the
 * client's tokens names it; a depth-infinity lock above blocks unless its token was submitted.
 */
export function lockGuards(
  owner: string,
  paths: readonly LockedPath[],
  tokens: readonly string[],
  failure: (root: string) => Error,
): Guard[] {
  const now = Date.now();
  return paths.map(({ path, scope, removes, inCollection }) => {
    const attr = scope === "self" ? "expAny" : "expDeep";
    const allowed = anyOf(idle(attr, now), ...submitted(tokens, now, scope === "below"));
    return {
      part: `lock:${path}`,
      // Removing the lock item implies checking it; any lock counting implies deep ones counting.
      rank: removes ? 2 : scope === "self" ? 1 : 0,
      add: (tx) =>
        removes
          ? tx.delete(`lock:${path}`, lockKey(owner, path), allowed)
          : tx.check(`lock:${path}`, lockKey(owner, path), allowed),
      failure: () => failure(path),
      inCollection,
    };
  });
}

/**
 * Raise, in a LOCK's transaction, the `lockedUntil` of the calendar or address book the lock is
 * rooted in (collections.ts), to the lock's expiry: conditioned on the collection's id and on the
 * value read, so a concurrent LOCK, or the collection deleted or replaced meanwhile, retries.
 */
async function raiseLockedUntil(
  store: Store,
  tx: WriteTx,
  ref: CollectionRef,
  expires: number,
  refresh = false,
) {
  const col: CollectionRecord | undefined = await getCollection(store, ref);
  // A lock refreshed on a path whose collection went away guards no member write: nothing to raise.
  if (!col && refresh) return;
  if (!col) throw new ParentMissing("the collection no longer exists");
  const until = Math.max(col.lockedUntil ?? 0, expires);
  tx.update(
    "collection",
    collectionKey(col.kind, col.owner, col.name),
    (e) => `SET ${e.name("lockedUntil")} = ${e.value({ N: String(until) })}`,
    allOf(
      equals("id", { S: col.id }),
      col.lockedUntil === undefined
        ? lacks("lockedUntil")
        : equals("lockedUntil", { N: String(col.lockedUntil) }),
    ),
  );
}

export interface NewLock {
  owner: string;
  path: string;
  scope: LockScope;
  depth: LockDepth;
  ownerXml?: string;
  principal: string;
  timeout: number;
  /** Paths of the collections above `path` that a depth-infinity lock there would cover. */
  ancestors: readonly string[];
  /** Whether `path` is a collection (a depth-infinity lock then covers the locks below it). */
  collection: boolean;
  /** The calendar or address book the lock is rooted in (the locked member's, or the locked one). */
  within?: CollectionRef;
}

/**
 * Grant a lock, in one transaction: this path's lock item rewritten (condition: the version read,
 * and the read state had no conflicting lock), every ancestor's item checked for a conflicting
 * depth-infinity lock, and for a depth-infinity lock on a collection every lock below it checked.
 * A LOCK racing another LOCK or a write on an overlapping path: DynamoDB lets one commit.
 */
export async function createLock(store: Store, input: NewLock, token: string): Promise<LockRecord> {
  return withRetries(async () => {
    const now = Date.now();
    const item = await readItem(store, input.owner, input.path);
    const current = locksOf(item, now);
    const conflicts = (l: LockRecord) => input.scope === "exclusive" || l.scope === "exclusive";
    if (current.some(conflicts)) throw new LockConflict(input.path);
    // Shared locks on one path share an item: their number is bounded so it stays far below 400 KB.
    if (current.length >= MAX_SHARED_LOCKS) throw new LockConflict(input.path);
    const lock: LockRecord = {
      token,
      root: input.path,
      scope: input.scope,
      depth: input.depth,
      owner: input.ownerXml,
      principal: input.principal,
      timeout: input.timeout,
      expires: now + input.timeout * 1000,
    };
    const version = Number(item?.version?.N ?? 0);
    const tx = new WriteTx(store).put(
      "lock",
      lockItem(input.owner, input.path, [...current, lock], version + 1),
      item ? equals("version", { N: String(version) }) : absent,
    );
    // Each ancestor's item is written too (its version advanced, created if missing), on the
    // condition that it holds no conflicting depth-infinity lock: a LOCK of the ancestor racing this
    // one then fails on its own version condition and, read again, sees this lock below it.
    const blocking = input.scope === "exclusive" ? "expDeep" : "expDeepExcl";
    input.ancestors.forEach((a, i) =>
      tx.update(`ancestor:${i}`, lockKey(input.owner, a), touch(a, now), idle(blocking, now)),
    );
    if (input.within) await raiseLockedUntil(store, tx, input.within, lock.expires);
    if (input.collection && input.depth === "infinity") {
      // What is below is read, and this path's version (which every LOCK below advances) pins it.
      const below = await locksBelow(store, input.owner, input.path);
      for (const [path, locks] of below) if (locks.some(conflicts)) throw new LockConflict(path);
    }
    const failed = await tx.commit();
    if (!failed) return lock;
    const ancestor = input.ancestors.find((_, i) => failed.has(`ancestor:${i}`));
    if (ancestor) throw new LockConflict(ancestor);
    return RETRY;
  });
}

/** Change a lock on `path` (refresh it, or remove it with `update` returning undefined). */
async function changeLock(
  store: Store,
  owner: string,
  path: string,
  token: string,
  update: (l: LockRecord) => LockRecord | undefined,
  within?: CollectionRef,
): Promise<LockRecord | undefined> {
  return withRetries(async () => {
    const item = await readItem(store, owner, path);
    const locks = locksOf(item, Date.now());
    const lock = locks.find((l) => l.token === token);
    if (!item || !lock) throw new LockNotFound(`no lock ${token} on ${path}`);
    const changed = update(lock);
    const rest = locks.filter((l) => l.token !== token);
    const next = changed ? [...rest, changed] : rest;
    const version = Number(item.version?.N ?? 0);
    const tx = new WriteTx(store);
    const same = equals("version", { N: String(version) });
    if (next.length) tx.put("lock", lockItem(owner, path, next, version + 1), same);
    else tx.delete("lock", lockKey(owner, path), same);
    // A refresh extends the lock: its collection's lockedUntil follows (a removal leaves it be).
    if (changed && within) await raiseLockedUntil(store, tx, within, changed.expires, true);
    const failed = await tx.commit();
    return failed ? RETRY : changed;
  });
}

export async function refreshLock(
  store: Store,
  owner: string,
  path: string,
  token: string,
  timeout: number,
  within?: CollectionRef,
): Promise<LockRecord> {
  return (await changeLock(
    store,
    owner,
    path,
    token,
    (l) => ({
      ...l,
      timeout,
      expires: Date.now() + timeout * 1000,
    }),
    within,
  ))!;
}

export async function removeLock(store: Store, owner: string, path: string, token: string): Promise<void> {
  await changeLock(store, owner, path, token, () => undefined);
}

/** The active locks covering a resource: its own, and the depth-infinity locks of the collections above it. */
export async function locksCovering(
  store: Store,
  owner: string,
  path: string,
  ancestors: readonly string[],
  /** Count every lock of the nearest ancestor, depth 0 too (its membership is what a member's write changes). */
  parentAll = false,
): Promise<LockRecord[]> {
  const own = await locksAt(store, owner, path);
  const above = await Promise.all(ancestors.map((a) => locksAt(store, owner, a)));
  return [
    ...own,
    ...above.flatMap((ls, i) => (parentAll && i === 0 ? ls : ls.filter((l) => l.depth === "infinity"))),
  ];
}
