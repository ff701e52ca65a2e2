/**
 * The client's conditions in the store's optimistic loops (lib/store/expectation.ts), against
 * DynamoDB Local: the first round checks them against what it read; a round that lost a race
 * checks them again, refreshed where they concern other resources (the If header's tagged lists,
 * RFC 4918 §10.4), so a retry never writes past a condition that no longer holds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createCollection,
  deleteCollection,
  getCollection,
  updateCollectionProps,
} from "../../lib/store/collections.js";
import { EtagMismatch } from "../../lib/store/errors.js";
import { getObject, putObject } from "../../lib/store/objects.js";
import { freshStore } from "../helpers/store.js";

const store = await freshStore();
const member = (name: string, uid = name) => ({
  name,
  body: Buffer.from(`BEGIN:VCALENDAR\r\nUID:${uid}\r\nEND:VCALENDAR\r\n`),
  contentType: "text/calendar",
  uid,
  comp: "VEVENT",
});

describe("store: client conditions in every round of a write", () => {
  it("a round that lost the race on the collection's sequence asks for the conditions again, and a refusal then is a 412, with nothing written", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "exp", name: "race" });
    const ref = { kind: col.kind, owner: col.owner, name: col.name };
    // Another writer moves the sequence after this writer read the collection.
    await putObject(store, ref, member("other.ics"), {});
    let refreshed = 0;
    await assert.rejects(
      putObject(
        store,
        ref,
        member("mine.ics"),
        { holds: () => true, refresh: async () => (refreshed++, () => false) },
        { first: col },
      ),
      EtagMismatch,
    );
    assert.equal(refreshed, 1, "the second round refreshed the conditions");
    assert.equal(await getObject(store, col.id, "mine.ics"), undefined);

    const stale = (await getCollection(store, ref))!;
    await putObject(store, ref, member("third.ics"), {});
    const ok = await putObject(
      store,
      ref,
      member("mine.ics"),
      { holds: () => true, refresh: async () => () => true },
      { first: stale },
    );
    assert.equal(ok.created, true, "conditions that still hold let the retry write");
  });

  it("without a refresh the conditions on the resource itself are checked again against each round's read", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "exp", name: "again" });
    const ref = { kind: col.kind, owner: col.owner, name: col.name };
    const first = await putObject(store, ref, member("x.ics"), {});
    // The caller saw x.ics at its first ETag; someone replaces it; the write must not go over it.
    const read = (await getObject(store, col.id, "x.ics", false))!;
    await putObject(
      store,
      ref,
      { ...member("x.ics"), body: Buffer.from("BEGIN:VCALENDAR\r\nUID:x.ics\r\nX:2\r\nEND:VCALENDAR\r\n") },
      {},
    );
    await assert.rejects(
      putObject(
        store,
        ref,
        member("x.ics"),
        { holds: (etag) => etag === first.etag },
        { first: col, existing: read },
      ),
      EtagMismatch,
    );
  });

  it("a collection's PROPPATCH and DELETE check the client's conditions on its version in every round", async () => {
    const col = await createCollection(store, { kind: "calendar", owner: "exp", name: "coll" });
    const ref = { kind: col.kind, owner: col.owner, name: col.name };
    await assert.rejects(
      updateCollectionProps(store, ref, { setProps: { "{DAV:}displayname": "x" } }, col, {
        holds: () => false,
      }),
      EtagMismatch,
    );
    await putObject(store, ref, member("y.ics"), {});
    // Pinned to the version read: a member written since makes the delete a 412, not a purge.
    await assert.rejects(
      deleteCollection(store, col, { unchanged: true, expect: { holds: () => true } }),
      EtagMismatch,
    );
    await assert.rejects(
      deleteCollection(store, (await getCollection(store, ref))!, { expect: { holds: () => false } }),
      EtagMismatch,
    );
    assert.ok(await getCollection(store, ref), "the calendar is still there");
  });
});
