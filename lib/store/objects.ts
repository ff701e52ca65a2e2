/**
 * Calendar objects and vCards: one item each in their collection's partition, with a UID
 * reservation item beside it. Every write is one TransactWriteItems that also advances the
 * collection's sequence and appends the change-log entry. The client's preconditions (If-Match,
 * If-None-Match, the If header) are evaluated against the member as the round read it, and the
 * transaction's condition demands exactly that state (the ETag read, or absence), so a race is
 * lost in DynamoDB, never in code; UID uniqueness is the reservation's condition.
 */
import { BatchGetItemCommand, GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { createHash } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { Store } from "./client.js";
import {
  collectionFromItem,
  recordOf,
  fitsSortKey,
  getCollection,
  recordChanges,
  sequenceFailure,
  type CollectionRecord,
  type CollectionRef,
} from "./collections.js";
import {
  AlreadyExists,
  checkQuota,
  ConcurrentModification,
  EtagMismatch,
  ScheduleTagMismatch,
  NotFound,
  ParentMissing,
  ReadOnlyShare,
  UidChanged,
  UidConflict,
} from "./errors.js";
import { noFolderPart } from "./folders.js";
import { RoundExpectation, satisfies, type Expectation } from "./expectation.js";
import { collectionKey, colPk, objectKey, uidKey } from "./keys.js";
import { queryAll, queryPages, type Item } from "./query.js";
import { backoff, RETRY, RETRY_NOW, withRetries } from "./transact.js";
import {
  absent,
  allOf,
  anyOf,
  distinctGuards,
  equals,
  guardFailure,
  TooManyParts,
  WriteTx,
  type Guard,
  type TxFailures,
} from "./tx.js";

export interface ObjectRecord {
  name: string;
  etag: string;
  uid: string;
  contentType: string;
  size: number;
  created: string;
  modified: string;
  /** Component type (VEVENT, VTODO, …) or VCARD. */
  comp: string;
  /** UTC span of all instances (`YYYYMMDDTHHMMSSZ`), for time-range pre-filtering. */
  spanStart?: string;
  spanEnd?: string;
  /** Dead properties (a file's, set by PROPPATCH): Clark name → inner XML. */
  dead?: Record<string, string>;
  /** A scheduling object's schedule tag (RFC 6638 §3.2.10). */
  scheduleTag?: string;
  body?: Buffer;
}

/** Strong ETag from the body's bytes: a byte-identical body always has the same ETag. */
export function etagFor(body: Buffer): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

export function objectFromItem(item: Item): ObjectRecord {
  return {
    name: item.name.S!,
    etag: item.etag.S!,
    uid: item.uid.S!,
    contentType: item.contentType.S!,
    size: Number(item.size.N),
    created: item.created.S!,
    modified: item.modified.S!,
    comp: item.comp.S!,
    spanStart: item.spanStart?.S,
    spanEnd: item.spanEnd?.S,
    dead: item.dead?.M
      ? Object.fromEntries(Object.entries(item.dead.M).map(([k, v]) => [k, v.S ?? ""]))
      : undefined,
    scheduleTag: item.stag?.S,
    body: item.body?.B ? bodyOf(item.body.B, item.enc?.S) : undefined,
  };
}

/**
 * Bodies are stored deflated when that makes them smaller (iCalendar and vCard text shrinks to a
 * third or less): DynamoDB charges reads and writes by item size, so a 2 KB event costs 2 write
 * units in a transaction instead of 6, and a listing's Query, which is charged for whole items
 * even when it projects a few attributes, reads a third of the units. Items written before this,
 * or whose body would not shrink, hold it as it is.
 */
function storedBody(body: Buffer): { body: AttributeValue; enc?: AttributeValue } {
  if (body.length < 128) return { body: { B: body } };
  const z = deflateRawSync(body);
  return z.length < body.length ? { body: { B: z }, enc: { S: "deflate" } } : { body: { B: body } };
}
function bodyOf(stored: Uint8Array, enc: string | undefined): Buffer {
  return enc === "deflate" ? inflateRawSync(stored) : Buffer.from(stored);
}

export async function getObject(
  store: Store,
  colId: string,
  name: string,
  withBody = true,
): Promise<ObjectRecord | undefined> {
  if (!fitsSortKey(`O#${name}`)) return undefined;
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: objectKey(colId, name),
      ConsistentRead: true,
      ...(withBody ? {} : projection()),
    }),
  );
  return Item ? objectFromItem(Item) : undefined;
}

