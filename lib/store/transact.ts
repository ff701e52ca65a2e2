/**
 * Running TransactWriteItems with retries: throttling and transaction conflicts back off and try
 * again; a cancelled transaction is handed back with its per-item reasons so the caller can name
 * the failed condition (and read the existing item from ALL_OLD) without another read.
 */
import {
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import type { Store } from "./users.js";
import { ConcurrentModification } from "./errors.js";

export interface Cancelled {
  /** Per transaction item: the failure code (`ConditionalCheckFailed`, `None`, …) and the old item. */
  reasons: { code: string; item?: Record<string, AttributeValue> }[];
}

const RETRYABLE_CODES = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);
const RETRYABLE_ERRORS =
  /TransactionConflict|Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError/;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter, capped. */
export function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(200, 8 * 2 ** attempt));
}

/** Write the items; resolves to undefined on success or to the cancellation reasons on failed conditions. */
export async function transact(store: Store, items: TransactWriteItem[]): Promise<Cancelled | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return undefined;
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = (err.CancellationReasons ?? []).map((r) => ({
          code: r.Code ?? "None",
          item: r.Item,
        }));
        const conditional = reasons.some((r) => r.code === "ConditionalCheckFailed");
        if (!conditional && reasons.some((r) => RETRYABLE_CODES.has(r.code)) && attempt < 8) {
          await backoff(attempt);
          continue;
        }
        if (!conditional) throw new ConcurrentModification("transaction cancelled", { cause: err });
        return { reasons };
      }
      if (RETRYABLE_ERRORS.test((err as Error).name ?? "") && attempt < 8) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
  }
}

export const failed = (c: Cancelled, index: number) => c.reasons[index]?.code === "ConditionalCheckFailed";

/**
 * Optimistic concurrency on a collection's sequence number: `attempt` reads what it needs and
 * tries its transaction, returning `RETRY` when only the sequence moved under it.
 */
export const RETRY = Symbol("retry");

export async function withRetries<T>(run: () => Promise<T | typeof RETRY>, attempts = 30): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const result = await run();
    if (result !== RETRY) return result;
    await backoff(Math.min(i, 5));
  }
  throw new ConcurrentModification("too many concurrent changes to this collection");
}
