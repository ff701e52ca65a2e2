/**
 * UID uniqueness inside a calendar (RFC 4791 §5.3.2.1 CALDAV:no-uid-conflict): the object and its
 * UID reservation are written in one TransactWriteItems, and the 409 names the resource holding the
 * UID (from the cancellation reason's ALL_OLD item).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseXml } from "../../lib/xml/parse.js";
import { CalClient, CALDAV, assertExplained, davError, event, fixture, uidOf } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const c = new CalClient(server);
const NO_UID_CONFLICT = `{${CALDAV}}no-uid-conflict`;

describe("RFC 4791 §5.3.2.1: UID uniqueness within a calendar", () => {
  before(async () => {
    await c.newCalendar("cal");
  });

  it("RFC 4791 §5.3.2.1: PUT with a UID used by another resource → 409 no-uid-conflict naming it (Google fixtures sharing a UID)", async () => {
    const first = fixture("icaljs-duration_instead_of_dtend.ics");
    const second = fixture("icaljs-only_dtstart_date.ics");
    assert.equal(uidOf(first), uidOf(second), "the two fixtures share a UID");
    const put1 = await c.put("cal", "google-1.ics", first);
    assert.equal(put1.status, 201, put1.body);
    const col0 = (await c.collection("cal"))!;

    const res = await c.put("cal", "google-2.ics", second);
    assertExplained(res, 409);
    const err = davError(res);
    assert.equal(err.name, NO_UID_CONFLICT);
    assert.deepEqual(err.hrefs, ["/calendars/alice/cal/google-1.ics"]);

    // Nothing of the refused write is stored: no object, the reservation still names the first, no ctag move.
    assert.equal((await c.get("cal", "google-2.ics")).status, 404);
    const col1 = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col1.id, uidOf(first)), "google-1.ics");
    assert.equal(col1.seq, col0.seq, "a refused PUT does not advance the ctag");
    assert.equal((await c.items(col1.id)).changes.length, col0.seq, "nor log a change");
    assert.ok((await c.get("cal", "google-1.ics")).raw.equals(first));
  });

  it("RFC 4791 §5.3.2.1: the no-uid-conflict href is the holder's URL as PROPFIND lists it (percent-encoded name)", async () => {
    await c.put("cal", "a b@c.ics", event("enc-uid"));
    const res = await c.put("cal", "other.ics", event("enc-uid"));
    assertExplained(res, 409);
    const [href] = davError(res).hrefs;
    assert.equal(decodeURIComponent(href), "/calendars/alice/cal/a b@c.ics");
    const listing = await c.req("PROPFIND", "/calendars/alice/cal/", {
      headers: { depth: "1", "content-type": "application/xml" },
      body: '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>',
    });
    const hrefs = parseXml(listing.body)
      .children.map((r) => r.children.find((h) => h.name === "{DAV:}href")?.text.trim())
      .filter(Boolean);
    assert.ok(hrefs.includes(href), `${href} is among ${hrefs.join(" ")}`);
  });

  it("RFC 4791 §5.3.2.1: re-PUT of the same resource with its own UID is no conflict (204)", async () => {
    await c.put("cal", "self.ics", event("self", "v1"));
    const res = await c.put("cal", "self.ics", event("self", "v2"));
    assert.equal(res.status, 204, res.body);
  });

  it("RFC 4791 §5.3.2.1: a PUT that changes an object's UID → 409 no-uid-conflict naming the object itself; object and reservation unchanged", async () => {
    const first = await c.put("cal", "rename.ics", event("uid-old"));
    const res = await c.put("cal", "rename.ics", event("uid-new"));
    assertExplained(res, 409);
    assert.equal(davError(res).name, `{${CALDAV}}no-uid-conflict`);
    assert.deepEqual(davError(res).hrefs, ["/calendars/alice/cal/rename.ics"]);
    const col = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col.id, "uid-old"), "rename.ics", "the reservation stays");
    assert.equal(await c.uidHolder(col.id, "uid-new"), undefined, "the new UID was not reserved");
    assert.equal((await c.get("cal", "rename.ics")).headers.get("etag"), first.headers.get("etag"));
    // Also under the client's own If-Match with the current ETag: the ETag holds, the UID may still not change.
    const matched = await c.put("cal", "rename.ics", event("uid-new"), {
      "if-match": first.headers.get("etag")!,
    });
    assertExplained(matched, 409);
    // A new UID is a new resource.
    assert.equal((await c.put("cal", "renamed.ics", event("uid-new"))).status, 201);
  });

  it("RFC 4791 §5.3.2.1: changing an object's UID to one another resource holds → 409 naming the object (its UID may not change); object and both reservations unchanged", async () => {
    await c.put("cal", "keep-a.ics", event("uid-a", "A"));
    await c.put("cal", "keep-b.ics", event("uid-b", "B"));
    const res = await c.put("cal", "keep-a.ics", event("uid-b", "A as B"));
    assertExplained(res, 409);
    assert.deepEqual(davError(res).hrefs, ["/calendars/alice/cal/keep-a.ics"]);
    const col = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col.id, "uid-a"), "keep-a.ics", "uid-a was not released");
    assert.equal(await c.uidHolder(col.id, "uid-b"), "keep-b.ics");
    assert.match((await c.get("cal", "keep-a.ics")).body, /SUMMARY:A\r\n/);
  });

  it("RFC 4791 §5.3.2.1: moving a UID between resources (DELETE one, then PUT the UID elsewhere) → 201", async () => {
    await c.put("cal", "move-from.ics", event("uid-move"));
    assert.equal((await c.put("cal", "move-to.ics", event("uid-move"))).status, 409);
    assert.equal((await c.delete("/calendars/alice/cal/move-from.ics")).status, 204);
    const res = await c.put("cal", "move-to.ics", event("uid-move"));
    assert.equal(res.status, 201, res.body);
    const col = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col.id, "uid-move"), "move-to.ics");
    // Moving it back is a conflict again, naming the new holder.
    const back = await c.put("cal", "move-from.ics", event("uid-move"));
    assert.deepEqual(davError(back).hrefs, ["/calendars/alice/cal/move-to.ics"]);
  });

  it("RFC 4791 §5.3.2.1: the same UID in another calendar, or another user's calendar, is no conflict", async () => {
    await c.newCalendar("second");
    await c.put("cal", "shared.ics", event("uid-shared"));
    assert.equal((await c.put("second", "shared.ics", event("uid-shared"))).status, 201);
    const bob = new CalClient(server, "bob");
    await bob.newCalendar("cal");
    assert.equal((await bob.put("cal", "shared.ics", event("uid-shared"))).status, 201);
  });

  it("RFC 9110 §13.2.2: a stale If-Match is answered 412 before the UID conflict is considered", async () => {
    const a = await c.put("cal", "pre-a.ics", event("uid-pre-a", "v1"));
    await c.put("cal", "pre-a.ics", event("uid-pre-a", "v2"));
    await c.put("cal", "pre-b.ics", event("uid-pre-b"));
    const res = await c.put("cal", "pre-a.ics", event("uid-pre-b"), { "if-match": a.headers.get("etag")! });
    assertExplained(res, 412);
  });

  it("RFC 4791 §5.3.2.1: reservations and objects stay one-to-one after all of the above", async () => {
    const col = (await c.collection("cal"))!;
    const items = await c.items(col.id);
    const byName = new Map(items.objects.map((o) => [o.name.S!, o.uid.S!]));
    assert.equal(items.uids.length, items.objects.length, "one reservation per object");
    for (const r of items.uids) {
      const uid = r.sk.S!.slice(2);
      assert.equal(byName.get(r.name.S!), uid, `reservation ${uid} names an object with that UID`);
    }
  });
});