/**
 * A collection and one of its members in one round trip, for a warm request: given the id the
 * collection had when last seen (`knownId`), both items are read in one BatchGetItem; the
 * collection read with it shows whether that id still holds (a collection deleted or re-created
 * under the same name has another id), and only then is the member read again under the new id.
 */
export async function getCollectionAndObject(
  store: Store,
  ref: CollectionRef,
  name: string,
  withBody: boolean,
  knownId: string | undefined,
): Promise<{ col?: CollectionRecord; obj?: ObjectRecord }> {
  if (knownId === undefined || !fitsSortKey(`O#${name}`) || !fitsSortKey(`C#${ref.name}`)) {
    const col = await getCollection(store, ref);
    return { col, obj: col && (await getObject(store, col.id, name, withBody)) };
  }
  const colKey = collectionKey(ref.kind, ref.owner, ref.name);
  let keys: Item[] = [colKey, objectKey(knownId, name)];
  const items: Item[] = [];
  for (let attempt = 0; keys.length; attempt++) {
    // No projection: the collection needs all of its item (a projection applies to every key).
    const res = await store.client.send(
      new BatchGetItemCommand({ RequestItems: { [store.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    items.push(...(res.Responses?.[store.tableName] ?? []));
    keys = res.UnprocessedKeys?.[store.tableName]?.Keys ?? [];
    if (keys.length) await backoff(attempt);
  }
  const colItem = items.find((i) => i.sk.S === colKey.sk.S && i.pk.S === colKey.pk.S);
  if (!colItem) return {};
  // A sharee's view: the owner's collection is read after it (the member is keyed by its id, known).
  const col = await recordOf(store, colItem);
  if (!col) return {};
  if (col.id !== knownId) return { col, obj: await getObject(store, col.id, name, withBody) };
  const objItem = items.find((i) => i !== colItem);
  if (!objItem) return { col };
  const obj = objectFromItem(objItem);
  if (!withBody) delete obj.body;
  return { col, obj };
}

const META_ATTRS = [
  "#n",
  "etag",
  "uid",
  "contentType",
  "#s",
  "created",
  "modified",
  "comp",
  "spanStart",
  "spanEnd",
  "dead",
  "stag",
];
function projection(withBody = false) {
  return {
    ProjectionExpression: [...META_ATTRS, ...(withBody ? ["body", "enc"] : [])].join(", "),
    ExpressionAttributeNames: { "#n": "name", "#s": "size" },
  };
}

/** All members of a collection, across pages (DynamoDB pages are 1 MB at most). */
export function listObjects(store: Store, colId: string, withBody = false): Promise<ObjectRecord[]> {
  return queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :o)",
      ExpressionAttributeValues: { ":p": { S: colPk(colId) }, ":o": { S: "O#" } },
      ...projection(withBody),
      ConsistentRead: true,
    },
    objectFromItem,
  );
}

/**
 * The members of a collection with their bodies, a page at a time (`pageSize` members), for an
 * export that never holds the whole collection.
 */
export async function* memberPages(
  store: Store,
  colId: string,
  pageSize = 100,
): AsyncGenerator<ObjectRecord[]> {
  for await (const items of queryPages(store, {
    KeyConditionExpression: "pk = :p AND begins_with(sk, :o)",
    ExpressionAttributeValues: { ":p": { S: colPk(colId) }, ":o": { S: "O#" } },
    ...projection(true),
    ConsistentRead: true,
    Limit: pageSize,
  })) {
    yield items.map(objectFromItem);
  }
}

/** Read many members by name with BatchGetItem (100 keys a call), retrying unprocessed keys. */
export async function getObjects(
  store: Store,
  colId: string,
  names: string[],
  withBody = true,
): Promise<Map<string, ObjectRecord>> {
  const found = new Map<string, ObjectRecord>();
  const unique = [...new Set(names)].filter((n) => fitsSortKey(`O#${n}`));
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Item[] = unique.slice(i, i + 100).map((n) => objectKey(colId, n));
    for (let attempt = 0; keys.length; attempt++) {
      const p = projection(withBody);
      const res = await store.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [store.tableName]: {
              Keys: keys,
              ConsistentRead: true,
              ProjectionExpression: p.ProjectionExpression,
              ExpressionAttributeNames: p.ExpressionAttributeNames,
            },
          },
        }),
      );
      for (const item of res.Responses?.[store.tableName] ?? []) {
        const rec = objectFromItem(item);
        found.set(rec.name, rec);
      }
      keys = res.UnprocessedKeys?.[store.tableName]?.Keys ?? [];
      if (keys.length) await backoff(attempt);
    }
  }
  return found;
}

