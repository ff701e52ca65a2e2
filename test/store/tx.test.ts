/**
 * The transaction builder (lib/store/tx.ts) against DynamoDB Local: parts are named, a cancelled
 * transaction reports every failed part by name with the item found there (ALL_OLD), condition
 * fragments compose without clashing placeholders, and a collection's sequence advances by k
 * with k change-log entries in the same transaction (for MOVE and bulk writes).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { changesBetween } from "../../lib/store/change-log.js";
import {
  createCollection,
  getCollection,
  recordChanges,
  sequenceFailure,
} from "../../lib/store/collections.js";
import { ParentMissing } from "../../lib/store/errors.js";
import { RETRY } from "../../lib/store/transact.js";
import {
  absent,
  allOf,
  anyOf,
  equals,
  guardFailure,
  MAX_TX_PARTS,
  not,
  oneOf,
  present,
  WriteTx,
  type Guard,
} from "../../lib/store/tx.js";
import { freshStore } from "../helpers/store.js";

const store = await freshStore();
let n = 0;
/** A fresh key in a partition of its own per test. */
const key = (sk: string) => ({ pk: { S: `TXTEST#${n}` }, sk: { S: sk } });
const read = async (sk: string) =>
  (
    await store.client.send(
      new GetItemCommand({ TableName: store.tableName, Key: key(sk), ConsistentRead: true }),
    )
  ).Item;

describe("store: the transaction builder (named parts, named failures)", () => {
  it("a transaction whose conditions hold commits every part and reports no failure", async () => {
    n++;
    await new WriteTx(store)
      .put("seed-b", { ...key("b"), v: { S: "old" } })
      .put("seed-c", { ...key("c"), v: { S: "guard" } })
      .commit();
    const failed = await new WriteTx(store)
      .put("a", { ...key("a"), v: { S: "1" } }, absent)
      .update("b", key("b"), (e) => `SET ${e.name("v")} = ${e.value({ S: "new" })}`, present)
      .check("c", key("c"), equals("v", { S: "guard" }))
      .commit();
    assert.equal(failed, undefined);
    assert.equal((await read("a"))?.v.S, "1");
    assert.equal((await read("b"))?.v.S, "new");
  });

  it("every failed part comes back by its name, with the item DynamoDB held there (ALL_OLD), and nothing is written", async () => {
    n++;
    await new WriteTx(store)
      .put("seed-a", { ...key("a"), v: { S: "kept-a" } })
      .put("seed-b", { ...key("b"), v: { S: "kept-b" } })
      .put("seed-c", { ...key("c"), v: { S: "kept-c" } })
      .commit();
    const failed = await new WriteTx(store)
      .put("object", { ...key("a"), v: { S: "x" } }, absent)
      .update(
        "sequence",
        key("b"),
        (e) => `SET ${e.name("v")} = ${e.value({ S: "y" })}`,
        equals("v", { S: "other" }),
      )
      .delete("release", key("c"), not(present))
      .check("lock", key("missing"), present)
      .put("fine", { ...key("new"), v: { S: "z" } }, absent)
      .commit();
    assert.ok(failed, "the transaction was cancelled");
    assert.deepEqual(failed.parts.sort(), ["lock", "object", "release", "sequence"]);
    assert.equal(failed.has("fine"), false, "a part whose condition held is not a failure");
    assert.equal(failed.old("object")?.v.S, "kept-a");
    assert.equal(failed.old("sequence")?.v.S, "kept-b");
    assert.equal(failed.old("release")?.v.S, "kept-c");
    assert.equal(failed.old("lock"), undefined, "no item was there");
    assert.equal((await read("a"))?.v.S, "kept-a");
    assert.equal((await read("b"))?.v.S, "kept-b");
    assert.equal((await read("c"))?.v.S, "kept-c");
    assert.equal(await read("new"), undefined, "all or nothing: the part that could commit did not");
  });

  it("condition fragments compose: placeholders never clash, and IN lists longer than 100 become OR-ed groups", async () => {
    n++;
    await new WriteTx(store).put("seed", { ...key("a"), etag: { S: "e150" }, name: { S: "x" } }).commit();
    const tags = Array.from({ length: 150 }, (_, i) => ({ S: `e${i + 1}` }));
    const matches = allOf(
      oneOf("etag", tags),
      anyOf(absent, equals("name", { S: "x" })),
      not(equals("etag", { S: "e1" })),
    );
    assert.equal(await new WriteTx(store).check("c", key("a"), matches).commit(), undefined);
    const misses = allOf(oneOf("etag", tags.slice(0, 149)), equals("name", { S: "x" }));
    assert.deepEqual((await new WriteTx(store).check("c", key("a"), misses).commit())?.parts, ["c"]);
    // An empty list matches nothing (an If-Match with only weak tags).
    assert.deepEqual((await new WriteTx(store).check("c", key("a"), oneOf("etag", [])).commit())?.parts, [
      "c",
    ]);
  });

  it("a part name used twice or a condition with no operand is a programming error; more than 100 parts is TooManyParts (a write too large for one transaction, answered 403)", () => {
    assert.throws(() => new WriteTx(store).put("x", key("1")).put("x", key("2")), /added twice/);
    const tx = new WriteTx(store);
    for (let i = 0; i < MAX_TX_PARTS; i++) tx.put(`p${i}`, key(String(i)));
    assert.throws(
      () => tx.put("one-more", key("x")),
      (err: Error) => err.name === "TooManyParts",
    );
    assert.throws(() => new WriteTx(store).check("c", key("x"), allOf()), /at least one operand/);
  });

  it("a refusal that is no failed condition (a malformed update) is thrown, not reported as a part", async () => {
    n++;
    await assert.rejects(
      new WriteTx(store).update("bad", key("a"), () => "SET = nonsense").commit(),
      (err: Error) => err.name === "ValidationException",
    );
  });

  it("guards: a module's part takes part in the transaction, and its failure becomes the guard's own error", async () => {
    n++;
    await new WriteTx(store).put("seed", { ...key("lock"), token: { S: "held" } }).commit();
    class Locked extends Error {}
    const lock: Guard = {
      part: "lock",
      add: (tx) => tx.check("lock", key("lock"), absent),
      failure: (old) => new Locked(`locked with ${old?.token?.S}`),
    };
    const failed = await new WriteTx(store)
      .put("object", { ...key("obj") }, absent)
      .guard([lock])
      .commit();
    assert.ok(failed);
    const err = guardFailure(failed, [lock]);
    assert.ok(err instanceof Locked);
    assert.equal(err.message, "locked with held");
    assert.equal(await read("obj"), undefined);
    assert.equal(guardFailure(failed, []), undefined);
  });
});

