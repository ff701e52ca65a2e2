/**
 * Collections (calendars, address books): one item each in the owner's home partition, holding the
 * collection's random id, its change sequence number (the sync token / ctag), byte count and
 * properties. Members live in the `COL#<id>` partition (objects.ts).
 */
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ConditionalCheckFailedException,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";
import { AlreadyExists, EtagMismatch, ParentMissing } from "./errors.js";
import { changeKey, collectionKey, colPk, homePk, purgeKey, type CollectionKind } from "./keys.js";
import { failed, RETRY, transact, withRetries, backoff } from "./transact.js";
import type { Store } from "./users.js";
import { ctag } from "../sync/token.js";

export interface CollectionRecord {
  kind: CollectionKind;
  owner: string;
  name: string;
  id: string;
  /** Sequence number of the last change; the sync token and ctag derive from it. */
  seq: number;
  /** Total size of the members' bodies, for quota reporting. */
  bytes: number;
  created: string;
  modified: string;
  /** Live properties the server understands, as plain text (displayname, calendar-timezone, …). */
  props: Record<string, string>;
  /** Dead properties: Clark name → inner XML, returned verbatim. */
  dead: Record<string, string>;
  /** Calendar component types accepted (supported-calendar-component-set). */
  components?: string[];
}

export interface CollectionRef {
  kind: CollectionKind;
  owner: string;
  name: string;
}

const strMap = (m: Record<string, string>): AttributeValue => ({
  M: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { S: v }])),
});
const fromStrMap = (a: AttributeValue | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(a?.M ?? {}).map(([k, v]) => [k, v.S ?? ""]));

export function collectionFromItem(item: Record<string, AttributeValue>): CollectionRecord {
  return {
    kind: item.kind.S as CollectionKind,
    owner: item.owner.S!,
    name: item.name.S!,
    id: item.id.S!,
    seq: Number(item.seq.N),
    bytes: Number(item.bytes?.N ?? 0),
    created: item.created.S!,
    modified: item.modified.S!,
    props: fromStrMap(item.props),
    dead: fromStrMap(item.dead),
    components: item.components?.L?.map((c) => c.S!),
  };
}

export interface NewCollection extends CollectionRef {
  props?: Record<string, string>;
  dead?: Record<string, string>;
  components?: string[];
}

/** Create a collection; the condition on the key makes "must not exist" atomic (AlreadyExists). */
export async function createCollection(store: Store, input: NewCollection): Promise<CollectionRecord> {
  const now = new Date().toISOString();
  const record: CollectionRecord = {
    kind: input.kind,
    owner: input.owner,
    name: input.name,
    id: randomBytes(12).toString("base64url"),
    seq: 0,
    bytes: 0,
    created: now,
    modified: now,
    props: input.props ?? {},
    dead: input.dead ?? {},
    components: input.components,
  };
  try {
    await store.client.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: {
          ...collectionKey(record.kind, record.owner, record.name),
          kind: { S: record.kind },
          owner: { S: record.owner },
          name: { S: record.name },
          id: { S: record.id },
          seq: { N: "0" },
          bytes: { N: "0" },
          created: { S: now },
          modified: { S: now },
          props: strMap(record.props),
          dead: strMap(record.dead),
          ...(record.components ? { components: { L: record.components.map((c) => ({ S: c })) } } : {}),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new AlreadyExists("collection exists");
    throw err;
  }
  return record;
}

/** DynamoDB refuses sort keys over 1,024 bytes: nothing can be stored under a longer one. */
export const MAX_SORT_KEY_BYTES = 1024;
export const fitsSortKey = (sk: string) => Buffer.byteLength(sk) <= MAX_SORT_KEY_BYTES;

export async function getCollection(store: Store, ref: CollectionRef): Promise<CollectionRecord | undefined> {
  if (!fitsSortKey(`C#${ref.name}`)) return undefined;
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: collectionKey(ref.kind, ref.owner, ref.name),
      ConsistentRead: true,
    }),
  );
  return Item ? collectionFromItem(Item) : undefined;
}