export { satisfies, type Expectation } from "./expectation.js";

export interface NewObject {
  name: string;
  body: Buffer;
  contentType: string;
  uid: string;
  comp: string;
  spanStart?: string;
  spanEnd?: string;
  dead?: Record<string, string>;
  scheduleTag?: string;
}

const deadAttr = (dead: Record<string, string>): AttributeValue => ({
  M: Object.fromEntries(Object.entries(dead).map(([k, v]) => [k, { S: v }])),
});

/** The item that stores a member. */
export function objectItem(
  colId: string,
  input: NewObject,
  etag: string,
  created: string,
  modified: string,
): Item {
  return {
    ...objectKey(colId, input.name),
    name: { S: input.name },
    etag: { S: etag },
    uid: { S: input.uid },
    contentType: { S: input.contentType },
    size: { N: String(input.body.length) },
    created: { S: created },
    modified: { S: modified },
    comp: { S: input.comp },
    ...storedBody(input.body),
    ...(input.dead && Object.keys(input.dead).length ? { dead: deadAttr(input.dead) } : {}),
    ...(input.scheduleTag ? { stag: { S: input.scheduleTag } } : {}),
    ...(input.spanStart && input.spanEnd
      ? {
          spanStart: { S: input.spanStart },
          spanEnd: { S: input.spanEnd },
          gsi1pk: { S: colPk(colId) },
          gsi1sk: { S: input.spanStart },
        }
      : {}),
  };
}

export interface PutResult {
  created: boolean;
  etag: string;
}

export interface WriteOptions {
  /** The collection as the caller read it (saves a read in the first round). */
  first?: CollectionRecord;
  /** The member as the caller read it in the first round: null when it was absent. */
  existing?: ObjectRecord | null;
  /** Conditions other modules add to the write (locks, tasks); their failures win over a lost race. */
  guards?: readonly Guard[];
  /** Bytes the collection may hold (RFC 4331); a write past it fails with QuotaExceeded. */
  quota?: number;
  /** The collection must be this one (an import's): another of the same name is ParentMissing. */
  collectionId?: string;
}

/**
 * Create or replace a member, in one transaction of named parts: `sequence` (the collection's
 * advance), `object` (condition: unchanged since read, and the client's expectation), `uid` (the
 * reservation: free or ours), `old-uid` (the release of a changed UID's old reservation), `change`
 * (the log entry), and any guards.
 */