describe("store: a collection's sequence and change log in one transaction", () => {
  it("recordChanges advances the sequence by k and writes k change-log entries, seq+1 … seq+k", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "tx", name: "k-step" });
    const tx = new WriteTx(store);
    recordChanges(
      tx,
      col,
      [
        { op: "delete", name: "a.ics" },
        { op: "put", name: "b.ics" },
        { op: "put", name: "c.ics" },
      ],
      { now: new Date().toISOString(), bytesDelta: 42 },
    );
    assert.deepEqual(tx.names, ["sequence", "change:1", "change:2", "change:3"]);
    assert.equal(await tx.commit(), undefined);
    const after = await getCollection(store, col);
    assert.equal(after?.seq, 3);
    assert.equal(after?.bytes, 42);
    assert.deepEqual(await changesBetween(store, col.id, 0, 3), [
      { seq: 1, op: "delete", name: "a.ics" },
      { seq: 2, op: "put", name: "b.ics" },
      { seq: 3, op: "put", name: "c.ics" },
    ]);
  });

  it("two collections in one transaction (a MOVE) name their parts apart; a stale sequence fails by name", async () => {
    const source = await createCollection(store, { kind: "calendar", owner: "tx", name: "source" });
    const dest = await createCollection(store, { kind: "calendar", owner: "tx", name: "dest" });
    const now = new Date().toISOString();
    const first = new WriteTx(store);
    recordChanges(first, source, [{ op: "delete", name: "m.ics" }], { now });
    recordChanges(first, dest, [{ op: "put", name: "m.ics" }], { now, prefix: "dest:" });
    assert.deepEqual(first.names, ["sequence", "change", "dest:sequence", "dest:change"]);
    assert.equal(await first.commit(), undefined);

    // Same records again: both sequences moved on, so both sequence parts fail, and the change
    // entries at the taken numbers fail too.
    const stale = new WriteTx(store);
    recordChanges(stale, source, [{ op: "put", name: "x.ics" }], { now });
    recordChanges(stale, dest, [{ op: "put", name: "x.ics" }], { now, prefix: "dest:" });
    const failed = await stale.commit();
    assert.ok(failed);
    assert.deepEqual(failed.parts.sort(), ["change", "dest:change", "dest:sequence", "sequence"]);
    assert.equal(failed.old("sequence")?.seq?.N, "1", "ALL_OLD shows the sequence that won");
    assert.equal(sequenceFailure(source, failed.old("sequence")), RETRY, "same collection: retry");
    assert.throws(
      () => sequenceFailure({ ...source, id: "replaced" }, failed.old("sequence")),
      ParentMissing,
      "a collection of the same name but another id: the one read is gone",
    );
    assert.throws(() => sequenceFailure(source, undefined), ParentMissing);
    assert.equal((await getCollection(store, source))?.seq, 1);
    assert.equal((await getCollection(store, dest))?.seq, 1);
  });
});
