/**
 * The retry machinery under the write path (lib/store/transact.ts), with a scripted DynamoDB client:
 * DynamoDB Local never reports TransactionConflict, real DynamoDB does under contention.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TransactionCanceledException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConcurrentModification } from "../../lib/store/errors.js";
import { RETRY, transact, withRetries } from "../../lib/store/transact.js";
import type { Store } from "../../lib/store/users.js";

function cancelled(...codes: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled [${codes.join(", ")}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

/** A store whose client answers TransactWriteItems from a script (an error to throw, or success). */
function scripted(script: (Error | undefined)[]): { store: Store; calls: () => number } {
  let calls = 0;
  const client = {
    send: async () => {
      const next = script[Math.min(calls++, script.length - 1)];
      if (next) throw next;
      return {};
    },
  } as unknown as DynamoDBClient;
  return { store: { client, tableName: "t" }, calls: () => calls };
}

describe("RFC 9110 §15.5.10: concurrent writers retry, then answer 409", () => {
  it("transact retries DynamoDB TransactionConflict cancellations and then succeeds", async () => {
    const s = scripted([
      cancelled("None", "TransactionConflict"),
      cancelled("TransactionConflict", "None"),
      undefined,
    ]);
    assert.equal(await transact(s.store, []), undefined);
    assert.equal(s.calls(), 3);
  });

  it("transact hands back the reasons of a failed condition at once, even next to a conflict", async () => {
    const s = scripted([cancelled("ConditionalCheckFailed", "TransactionConflict")]);
    const res = await transact(s.store, []);
    assert.deepEqual(
      res?.reasons.map((r) => r.code),
      ["ConditionalCheckFailed", "TransactionConflict"],
    );
    assert.equal(s.calls(), 1);
  });

  it("transact gives up on endless conflicts with ConcurrentModification (→ 409), not a 500", async () => {
    const s = scripted([cancelled("TransactionConflict")]);
    await assert.rejects(transact(s.store, []), ConcurrentModification);
    assert.equal(s.calls(), 9);
  });

  it("transact does not retry or disguise a cancellation that is no race (ValidationError)", async () => {
    const s = scripted([cancelled("None", "ValidationError")]);
    await assert.rejects(transact(s.store, []), (err: unknown) => {
      assert.ok(err instanceof TransactionCanceledException);
      return true;
    });
    assert.equal(s.calls(), 1);
  });

  it("withRetries keeps a writer in the race past the attempt count while its time budget lasts", async () => {
    let runs = 0;
    const t0 = Date.now();
    const value = await withRetries(async () => (++runs < 6 || Date.now() - t0 < 150 ? RETRY : "done"), {
      attempts: 3,
      budgetMs: 5_000,
    });
    assert.equal(value, "done");
    assert.ok(runs > 3, `${runs} runs`);
  });

  it("withRetries treats ConcurrentModification from transact as one more lost round", async () => {
    let runs = 0;
    const value = await withRetries(
      async () => {
        if (++runs < 3) throw new ConcurrentModification("transaction kept conflicting");
        return "ok";
      },
      { attempts: 30, budgetMs: 0 },
    );
    assert.equal(value, "ok");
    assert.equal(runs, 3);
  });

  it("withRetries gives up with ConcurrentModification once both the attempts and the time budget are spent", async () => {
    let runs = 0;
    const t0 = Date.now();
    await assert.rejects(
      withRetries(
        async () => {
          runs++;
          return RETRY;
        },
        { attempts: 4, budgetMs: 100 },
      ),
      ConcurrentModification,
    );
    assert.ok(runs >= 4, `${runs} runs`);
    assert.ok(Date.now() - t0 >= 100);
  });
});
