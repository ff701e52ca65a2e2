/**
 * Reading a collection's change log (RFC 6578 sync-collection): entries `S#<seq>` in the
 * collection's partition, read by a key-range Query — never a Scan, never a listing of members.
 */
import { QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { colPk, changeSk } from "./keys.js";
import type { ChangeOp } from "./collections.js";
import type { Store } from "./users.js";

export interface ChangeEntry {
  seq: number;
  op: ChangeOp;
  name: string;
}

/** Entries with from < seq ≤ to, oldest first, across DynamoDB's 1 MB pages. */
export async function changesBetween(
  store: Store,
  colId: string,
  from: number,
  to: number,
): Promise<ChangeEntry[]> {
  const out: ChangeEntry[] = [];
  if (to <= from) return out;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues: {
          ":p": { S: colPk(colId) },
          ":a": { S: changeSk(from + 1) },
          ":b": { S: changeSk(to) },
        },
        ProjectionExpression: "sk, op, #n",
        ExpressionAttributeNames: { "#n": "name" },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      out.push({ seq: Number(item.sk.S!.slice(2)), op: item.op.S as ChangeOp, name: item.name.S! });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
