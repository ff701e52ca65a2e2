/**
 * Removing a deleted collection's partition. Deleting a collection removes its item and writes a
 * `PURGE` marker in one transaction (collections.ts), so the collection vanishes at once and its
 * members can never be reached again; the members, UID reservations and change log are then
 * removed here in batches. A crash halfway leaves the marker, and `resumePurges` finishes later.
 */
import { batchWrite } from "./batch.js";
import type { Store } from "./client.js";
import { colPk, purgeKey } from "./keys.js";
import { queryPages, type Item } from "./query.js";
import type { WriteTx } from "./tx.js";

/** Add the purge marker of collection `id` to a transaction. */
export function markForPurge(tx: WriteTx, part: string, id: string, owner: string): void {
  tx.put(part, { ...purgeKey(id), owner: { S: owner }, at: { S: new Date().toISOString() } });
}

/** Remove every item of a deleted collection's partition, then its purge marker. Idempotent. */
export async function purgeCollection(store: Store, id: string): Promise<void> {
  const pages = queryPages(store, {
    KeyConditionExpression: "pk = :p",
    ExpressionAttributeValues: { ":p": { S: colPk(id) } },
    ProjectionExpression: "pk, sk",
    // Strongly consistent: an eventually consistent page could miss a member written just before
    // the delete and leave it orphaned.
    ConsistentRead: true,
    Limit: 500,
  });
  for await (const keys of pages) await deleteKeys(store, keys);
  await deleteKeys(store, [purgeKey(id)]);
}

function deleteKeys(store: Store, keys: Item[]): Promise<void> {
  return batchWrite(
    store,
    keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
  );
}

/** Finish purges a crash left half done (cheap when there are none: one Query on an empty partition). */
export async function resumePurges(store: Store): Promise<number> {
  const pending = queryPages(store, {
    KeyConditionExpression: "pk = :p",
    ExpressionAttributeValues: { ":p": { S: "PURGE" } },
    Limit: 10,
  });
  // One page is enough: each DELETE of a collection resumes up to ten, so a backlog drains.
  const first = await pending.next();
  await pending.return(undefined);
  const items = first.done ? [] : first.value;
  for (const item of items) await purgeCollection(store, item.sk.S!);
  return items.length;
}
