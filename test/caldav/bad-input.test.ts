/**
 * Bad input gets a clear 4xx (a DAV:error precondition or a plain-text reason, never a stack trace
 * or a DynamoDB error) and leaves the calendar byte for byte as it was: the object's bytes and
 * ETag, the ctag, and every item of the collection's partition.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CalClient, CALDAV, assertExplained, davError, event, fixture } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const c = new CalClient(server);
const CAL = "guarded";
const ORIGINAL = fixture("carldav-ical_instance_mods.ics");

interface Case {
  name: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  precondition?: string;
}

const valid = event("bad-input-new", "fine");
const truncated = ORIGINAL.subarray(0, Math.floor(ORIGINAL.length * 0.6));
const garbage = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 197 + 13) % 256));
const twoMegabytes = Buffer.from(
  event("huge", "huge", { extra: Array.from({ length: 30_000 }, (_, i) => `X-PAD-${i}:${"x".repeat(60)}`) }),
);

const CASES: Case[] = [
  { name: "truncated iCalendar", body: truncated, status: 403, precondition: "valid-calendar-data" },
  {
    name: "a VCALENDAR with two UIDs (khal fixture)",
    body: fixture("khal-mult_uids_and_recuid_no_order.ics"),
    status: 403,
    precondition: "valid-calendar-object-resource",
  },
  {
    name: "a 2 MB body (over max-resource-size, under the request limit)",
    body: twoMegabytes,
    status: 403,
    precondition: "max-resource-size",
  },
  { name: "binary garbage", body: garbage, status: 403, precondition: "valid-calendar-data" },
  {
    name: "binary garbage labelled application/octet-stream",
    body: garbage,
    headers: { "content-type": "application/octet-stream" },
    status: 403,
    precondition: "valid-calendar-data",
  },
  {
    name: "a wrong Content-Type (application/json)",
    body: valid,
    headers: { "content-type": "application/json" },
    status: 403,
    precondition: "supported-calendar-data",
  },
  {
    name: "a wrong Content-Type (text/vcard)",
    body: valid,
    headers: { "content-type": "text/vcard" },
    status: 403,
    precondition: "supported-calendar-data",
  },
  { name: "an empty body", body: "", status: 403, precondition: "valid-calendar-data" },
  {
    name: "an XML document",
    body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"/>',
    status: 403,
    precondition: "valid-calendar-data",
  },
  {
    name: "a control character in a content line (RFC 5545 §3.1, §3.3.11)",
    body: event("bad-input-ctl", "form\ffeed"),
    status: 403,
    precondition: "valid-calendar-data",
  },
  {
    name: "an impossible DTSTART, month 13 and hour 25 (RFC 5545 §3.3.5)",
    body: valid.replace(/DTSTART[^\r\n]*/, "DTSTART:20311345T250000Z"),
    status: 403,
    precondition: "valid-calendar-data",
  },
  {
    name: "two VCALENDARs concatenated (collective fixture)",
    body: fixture("collective-issue_1050_multiple_calendars.ics"),
    status: 403,
    precondition: "valid-calendar-data",
  },
];

describe("Bad input leaves the calendar unchanged (RFC 4791 §5.3.2.1, RFC 9110 §15.5)", () => {
  before(async () => {
    await c.newCalendar(CAL);
    assert.equal((await c.put(CAL, "existing.ics", ORIGINAL)).status, 201);
    assert.equal((await c.put(CAL, "other.ics", event("bad-input-other"))).status, 201);
    assert.ok(twoMegabytes.length > 2_000_000 && twoMegabytes.length < 4 * 1024 * 1024);
  });

  for (const k of CASES) {
    it(`RFC 4791 §5.3.2.1: ${k.name} → ${k.status}${k.precondition ? ` ${k.precondition}` : ""}, over an existing object and at a new URL, nothing changed`, async () => {
      const before = await c.snapshot(CAL, "existing.ics");
      for (const target of ["existing.ics", "new.ics"]) {
        const res = await c.put(CAL, target, k.body, k.headers);
        assertExplained(res, k.status);
        if (k.precondition) assert.equal(davError(res).name, `{${CALDAV}}${k.precondition}`, res.body);
        assert.ok(res.body.length < 4096, "the answer does not echo the body");
      }
      assert.deepEqual(await c.snapshot(CAL, "existing.ics"), before);
      assert.equal((await c.get(CAL, "new.ics")).status, 404);
      assert.ok((await c.get(CAL, "existing.ics")).raw.equals(ORIGINAL), "byte for byte");
    });
  }

  it("RFC 9110 §15.5.14: a body over the request limit (5 MB) → 413, nothing changed", async () => {
    const before = await c.snapshot(CAL, "existing.ics");
    const res = await c.put(CAL, "existing.ics", Buffer.alloc(5 * 1024 * 1024, 0x41));
    assertExplained(res, 413);
    assert.deepEqual(await c.snapshot(CAL, "existing.ics"), before);
  });

  it("RFC 4791 §5.3.2.1: refused conditional and conflicting writes (412, 409) change nothing either", async () => {
    const before = await c.snapshot(CAL, "existing.ics");
    assertExplained(await c.put(CAL, "existing.ics", valid, { "if-match": '"stale"' }), 412);
    assertExplained(await c.put(CAL, "existing.ics", valid, { "if-none-match": "*" }), 412);
    const clash = await c.put(CAL, "existing.ics", event("bad-input-other"));
    assertExplained(clash, 409);
    assert.equal(davError(clash).name, `{${CALDAV}}no-uid-conflict`);
    assertExplained(await c.delete(`/calendars/alice/${CAL}/existing.ics`, { "if-match": '"stale"' }), 412);
    assert.deepEqual(await c.snapshot(CAL, "existing.ics"), before);
  });

  it("RFC 4918 §9.7 / RFC 4791 §5.3.2.1: a name or UID too long for a DynamoDB key → 403/404 with a reason, never a 500", async () => {
    const before = await c.snapshot(CAL, "existing.ics");
    const longName = `${"n".repeat(1100)}.ics`;
    const byName = await c.put(CAL, longName, event("long-name"));
    assertExplained(byName, 403);
    assert.match(byName.body, /at most 512 bytes/);
    assertExplained(await c.get(CAL, longName), 404);
    assert.equal((await c.req("HEAD", `/calendars/alice/${CAL}/${longName}`)).status, 404);
    assertExplained(await c.delete(`/calendars/alice/${CAL}/${longName}`), 404);
    const byUid = await c.put(CAL, "long-uid.ics", event("u".repeat(1100)));
    assertExplained(byUid, 403);
    assert.equal(davError(byUid).name, `{${CALDAV}}valid-calendar-object-resource`);
    assert.deepEqual(await c.snapshot(CAL, "existing.ics"), before);

    const longCal = "c".repeat(1100);
    assertExplained(await c.mkcalendar(longCal), 403);
    assertExplained(await c.req("MKCOL", `/calendars/alice/${longCal}/`), 403);
    assertExplained(await c.put(longCal, "x.ics", event("in-long-cal")), 409);
    assertExplained(await c.delete(`/calendars/alice/${longCal}/`), 404);
    const pf = await c.req("PROPFIND", `/calendars/alice/${longCal}/`, { headers: { depth: "0" } });
    assertExplained(pf, 404);
    // A name at the limit works.
    const atLimit = `${"m".repeat(508)}.ics`;
    assert.equal((await c.put(CAL, atLimit, event("at-limit"))).status, 201);
    assert.equal((await c.get(CAL, atLimit)).status, 200);
  });
});
