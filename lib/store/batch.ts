/** BatchWriteItem over any number of requests: `size` a call, unprocessed ones retried with backoff. */
import { BatchWriteItemCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { backoff } from "./transact.js";

/** `size`: requests per call (at most 25; fewer when the items are large, a call takes 16 MB). */
export async function batchWrite(store: Store, all: WriteRequest[], size = 25): Promise<void> {
  for (let i = 0; i < all.length; i += size) {
    let requests = all.slice(i, i + size);
    for (let attempt = 0; requests.length; attempt++) {
      const res = await store.client.send(
        new BatchWriteItemCommand({ RequestItems: { [store.tableName]: requests } }),
      );
      requests = res.UnprocessedItems?.[store.tableName] ?? [];
      if (requests.length) await backoff(attempt);
    }
  }
}
