/**
 * Calendar objects and vCards: one item each in their collection's partition, with a UID
 * reservation item beside it. Every write is one TransactWriteItems that also advances the
 * collection's sequence and appends the change-log entry; the client's If-Match / If-None-Match
 * and UID uniqueness are DynamoDB conditions in that transaction.
 */
import {
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import { createHash } from "node:crypto";
import { EtagMismatch, NotFound, ParentMissing, UidConflict } from "./errors.js";
import { colPk, objectKey, uidKey } from "./keys.js";
import {
  advanceSequence,
  changeEntry,
  fitsSortKey,
  getCollection,
  onTable,
  sequenceFailure,
  type CollectionRecord,
  type CollectionRef,
} from "./collections.js";
import { backoff, failed, RETRY, transact, withRetries } from "./transact.js";
import type { Store } from "./users.js";

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
  body?: Buffer;
}

/** What the client required of the current state (RFC 9110 §13.1.1, §13.1.2). */
export interface Expectation {
  ifMatch?: "*" | string[];
  ifNoneMatch?: "*" | string[];
}

/** Whether a resource whose current ETag is `etag` (undefined: absent) satisfies the expectation. */
export function satisfies(expect: Expectation, etag: string | undefined): boolean {
  if (expect.ifMatch) {
    if (etag === undefined) return false;
    if (expect.ifMatch !== "*" && !expect.ifMatch.includes(etag)) return false;
  }
  if (expect.ifNoneMatch) {
    if (expect.ifNoneMatch === "*" && etag !== undefined) return false;
    if (Array.isArray(expect.ifNoneMatch) && etag !== undefined && expect.ifNoneMatch.includes(etag))
      return false;
  }
  return true;
}

/** Strong ETag from the body's bytes: a byte-identical body always has the same ETag. */
export function etagFor(body: Buffer): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

export function objectFromItem(item: Record<string, AttributeValue>): ObjectRecord {
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
    body: item.body?.B ? Buffer.from(item.body.B) : undefined,
  };
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
];
function projection(withBody = false) {
  return {
    ProjectionExpression: [...META_ATTRS, ...(withBody ? ["body"] : [])].join(", "),
    ExpressionAttributeNames: { "#n": "name", "#s": "size" },
  };
}

