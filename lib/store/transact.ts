/**
 * Running TransactWriteItems with retries: throttling and transaction conflicts back off and try
 * again; a cancelled transaction is handed back with its per-item reasons (the builder in tx.ts
 * turns them into failures by part name). `withRetries` is the optimistic loop around a write that
 * lost a race on a collection's sequence.
 */
import {
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
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
        if (reasons.some((r) => r.code === "ConditionalCheckFailed")) return { reasons };
        if (reasons.some((r) => RETRYABLE_CODES.has(r.code))) {
          if (attempt < 8) {
            await backoff(attempt);
            continue;
          }
          throw new ConcurrentModification("transaction kept conflicting", { cause: err });
        }
        // Anything else (ValidationError, item collection too large, …) is not a race: retrying cannot help.
        throw err;
      }
      if (RETRYABLE_ERRORS.test((err as Error).name ?? "") && attempt < 8) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
  }
}

/**
 * Optimistic concurrency on a collection's sequence number: `run` reads what it needs and tries its
 * transaction, returning `RETRY` when only the sequence moved under it (or throwing
 * ConcurrentModification when DynamoDB kept reporting transaction conflicts).
 */
export const RETRY = Symbol("retry");
/**
 * Retry at once: the lost round already learnt the state that beat it (a cancelled transaction
 * returns the winner's item), so there is nothing to wait for; backing off only stretches the
 * queue of writers on one calendar.
 */
export const RETRY_NOW = Symbol("retry-now");

/**
 * When a write stops retrying against concurrent writers and answers 409: after at least
 * `attempts` tries AND at least `budgetMs`. Every lost round means another writer committed, so with
 * many writers on one calendar a writer may lose many quick rounds (the time budget keeps it in the
 * race), while on a slow backend the attempt count keeps it from giving up after a few slow rounds.
 */
export const RETRY_BUDGET = { attempts: 30, budgetMs: 10_000 };

export async function withRetries<T>(
  run: () => Promise<T | typeof RETRY | typeof RETRY_NOW>,
  budget: { attempts: number; budgetMs: number } = RETRY_BUDGET,
): Promise<T> {
  const deadline = Date.now() + budget.budgetMs;
  const exhausted = (i: number) => i + 1 >= budget.attempts && Date.now() >= deadline;
  for (let i = 0; ; i++) {
    let result: T | typeof RETRY | typeof RETRY_NOW;
    try {
      result = await run();
    } catch (err) {
      // transact() gave up on DynamoDB transaction conflicts: another round, like a lost sequence race.
      if (!(err instanceof ConcurrentModification) || exhausted(i)) throw err;
      result = RETRY;
    }
    if (result !== RETRY && result !== RETRY_NOW) return result;
    if (exhausted(i)) throw new ConcurrentModification("too many concurrent changes to this collection");
    if (result === RETRY) await backoff(Math.min(i, 5));
  }
}