export async function putObject(
  store: Store,
  ref: CollectionRef,
  input: NewObject,
  expect: Expectation,
  options: WriteOptions = {},
): Promise<PutResult> {
  const etag = etagFor(input.body);
  return memberRounds(store, ref, expect, options, async (round, col, e) => {
    // With If-None-Match: * there is nothing to learn from a read: the condition demands absence.
    const existing = await round.member(e.ifNoneMatch === "*" ? undefined : input.name);
    // The client's preconditions hold for the state this round read, and the write's condition pins
    // that state: an ETag list of any length costs one comparison, not a clause per tag.
    if (!satisfies(e, existing?.etag)) throw new EtagMismatch(existing?.etag);
    checkScheduleTag(e, existing?.scheduleTag);
    // The condition below refuses it too; a consistent read that already shows it spares the write.
    if (existing && existing.uid !== input.uid) throw new UidChanged(existing.uid, input.name);
    checkQuota(col, input.body.length - (existing?.size ?? 0), options.quota);
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    recordChanges(tx, col, [{ op: "put", name: input.name }], {
      now,
      bytesDelta: input.body.length - (existing?.size ?? 0),
      guards: round.guards,
    });
    if (!existing) noFolderPart(tx, col, input.name);
    tx.put(
      "object",
      // A file replaced by a PUT keeps its dead properties (its body changes, not what was said of it).
      objectItem(col.id, { dead: existing?.dead, ...input }, etag, existing?.created ?? now, now),
      // Unchanged since read, and keeping its UID (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1).
      existing ? allOf(equals("etag", { S: existing.etag }), equals("uid", { S: input.uid })) : absent,
    );
    tx.put(
      "uid",
      { ...uidKey(col.id, input.uid), name: { S: input.name } },
      anyOf(absent, equals("name", { S: input.name })),
    );
    const failed = await tx.commit();
    if (!failed) return { created: !existing, etag };
    return round.lost(failed, e, () => {
      const old = failed.old("object");
      if (old?.uid?.S !== undefined && old.uid.S !== input.uid) throw new UidChanged(old.uid.S, input.name);
      if (failed.has("uid"))
        throw new UidConflict(input.uid, failed.old("uid")?.name?.S ?? "another resource");
    });
  });
}

/**
 * Create several members in one transaction (an import's fast path): one advance of the sequence,
 * and for each member its item (condition: absent), its UID reservation (free) and its log entry,
 * with `guardsFor` each member's guards (shared ones, such as the collection's, merge into one part).
 * All or nothing: false when any condition failed or the collection moved on since `col` was read;
 * the caller then writes the members one by one, which answers each one's clash precisely.
 */
export async function createObjects(
  store: Store,
  col: CollectionRecord,
  inputs: readonly NewObject[],
  guardsFor: (name: string) => readonly Guard[],
  quota?: number,
): Promise<{ etags: string[]; col: CollectionRecord } | false> {
  const bytes = inputs.reduce((n, i) => n + i.body.length, 0);
  // Past the quota: the single writes say which member it refuses.
  if (quota !== undefined && col.bytes + bytes > quota) return false;
  const now = new Date().toISOString();
  const tx = new WriteTx(store);
  const etags = inputs.map((input) => etagFor(input.body));
  try {
    recordChanges(
      tx,
      col,
      inputs.map((i) => ({ op: "put", name: i.name })),
      { now, bytesDelta: bytes, guards: distinctGuards(inputs.flatMap((i) => guardsFor(i.name))) },
    );
    inputs.forEach((input, i) => {
      noFolderPart(tx, col, input.name, `folder:${i}`);
      tx.put(`object:${i}`, objectItem(col.id, input, etags[i], now, now), absent);
      tx.put(`uid:${i}`, { ...uidKey(col.id, input.uid), name: { S: input.name } }, absent);
    });
  } catch (err) {
    // More parts than one transaction holds: one by one, each member has room.
    if (err instanceof TooManyParts) return false;
    throw err;
  }
  try {
    if (await tx.commit()) return false;
  } catch (err) {
    // Concurrent writers kept winning: the single writes, each with its own retries, take over.
    if (err instanceof ConcurrentModification) return false;
    throw err;
  }
  return { etags, col: { ...col, seq: col.seq + inputs.length, bytes: col.bytes + bytes, modified: now } };
}