/** All members of a collection, page by page (DynamoDB pages are 1 MB at most). */
export async function listObjects(store: Store, colId: string, withBody = false): Promise<ObjectRecord[]> {
  const out: ObjectRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const p = projection(withBody);
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :o)",
        ExpressionAttributeValues: { ":p": { S: colPk(colId) }, ":o": { S: "O#" } },
        ProjectionExpression: p.ProjectionExpression,
        ExpressionAttributeNames: p.ExpressionAttributeNames,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) out.push(objectFromItem(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
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
    let keys: Record<string, AttributeValue>[] = unique.slice(i, i + 100).map((n) => objectKey(colId, n));
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

export interface NewObject {
  name: string;
  body: Buffer;
  contentType: string;
  uid: string;
  comp: string;
  spanStart?: string;
  spanEnd?: string;
}

/**
 * DynamoDB condition fragment for the client's expectation on the object item. An empty tag list
 * (only weak tags were sent, and weak tags never match for writes) matches nothing; `IN` takes at
 * most 100 operands, so longer lists are split into OR-ed groups.
 */
function expectationCondition(expect: Expectation, values: Record<string, AttributeValue>): string[] {
  const parts: string[] = [];
  const anyOf = (prefix: string, etags: string[]): string | undefined => {
    const names = [...new Set(etags)].map((e, i) => {
      values[`:${prefix}${i}`] = { S: e };
      return `:${prefix}${i}`;
    });
    const groups: string[] = [];
    for (let i = 0; i < names.length; i += 100)
      groups.push(`etag IN (${names.slice(i, i + 100).join(", ")})`);
    return groups.length ? `(${groups.join(" OR ")})` : undefined;
  };
  if (expect.ifMatch === "*") parts.push("attribute_exists(pk)");
  else if (expect.ifMatch) {
    // No strong tag to match: the condition must fail whatever is stored.
    parts.push(anyOf("im", expect.ifMatch) ?? "(attribute_exists(pk) AND attribute_not_exists(pk))");
  }
  if (expect.ifNoneMatch === "*") parts.push("attribute_not_exists(pk)");
  else if (expect.ifNoneMatch) {
    const listed = anyOf("inm", expect.ifNoneMatch);
    if (listed) parts.push(`(attribute_not_exists(pk) OR NOT ${listed})`);
  }
  return parts;
}

export interface PutResult {
  created: boolean;
  etag: string;
}

/**
 * Create or replace a member. The transaction holds: the collection's sequence advance, the object
 * (condition: unchanged since read, and the client's expectation), the UID reservation (condition:
 * free or ours), the release of a changed UID's old reservation, and the change-log entry.
 */
export async function putObject(
  store: Store,
  ref: CollectionRef,
  input: NewObject,
  expect: Expectation,
  first?: CollectionRecord,
): Promise<PutResult> {
  let col = first;
  const etag = etagFor(input.body);
  return withRetries(async () => {
    col ??= await getCollection(store, ref);
    if (!col) throw new ParentMissing("the collection does not exist");
    // With If-None-Match: * there is nothing to learn from a read: the condition demands absence.
    const existing =
      expect.ifNoneMatch === "*" ? undefined : await getObject(store, col.id, input.name, false);
    const now = new Date().toISOString();
    const values: Record<string, AttributeValue> = {};
    const conditions = expectationCondition(expect, values);
    if (existing) {
      conditions.push("etag = :readEtag");
      values[":readEtag"] = { S: existing.etag };
    } else conditions.push("attribute_not_exists(pk)");

    const items: TransactWriteItem[] = [
      advanceSequence(col, now, input.body.length - (existing?.size ?? 0)),
      {
        Put: {
          TableName: "",
          Item: {
            ...objectKey(col.id, input.name),
            name: { S: input.name },
            etag: { S: etag },
            uid: { S: input.uid },
            contentType: { S: input.contentType },
            size: { N: String(input.body.length) },
            created: { S: existing?.created ?? now },
            modified: { S: now },
            comp: { S: input.comp },
            body: { B: input.body },
            ...(input.spanStart && input.spanEnd
              ? {
                  spanStart: { S: input.spanStart },
                  spanEnd: { S: input.spanEnd },
                  gsi1pk: { S: colPk(col.id) },
                  gsi1sk: { S: input.spanStart },
                }
              : {}),
          },
          ConditionExpression: [...new Set(conditions)].join(" AND "),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      {
        Put: {
          TableName: "",
          Item: { ...uidKey(col.id, input.uid), name: { S: input.name } },
          ConditionExpression: "attribute_not_exists(pk) OR #n = :me",
          ExpressionAttributeNames: { "#n": "name" },
          ExpressionAttributeValues: { ":me": { S: input.name } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
    ];
    if (existing && existing.uid !== input.uid) items.push(releaseUid(col.id, existing.uid, input.name));
    items.push(changeEntry(col, "put", input.name, now));

    const cancelled = await transact(store, onTable(store, items));
    if (!cancelled) return { created: !existing, etag };
    const stale = col;
    col = undefined;
    // The client's own preconditions are answered first (RFC 9110 §13.2.2: 412 before the content is considered).
    if (failed(cancelled, 1)) {
      const current = cancelled.reasons[1].item?.etag?.S;
      if (!satisfies(expect, current)) throw new EtagMismatch(current);
    }
    if (failed(cancelled, 2)) {
      throw new UidConflict(input.uid, cancelled.reasons[2].item?.name?.S ?? "another resource");
    }
    if (failed(cancelled, 0)) return sequenceFailure(stale, cancelled.reasons[0].item);
    return RETRY;
  });
}

function releaseUid(colId: string, uid: string, name: string): TransactWriteItem {
  return {
    Delete: {
      TableName: "",
      Key: uidKey(colId, uid),
      ConditionExpression: "#n = :me",
      ExpressionAttributeNames: { "#n": "name" },
      ExpressionAttributeValues: { ":me": { S: name } },
    },
  };
}

/** Delete a member, its UID reservation and log the deletion, all in one transaction. */
export async function deleteObject(
  store: Store,
  ref: CollectionRef,
  name: string,
  expect: Expectation,
  first?: CollectionRecord,
): Promise<void> {
  let col = first;
  return withRetries(async () => {
    col ??= await getCollection(store, ref);
    if (!col) throw new ParentMissing("the collection does not exist");
    const existing = await getObject(store, col.id, name, false);
    if (!existing) {
      if (expect.ifMatch) throw new EtagMismatch(undefined);
      throw new NotFound(`no resource ${name}`);
    }
    const now = new Date().toISOString();
    const values: Record<string, AttributeValue> = { ":readEtag": { S: existing.etag } };
    const conditions = [...expectationCondition(expect, values), "etag = :readEtag"];
    const items: TransactWriteItem[] = [
      advanceSequence(col, now, -existing.size),
      {
        Delete: {
          TableName: "",
          Key: objectKey(col.id, name),
          ConditionExpression: [...new Set(conditions)].join(" AND "),
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      releaseUid(col.id, existing.uid, name),
      changeEntry(col, "delete", name, now),
    ];
    const cancelled = await transact(store, onTable(store, items));
    if (!cancelled) return;
    const stale = col;
    col = undefined;
    if (failed(cancelled, 1)) {
      const current = cancelled.reasons[1].item?.etag?.S;
      if (!satisfies(expect, current)) throw new EtagMismatch(current);
    }
    if (failed(cancelled, 0)) return sequenceFailure(stale, cancelled.reasons[0].item);
    return RETRY;
  });
}