export async function listCollections(
  store: Store,
  kind: CollectionKind,
  owner: string,
): Promise<CollectionRecord[]> {
  const out: CollectionRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :c)",
        ExpressionAttributeValues: { ":p": { S: homePk(kind, owner) }, ":c": { S: "C#" } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) out.push(collectionFromItem(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The transaction item that advances a collection's sequence number, conditioned on the number
 * the caller read: every member write carries it, so concurrent writers serialise and each change
 * gets exactly one change-log entry.
 */
export function advanceSequence(
  col: CollectionRecord,
  now: string,
  bytesDelta = 0,
  /** Further attributes to set in the same update (a PROPPATCH's properties). */
  set: Record<string, AttributeValue> = {},
): TransactWriteItem {
  const names = Object.keys(set);
  return {
    Update: {
      TableName: "",
      Key: collectionKey(col.kind, col.owner, col.name),
      UpdateExpression: `SET ${["seq = :next", "modified = :now", ...names.map((n) => `${n} = :set_${n}`)].join(", ")} ADD bytes :delta`,
      ConditionExpression: "seq = :seq AND id = :id",
      ExpressionAttributeValues: {
        ":seq": { N: String(col.seq) },
        ":next": { N: String(col.seq + 1) },
        ":now": { S: now },
        ":id": { S: col.id },
        ":delta": { N: String(bytesDelta) },
        ...Object.fromEntries(names.map((n) => [`:set_${n}`, set[n]])),
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

export type ChangeOp = "put" | "delete" | "props";

export function changeEntry(
  col: CollectionRecord,
  op: ChangeOp,
  name: string,
  now: string,
): TransactWriteItem {
  return {
    Put: {
      TableName: "",
      Item: {
        ...changeKey(col.id, col.seq + 1),
        op: { S: op },
        name: { S: name },
        at: { S: now },
      },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  };
}

/** Fill in the table name on every item (builders leave it empty so they stay store-agnostic). */
export function onTable(store: Store, items: TransactWriteItem[]): TransactWriteItem[] {
  for (const item of items) {
    const op = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
    if (op) op.TableName = store.tableName;
  }
  return items;
}

/**
 * What a failed sequence condition means: the collection is gone (or replaced) → ParentMissing;
 * otherwise another writer got in first → retry with a fresh read.
 */
export function sequenceFailure(
  col: CollectionRecord,
  old: Record<string, AttributeValue> | undefined,
): typeof RETRY {
  if (!old || old.id?.S !== col.id) throw new ParentMissing("the collection no longer exists");
  return RETRY;
}

export interface PropertyChange {
  setProps?: Record<string, string>;
  removeProps?: string[];
  setDead?: Record<string, string>;
  removeDead?: string[];
}

/** Apply a PROPPATCH atomically, advancing the sequence and logging the change in one transaction. */
export async function updateCollectionProps(
  store: Store,
  ref: CollectionRef,
  change: PropertyChange,
  first?: CollectionRecord,
): Promise<CollectionRecord> {
  let col = first;
  return withRetries(async () => {
    col ??= await getCollection(store, ref);
    if (!col) throw new ParentMissing("the collection does not exist");
    const now = new Date().toISOString();
    const props = { ...col.props, ...(change.setProps ?? {}) };
    for (const p of change.removeProps ?? []) delete props[p];
    const dead = { ...col.dead, ...(change.setDead ?? {}) };
    for (const p of change.removeDead ?? []) delete dead[p];
    const advance = advanceSequence(col, now, 0, { props: strMap(props), dead: strMap(dead) });
    const cancelled = await transact(store, onTable(store, [advance, changeEntry(col, "props", "", now)]));
    if (!cancelled) return { ...col, seq: col.seq + 1, modified: now, props, dead };
    const stale = col;
    col = undefined;
    if (failed(cancelled, 0)) return sequenceFailure(stale, cancelled.reasons[0].item);
    return RETRY;
  });
}

/**
 * Delete a collection: the collection item goes and a purge marker appears in one transaction, so
 * the collection vanishes from listings at once and its members can never be reached again; the
 * members, reservations and change log are then removed in batches. A crash halfway leaves the
 * marker, and `resumePurges` finishes the job later.
 */
export async function deleteCollection(
  store: Store,
  col: CollectionRecord,
  options: { unchanged?: boolean } = {},
): Promise<void> {
  // `unchanged`: the client's If-Match named this version (ctag), so the delete is conditioned on it.
  const values: Record<string, AttributeValue> = { ":id": { S: col.id } };
  if (options.unchanged) values[":seq"] = { N: String(col.seq) };
  const cancelled = await transact(
    store,
    onTable(store, [
      {
        Delete: {
          TableName: "",
          Key: collectionKey(col.kind, col.owner, col.name),
          ConditionExpression: options.unchanged ? "id = :id AND seq = :seq" : "id = :id",
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      {
        Put: {
          TableName: "",
          Item: { ...purgeKey(col.id), owner: { S: col.owner }, at: { S: new Date().toISOString() } },
        },
      },
    ]),
  );
  if (cancelled) {
    const old = cancelled.reasons[0]?.item;
    if (old && old.id?.S === col.id) throw new EtagMismatch(ctag(collectionFromItem(old)));
    throw new ParentMissing("the collection no longer exists");
  }
  await purgeCollection(store, col.id);
}

/** Remove every item of a deleted collection's partition, then its purge marker. Idempotent. */
export async function purgeCollection(store: Store, id: string): Promise<void> {
  for (;;) {
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": { S: colPk(id) } },
        ProjectionExpression: "pk, sk",
        // Strongly consistent: an eventually consistent page could miss a member written just before
        // the delete and leave it orphaned.
        ConsistentRead: true,
        Limit: 500,
      }),
    );
    const keys = page.Items ?? [];
    if (keys.length === 0) break;
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } }));
      for (let attempt = 0; requests.length; attempt++) {
        const res = await store.client.send(
          new BatchWriteItemCommand({ RequestItems: { [store.tableName]: requests } }),
        );
        requests = (res.UnprocessedItems?.[store.tableName] ?? []) as typeof requests;
        if (requests.length) await backoff(attempt);
      }
    }
  }
  await store.client.send(
    new BatchWriteItemCommand({
      RequestItems: { [store.tableName]: [{ DeleteRequest: { Key: purgeKey(id) } }] },
    }),
  );
}

/** Finish purges a crash left half done (cheap when there are none: one Query on an empty partition). */
export async function resumePurges(store: Store): Promise<number> {
  const page = await store.client.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": { S: "PURGE" } },
      Limit: 10,
    }),
  );
  for (const item of page.Items ?? []) await purgeCollection(store, item.sk.S!);
  return page.Items?.length ?? 0;
}
