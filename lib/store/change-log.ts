/**
 * Change logs (RFC 6578 sync-collection): one entry `S#<seq>` per change, in the partition of what
 * changed — a collection's (its members) or a home's (its collections) — written in the same
 * transaction as the change itself and the advance of the sequence (collections.ts), and read back
 * by a key-range Query: never a Scan, never a listing.
 */
import type { Store } from "./client.js";
import { changeSk, colPk, homePk, type CollectionKind } from "./keys.js";
import { queryAll } from "./query.js";
import { absent, type WriteTx } from "./tx.js";

export type ChangeOp = "put" | "delete" | "props";

export interface Change {
  op: ChangeOp;
  /** The member's (or, in a home's log, the collection's) name; empty for a collection's own properties. */
  name: string;
}

export interface ChangeEntry extends Change {
  seq: number;
}

/** Add entry `seq` of the log in `partition` to a transaction (condition: that number is unused). */
export function logChange(
  tx: WriteTx,
  part: string,
  partition: string,
  seq: number,
  change: Change,
  now: string,
): void {
  const item = { pk: { S: partition }, sk: { S: changeSk(seq) } };
  tx.put(part, { ...item, op: { S: change.op }, name: { S: change.name }, at: { S: now } }, absent);
}

/** A collection's entries with from < seq ≤ to, oldest first. */
export function changesBetween(
  store: Store,
  colId: string,
  from: number,
  to: number,
): Promise<ChangeEntry[]> {
  return entriesBetween(store, colPk(colId), from, to);
}

/** A home's entries (changes of its collections) with from < seq ≤ to, oldest first. */
export function homeChangesBetween(
  store: Store,
  kind: CollectionKind,
  owner: string,
  from: number,
  to: number,
): Promise<ChangeEntry[]> {
  return entriesBetween(store, homePk(kind, owner), from, to);
}

async function entriesBetween(
  store: Store,
  partition: string,
  from: number,
  to: number,
): Promise<ChangeEntry[]> {
  if (to <= from) return [];
  return queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
      ExpressionAttributeValues: {
        ":p": { S: partition },
        ":a": { S: changeSk(from + 1) },
        ":b": { S: changeSk(to) },
      },
      ProjectionExpression: "sk, op, #n",
      ExpressionAttributeNames: { "#n": "name" },
      ConsistentRead: true,
    },
    (item) => ({ seq: Number(item.sk.S!.slice(2)), op: item.op.S as ChangeOp, name: item.name.S! }),
  );
}
