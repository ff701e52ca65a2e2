/**
 * Calendar object resources (RFC 4791 §4, §5.3.2; RFC 4918 §9.4, §9.6, §9.7; RFC 9110 §13):
 * PUT/GET/HEAD/DELETE with strong ETags, conditional requests evaluated in the DynamoDB condition,
 * and the PUT preconditions of RFC 4791 §5.3.2.1, through the HTTP front door on DynamoDB Local.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  CalClient,
  CALDAV,
  assertExplained,
  davError,
  event,
  fixture,
  todo,
  uidOf,
  vcalendar,
  veventLines,
} from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer({ maxResourceSize: 64 * 1024 });
const c = new CalClient(server);
const pre = (local: string) => `{${CALDAV}}${local}`;

describe("RFC 4791 §5.3.2: PUT, GET, HEAD and DELETE of calendar objects", () => {
  before(async () => {
    await c.newCalendar("cal");
  });

  it("RFC 4791 §5.3.2: PUT of a new object → 201 with a strong ETag; GET returns the same bytes and ETag", async () => {
    const body = event("obj-1", "First");
    const res = await c.put("cal", "obj-1.ics", body);
    assert.equal(res.status, 201, res.body);
    const etag = res.headers.get("etag");
    assert.match(etag ?? "", /^"[^"]+"$/, "a strong entity-tag (RFC 4791 §5.3.4)");
    const got = await c.get("cal", "obj-1.ics");
    assert.equal(got.status, 200);
    assert.equal(got.body, body);
    assert.equal(got.headers.get("etag"), etag);
    assert.match(got.headers.get("content-type") ?? "", /^text\/calendar/);
    assert.ok(got.headers.get("last-modified"));
  });

  it("RFC 4918 §9.6.1: a GET after the calendar was deleted and re-created at the same URL never answers the old member (the warm function's remembered collection id is overruled by the collection read with it)", async () => {
    const first = await c.newCalendar("again");
    assert.equal((await c.put("again", "x.ics", event("again-x", "old"))).status, 201);
    // Twice, so the warm function has seen the calendar and reads it with the member in one batch.
    assert.equal((await c.get("again", "x.ics")).status, 200);
    assert.equal((await c.get("again", "x.ics")).body, event("again-x", "old"));
    assert.equal((await c.delete(c.calHref("again"))).status, 204);
    assert.equal((await c.get("again", "x.ics")).status, 404, "the calendar is gone");
    const second = await c.newCalendar("again");
    assert.notEqual(second.id, first.id);
    assert.equal((await c.get("again", "x.ics")).status, 404, "the new calendar is empty");
    const put = await c.put("again", "x.ics", event("again-x", "new"));
    assert.equal(put.status, 201, "no old member or UID holds the name");
    const got = await c.get("again", "x.ics");
    assert.equal(got.body, event("again-x", "new"));
    assert.equal(got.headers.get("etag"), put.headers.get("etag"));
  });

  it("RFC 4918 §9.4: HEAD answers GET's headers (ETag, Content-Type, Content-Length) without a body", async () => {
    const body = event("obj-head", "Héad ünïcode");
    const put = await c.put("cal", "head.ics", body);
    const res = await c.req("HEAD", "/calendars/alice/cal/head.ics");
    assert.equal(res.status, 200);
    assert.equal(res.raw.length, 0);
    assert.equal(res.headers.get("etag"), put.headers.get("etag"));
    assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(body)));
    assert.match(res.headers.get("content-type") ?? "", /^text\/calendar/);
    assert.equal((await c.req("HEAD", "/calendars/alice/cal/absent.ics")).status, 404);
  });

  it("RFC 4791 §4.1: real-world objects (Apple, Thunderbird, RFC 4791 VTODO) are stored and returned byte for byte", async () => {
    for (const file of [
      "carldav-ical_instance_mods.ics",
      "ical4j-apple-iphone-os-26-structured-location.ics",
      "collective-alarm_thunderbird_snoozed_until_1457.ics",
      "pyvobject-vtodo.ics",
    ]) {
      const bytes = fixture(file);
      const res = await c.put("cal", file, bytes);
      assert.equal(res.status, 201, `${file}: ${res.body}`);
      const got = await c.get("cal", file);
      assert.ok(got.raw.equals(bytes), `${file} round-trips byte for byte`);
      assert.equal(got.headers.get("etag"), res.headers.get("etag"));
      const col = (await c.collection("cal"))!;
      assert.equal(await c.uidHolder(col.id, uidOf(bytes)), file, `${file}'s UID is reserved for it`);
    }
  });

  it("RFC 4791 §5.3.2: PUT over an existing object → 204 with the new ETag; GET returns the new version", async () => {
    const first = await c.put("cal", "upd.ics", event("upd", "v1"));
    assert.equal(first.status, 201);
    const second = await c.put("cal", "upd.ics", event("upd", "v2"));
    assert.equal(second.status, 204, second.body);
    const etag = second.headers.get("etag");
    assert.ok(etag && etag !== first.headers.get("etag"), "a changed body gets a new ETag");
    const got = await c.get("cal", "upd.ics");
    assert.match(got.body, /SUMMARY:v2/);
    assert.equal(got.headers.get("etag"), etag);
    // Byte-identical content keeps its strong ETag.
    const same = await c.put("cal", "upd.ics", event("upd", "v2"));
    assert.equal(same.status, 204);
    assert.equal(same.headers.get("etag"), etag);
  });

  it("RFC 9110 §13.1.2: PUT with If-None-Match: * creates (201) but never overwrites (412, object unchanged)", async () => {
    const created = await c.put("cal", "inm.ics", event("inm", "original"), { "if-none-match": "*" });
    assert.equal(created.status, 201);
    const again = await c.put("cal", "inm.ics", event("inm", "overwrite"), { "if-none-match": "*" });
    assertExplained(again, 412);
    const got = await c.get("cal", "inm.ics");
    assert.match(got.body, /SUMMARY:original/);
    assert.equal(got.headers.get("etag"), created.headers.get("etag"));
  });

  it("RFC 9110 §13.1.1: PUT with the current If-Match → 204; with a stale one → 412 and the object is unchanged", async () => {
    const v1 = await c.put("cal", "im.ics", event("im", "v1"));
    const e1 = v1.headers.get("etag")!;
    const v2 = await c.put("cal", "im.ics", event("im", "v2"), { "if-match": e1 });
    assert.equal(v2.status, 204, v2.body);
    const stale = await c.put("cal", "im.ics", event("im", "v3"), { "if-match": e1 });
    assertExplained(stale, 412);
    assert.equal(stale.headers.get("etag"), v2.headers.get("etag"), "the 412 names the current ETag");
    const got = await c.get("cal", "im.ics");
    assert.match(got.body, /SUMMARY:v2/);
    // A list with the current tag among others matches.
    const listed = await c.put("cal", "im.ics", event("im", "v4"), {
      "if-match": `"nope", ${v2.headers.get("etag")}`,
    });
    assert.equal(listed.status, 204);
  });

  it("RFC 9110 §13.1.1: If-Match on a missing resource → 412 and nothing is created (also If-Match: *)", async () => {
    for (const tag of ['"abc"', "*"]) {
      const res = await c.put("cal", "ghost.ics", event("ghost"), { "if-match": tag });
      assertExplained(res, 412);
      assert.equal((await c.get("cal", "ghost.ics")).status, 404);
    }
    const col = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col.id, "ghost"), undefined, "no UID reservation was left behind");
  });

  it("RFC 9110 §13.1.1: a weak entity-tag in If-Match never matches for PUT (strong comparison) → 412", async () => {
    const v1 = await c.put("cal", "weak.ics", event("weak", "v1"));
    const res = await c.put("cal", "weak.ics", event("weak", "v2"), {
      "if-match": `W/${v1.headers.get("etag")}`,
    });
    assertExplained(res, 412);
    assert.match((await c.get("cal", "weak.ics")).body, /SUMMARY:v1/);
  });

  it("RFC 9110 §13.1.2: If-None-Match with tags uses the weak comparison: the current tag (even as W/) → 412, another → 204", async () => {
    const v1 = await c.put("cal", "inm-list.ics", event("inm-list", "v1"));
    const tag = v1.headers.get("etag")!;
    assertExplained(
      await c.put("cal", "inm-list.ics", event("inm-list", "v2"), { "if-none-match": tag }),
      412,
    );
    assertExplained(
      await c.put("cal", "inm-list.ics", event("inm-list", "v2"), { "if-none-match": `"other", W/${tag}` }),
      412,
    );
    assert.match((await c.get("cal", "inm-list.ics")).body, /SUMMARY:v1/);
    const ok = await c.put("cal", "inm-list.ics", event("inm-list", "v3"), { "if-none-match": '"other"' });
    assert.equal(ok.status, 204);
    // GET with the current tag in If-None-Match → 304 Not Modified.
    const cond = await c.get("cal", "inm-list.ics", { "if-none-match": ok.headers.get("etag")! });
    assert.equal(cond.status, 304);
  });

  it("RFC 9110 §13.1.1: long If-Match / If-None-Match lists (600 tags) are evaluated, not turned into a condition per tag: 412 or success, never a 5xx; past 8 KB → 431", async () => {
    const v1 = await c.put("cal", "long-list.ics", event("long-list", "v1"));
    const many = Array.from({ length: 600 }, (_, i) => `"t${i}"`);
    const stale = many.join(", ");
    assertExplained(
      await c.put("cal", "long-list.ics", event("long-list", "v2"), { "if-match": stale }),
      412,
    );
    assertExplained(await c.delete("/calendars/alice/cal/long-list.ics", { "if-match": stale }), 412);
    const withCurrent = [...many.slice(0, 599), v1.headers.get("etag")!].join(", ");
    assert.ok(withCurrent.length > 4300, `${withCurrent.length} characters`);
    const ok = await c.put("cal", "long-list.ics", event("long-list", "v2"), { "if-match": withCurrent });
    assert.equal(ok.status, 204, ok.body);
    assertExplained(
      await c.put("cal", "long-list.ics", event("long-list", "v3"), {
        "if-none-match": [...many, ok.headers.get("etag")!].join(", "),
      }),
      412,
    );
    const deleted = await c.delete("/calendars/alice/cal/long-list.ics", {
      "if-match": [...many.slice(0, 599), ok.headers.get("etag")!].join(", "),
    });
    assert.equal(deleted.status, 204, deleted.body);
    const huge = Array.from({ length: 1200 }, (_, i) => `"tag-${i}"`).join(",");
    assertExplained(await c.put("cal", "long-list.ics", event("long-list"), { "if-match": huge }), 431);
  });

  it("RFC 9110 §13.1.1: a malformed If-Match header → 400 with a reason", async () => {
    const res = await c.put("cal", "bad-im.ics", event("bad-im"), { "if-match": "no-quotes" });
    assertExplained(res, 400);
  });

  it("RFC 4918 §9.6: DELETE removes the object and its UID reservation (204; then GET 404)", async () => {
    await c.put("cal", "del.ics", event("del"));
    const col = (await c.collection("cal"))!;
    assert.equal(await c.uidHolder(col.id, "del"), "del.ics");
    const res = await c.delete("/calendars/alice/cal/del.ics");
    assert.equal(res.status, 204);
    assert.equal((await c.get("cal", "del.ics")).status, 404);
    assert.equal(await c.uidHolder(col.id, "del"), undefined);
    assertExplained(await c.delete("/calendars/alice/cal/del.ics"), 404);
  });

  it("RFC 9110 §13.1.1: DELETE with a stale If-Match → 412 and the object stays; with the current one → 204", async () => {
    const v1 = await c.put("cal", "del-im.ics", event("del-im", "v1"));
    const v2 = await c.put("cal", "del-im.ics", event("del-im", "v2"));
    assertExplained(
      await c.delete("/calendars/alice/cal/del-im.ics", { "if-match": v1.headers.get("etag")! }),
      412,
    );
    assert.equal((await c.get("cal", "del-im.ics")).status, 200);
    const ok = await c.delete("/calendars/alice/cal/del-im.ics", { "if-match": v2.headers.get("etag")! });
    assert.equal(ok.status, 204);
    assertExplained(await c.delete("/calendars/alice/cal/del-im.ics", { "if-match": "*" }), 412);
  });

  it("RFC 4918 §9.7.1 / RFC 4791 §5.3.2: PUT into a calendar that does not exist → 409, nothing stored", async () => {
    const res = await c.put("no-such-cal", "x.ics", event("orphan"));
    assertExplained(res, 409);
    assert.equal(await c.collection("no-such-cal"), undefined);
  });

  it("RFC 4918 §9.6: DELETE of an object in a calendar that does not exist → 404", async () => {
    assertExplained(await c.delete("/calendars/alice/no-such-cal/x.ics"), 404);
  });

  it("RFC 4791 §5.3.2.1: GET of a missing object → 404 with a reason", async () => {
    assertExplained(await c.get("cal", "missing.ics"), 404);
  });
});

describe("RFC 4791 §5.3.2.1: PUT preconditions", () => {
  before(async () => {
    await c.newCalendar("checks");
  });

  const refused = async (body: string | Buffer, precondition: string, headers = {}) => {
    const res = await c.put("checks", "x.ics", body, headers);
    assertExplained(res, 403);
    assert.equal(davError(res).name, pre(precondition), res.body);
    assert.equal((await c.get("checks", "x.ics")).status, 404, "nothing was stored");
    return res;
  };

  it("RFC 4791 §5.3.2.1 valid-calendar-data: truncated iCalendar → 403", async () => {
    const full = event("trunc");
    await refused(full.slice(0, full.indexOf("END:VEVENT")), "valid-calendar-data");
  });

  it("RFC 4791 §5.3.2.1 valid-calendar-data: binary garbage → 403", async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
    await refused(garbage, "valid-calendar-data");
  });

  it("RFC 4791 §4.1 valid-calendar-object-resource: a VCALENDAR with two UIDs (khal fixture) → 403", async () => {
    const res = await refused(
      fixture("khal-mult_uids_and_recuid_no_order.ics"),
      "valid-calendar-object-resource",
    );
    assert.match(res.body, /UID/);
  });

  it("RFC 4791 §4.1 valid-calendar-object-resource: a METHOD property (Outlook fixture) → 403", async () => {
    const res = await refused(fixture("ical4j-Standup.ics"), "valid-calendar-object-resource");
    assert.match(res.body, /METHOD/);
  });

  it("RFC 4791 §4.1 valid-calendar-object-resource: two component types (VEVENT + VTODO, one UID) → 403", async () => {
    const body = vcalendar(
      ...veventLines({ uid: "mixed" }),
      "BEGIN:VTODO",
      "UID:mixed",
      "DTSTAMP:20240101T000000Z",
      "END:VTODO",
    );
    await refused(body, "valid-calendar-object-resource");
  });

  it("RFC 4791 §5.3.2.1 supported-calendar-component: VFREEBUSY into a VEVENT/VTODO/VJOURNAL calendar → 403", async () => {
    await refused(fixture("biweekly-rfc5545-example6.ics"), "supported-calendar-component");
  });

  it("RFC 4791 §5.3.2.1 max-resource-size: an object over the limit (400 KB Apple feed; limit 64 KB) → 403", async () => {
    const res = await refused(fixture("ical4j-mathBirthdays.ics"), "max-resource-size");
    assert.match(res.body, /65536/);
  });

  it("RFC 4791 §5.3.2.1 min-date-time / max-date-time: events before 1900 or after 2999 → 403", async () => {
    await refused(
      event("old", "old", { start: "18000101T100000Z", end: "18000101T110000Z" }),
      "min-date-time",
    );
    await refused(
      event("far", "far", { start: "31000101T100000Z", end: "31000101T110000Z" }),
      "max-date-time",
    );
  });

  it("RFC 4791 §5.3.2.1 supported-calendar-data: a vCard sent as a calendar object → 403", async () => {
    const vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card\r\nFN:X\r\nEND:VCARD\r\n";
    await refused(vcard, "supported-calendar-data");
  });

  it("RFC 4791 §5.3.2.1 supported-calendar-data: a Content-Type other than text/calendar → 403 with the precondition", async () => {
    const res = await c.put("checks", "x.ics", event("ct"), { "content-type": "application/json" });
    assertExplained(res, 403);
    assert.equal(davError(res).name, pre("supported-calendar-data"));
    assert.equal((await c.get("checks", "x.ics")).status, 404);
  });

  it("RFC 4791 §5.3.2: a VTODO is accepted in a default calendar (201) and served as text/calendar", async () => {
    const res = await c.put("checks", "todo.ics", todo("todo-1"));
    assert.equal(res.status, 201, res.body);
    assert.match((await c.get("checks", "todo.ics")).headers.get("content-type") ?? "", /^text\/calendar/);
  });
});