/**
 * The client's conditions against a member as a caller read it (undefined: absent), before any
 * other check: RFC 9110 §13.2.2 answers 412 before the content is considered. The write checks
 * them again on what each round reads, and its condition pins that.
 */
export function checkExpectation(
  e: Expectation,
  existing: Pick<ObjectRecord, "etag" | "scheduleTag"> | undefined,
) {
  if (!satisfies(e, existing?.etag)) throw new EtagMismatch(existing?.etag);
  checkScheduleTag(e, existing?.scheduleTag);
}

/** If-Schedule-Tag-Match against the member's tag (none, or absent member: a mismatch). */
function checkScheduleTag(e: Expectation, current: string | undefined): void {
  if (e.scheduleTag !== undefined && e.scheduleTag !== current) throw new ScheduleTagMismatch(current);
}

/** Release the UID reservation `name` holds. */
function releaseUid(tx: WriteTx, colId: string, uid: string, name: string): void {
  tx.delete("old-uid", uidKey(colId, uid), equals("name", { S: name }));
}

/** Delete a member, release its UID reservation and log the deletion, all in one transaction. */
export async function deleteObject(
  store: Store,
  ref: CollectionRef,
  name: string,
  expect: Expectation,
  options: WriteOptions = {},
): Promise<void> {
  return memberRounds(store, ref, expect, options, async (round, col, e) => {
    const existing = await round.present(name, e);
    checkScheduleTag(e, existing.scheduleTag);
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    recordChanges(tx, col, [{ op: "delete", name }], {
      now,
      bytesDelta: -existing.size,
      guards: round.guards,
    });
    tx.delete("object", objectKey(col.id, name), equals("etag", { S: existing.etag }));
    releaseUid(tx, col.id, existing.uid, name);
    const failed = await tx.commit();
    if (!failed) return;
    return round.lost(failed, e);
  });
}

/**
 * A member write's optimistic loop: each round gets the collection as it stands and the client's
 * conditions as they hold for that round (RoundExpectation), and retries when it lost a race.
 */
function memberRounds<T>(
  store: Store,
  ref: CollectionRef,
  expect: Expectation,
  options: WriteOptions,
  step: (
    round: Rounds,
    col: CollectionRecord,
    e: Expectation,
  ) => Promise<T | typeof RETRY | typeof RETRY_NOW>,
): Promise<T> {
  const round = new Rounds(store, ref, options);
  const rounds = new RoundExpectation(expect);
  return withRetries(async () => {
    const col = await round.collection();
    return step(round, col, await rounds.next());
  });
}

/**
 * The rounds of a member write's optimistic loop: the first uses what the caller read, later ones
 * read afresh; a lost round is decoded part by part, in the order clients need the answer.
 */
class Rounds {
  private col: CollectionRecord | undefined;
  private known: ObjectRecord | null | undefined;
  readonly guards: readonly Guard[];

  constructor(
    private readonly store: Store,
    private readonly ref: CollectionRef,
    options: WriteOptions,
  ) {
    this.col = options.first;
    this.known = options.existing;
    this.guards = options.guards ?? [];
    this.collectionId = options.collectionId;
  }

  private readonly collectionId: string | undefined;

  async collection(): Promise<CollectionRecord> {
    this.col ??= await getCollection(this.store, this.ref);
    if (!this.col || (this.collectionId !== undefined && this.col.id !== this.collectionId)) {
      throw new ParentMissing("the collection does not exist");
    }
    // The grant was made read-only since the request's privileges were checked.
    if (this.col.view && this.col.view.access !== "read-write") throw new ReadOnlyShare("read-only");
    return this.col;
  }

  /** What the last round read of the member (null: absent), kept when only the sequence beat it. */
  private read: ObjectRecord | null | undefined;

