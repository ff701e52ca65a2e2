/**
 * Sharing in the store (lib/store/shares.ts, views.ts), against DynamoDB Local: a grant is part of
 * every write through the view that uses it (a DynamoDB condition, not a check in code), so a
 * write that was allowed when its request began cannot commit after the owner took it back; two
 * changes of one collection's grants serialise on `shareSeq`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCollection, getCollection, getOwnCollection } from "../../lib/store/collections.js";
import { ParentMissing, ReadOnlyShare } from "../../lib/store/errors.js";
import { getObject, putObject } from "../../lib/store/objects.js";
import { answerInvitation, grantShare, revokeShare } from "../../lib/store/shares.js";
import { freshStore } from "../helpers/store.js";

const store = await freshStore();
const member = (name: string) => ({
  name,
  body: Buffer.from(`BEGIN:VCALENDAR\r\nUID:${name}\r\nEND:VCALENDAR\r\n`),
  contentType: "text/calendar",
  uid: name,
  comp: "VEVENT",
});

describe("store: shares", () => {
  it("a write through a view read before the owner made the share read-only does not commit (ReadOnlyShare), nor after un-sharing (ParentMissing)", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "own1", name: "c" });
    await grantShare(store, col, "sh1", "read-write", { autoAccept: true });
    const viewRef = { kind: "calendar" as const, owner: "sh1", name: "own1-c" };
    const seen = (await getCollection(store, viewRef))!;
    assert.equal(seen.view?.access, "read-write");
    // The owner downgrades between the sharee's read and their write.
    await grantShare(store, (await getOwnCollection(store, col))!, "sh1", "read");
    await assert.rejects(putObject(store, viewRef, member("late.ics"), {}, { first: seen }), ReadOnlyShare);
    assert.equal(await getObject(store, col.id, "late.ics"), undefined);

    await grantShare(store, (await getOwnCollection(store, col))!, "sh1", "read-write");
    const again = (await getCollection(store, viewRef))!;
    await revokeShare(store, (await getOwnCollection(store, col))!, "sh1");
    await assert.rejects(putObject(store, viewRef, member("later.ics"), {}, { first: again }), ParentMissing);
    assert.equal(await getObject(store, col.id, "later.ics"), undefined);
  });

  it("concurrent shares of one collection with different users all land (each retries on shareSeq); concurrent accepts of one invitation make one view", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "own2", name: "c" });
    const users = ["u1", "u2", "u3", "u4", "u5"];
    await Promise.all(users.map((u) => grantShare(store, col, u, "read")));
    const now = (await getOwnCollection(store, col))!;
    assert.deepEqual(Object.keys(now.shares ?? {}).sort(), users);
    assert.equal(now.shareSeq, users.length);
    const answers = await Promise.all([1, 2, 3].map(() => answerInvitation(store, "u1", now, true)));
    assert.deepEqual(new Set(answers.map((a) => a?.view?.name)), new Set(["own2-c"]));
    const after = (await getOwnCollection(store, col))!;
    assert.equal(after.shares?.u1.status, "accepted");
    assert.equal(after.shares?.u1.view, "own2-c");
  });
});
