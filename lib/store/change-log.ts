/**
 * A collection's change log (RFC 6578 sync-collection): one entry `S#<seq>` per change in the
 * collection's partition, written in the same transaction as the change itself and the advance of
 * the collection's sequence (collections.ts), and read back by a key-range Query — never a Scan,
 * never a listing of members.
 */
import type { Store } from "./client.js";
import { changeKey, changeSk, colPk } from "./keys.js";
import { queryAll } from "./query.js";
import { absent, type WriteTx } from "./tx.js";

export type ChangeOp = "put" | "delete" | "props";

export interface Change {
  op: ChangeOp;
  /** The member's resource name; empty for a change of the collection's own properties. */
  name: string;
}

export interface ChangeEntry extends Change {
  seq: number;
}

/** Add the entry for sequence number `seq` to a transaction (condition: that number is unused). */
export function logChange(
  tx: WriteTx,
  part: string,
  colId: string,
  seq: number,
  change: Change,
  now: string,
) {
  tx.put(
    part,
    { ...changeKey(colId, seq), op: { S: change.op }, name: { S: change.name }, at: { S: now } },
    absent,
  );
}

/** Entries with from < seq ≤ to, oldest first. */
export async function changesBetween(
  store: Store,
  colId: string,
  from: number,
  to: number,
): Promise<ChangeEntry[]> {
  if (to <= from) return [];
  return queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
      ExpressionAttributeValues: {
        ":p": { S: colPk(colId) },
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