  /** The member `name` as it stands (undefined: absent); no name: not worth a read. */
  async member(name: string | undefined): Promise<ObjectRecord | undefined> {
    const known = this.known;
    this.known = undefined;
    const found =
      known !== undefined
        ? (known ?? undefined)
        : name === undefined
          ? undefined
          : await getObject(this.store, this.col!.id, name, false);
    this.read = name === undefined ? undefined : (found ?? null);
    return found;
  }

  /** The member `name`, which must exist (else 404, or 412 under If-Match) and meet the conditions `e`. */
  async present(name: string, e: Expectation): Promise<ObjectRecord> {
    const existing = await this.member(name);
    if (!existing) {
      if (e.ifMatch) throw new EtagMismatch(undefined);
      throw new NotFound(`no resource ${name}`);
    }
    if (!satisfies(e, existing.etag)) throw new EtagMismatch(existing.etag);
    return existing;
  }

  /**
   * What a cancelled round means: the client's own precondition first (RFC 9110 §13.2.2: 412
   * before the content is considered), then a guard's error, then `conflict` (a UID clash), then a
   * lost race on the sequence (retry, or ParentMissing when the collection went away).
   */
  lost(failed: TxFailures, expect: Expectation, conflict?: () => void): typeof RETRY | typeof RETRY_NOW {
    const stale = this.col!;
    this.col = undefined;
    const read = this.read;
    this.read = undefined;
    if (failed.has("object")) {
      const current = failed.old("object")?.etag?.S;
      if (!satisfies(expect, current)) throw new EtagMismatch(current);
      checkScheduleTag(expect, failed.old("object")?.stag?.S);
    }
    const guarded = guardFailure(failed, this.guards);
    if (guarded) throw guarded;
    if (failed.has("folder")) throw new AlreadyExists("a folder of this name exists");
    conflict?.();
    if (failed.has("sequence")) {
      sequenceFailure(stale, failed.old("sequence"));
      // Only the sequence moved: the cancelled transaction returned the collection as the winner
      // left it, and the member's own condition held, so the member is as this round read it.
      // The next round starts from both, at once (one transaction instead of two reads and a wait).
      // (The log entry at the next sequence number is the winner's too: its part fails with it.)
      // (Through a view the grant may be what failed: that round reads the view again.)
      if (!stale.view && failed.parts.every((p) => p === "sequence" || p === "change")) {
        this.col = collectionFromItem(failed.old("sequence")!);
        this.known = read;
        return RETRY_NOW;
      }
    }
    return RETRY;
  }
}

/**
 * Change a member's dead properties (PROPPATCH on a file): the member unchanged since read (its
 * ETag, and the client's expectation), the collection's sequence advanced and the change logged,
 * in one transaction. The body and its ETag stay as they are.
 */
export async function updateObjectProps(
  store: Store,
  ref: CollectionRef,
  name: string,
  change: { setDead: Record<string, string>; removeDead: string[] },
  expect: Expectation,
  options: WriteOptions = {},
): Promise<void> {
  return memberRounds(store, ref, expect, options, async (round, col, e) => {
    const existing = await round.present(name, e);
    const dead = { ...(existing.dead ?? {}), ...change.setDead };
    for (const p of change.removeDead) delete dead[p];
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    recordChanges(tx, col, [{ op: "put", name }], { now, guards: round.guards });
    tx.update(
      "object",
      objectKey(col.id, name),
      (x) =>
        Object.keys(dead).length
          ? `SET ${x.name("dead")} = ${x.value(deadAttr(dead))}, ${x.name("modified")} = ${x.value({ S: now })}`
          : `SET ${x.name("modified")} = ${x.value({ S: now })} REMOVE ${x.name("dead")}`,
      equals("etag", { S: existing.etag }),
    );
    const failed = await tx.commit();
    if (!failed) return;
    return round.lost(failed, e);
  });
}
