/**
 * CalDAV REPORTs over HTTP against DynamoDB Local: the RFC 4791 Appendix B queries on the RFC's own
 * data, calendar-multiget, partial calendar-data, expansion, free-busy, calendar export, unsupported
 * filters, and a weekly series with an override and an exclusion across a DST change.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { BERLIN_VTIMEZONE, CalClient, event, vcalendar } from "../helpers/ical.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS, type MsResponse } from "../helpers/xml.js";
import { parseXml } from "../../lib/xml/parse.js";

const NS = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"`;
const CAL_DATA = "{urn:ietf:params:xml:ns:caldav}calendar-data";

const server: TestServer = await startTestServer();
const alice = new CalClient(server);

function report(cal: string, body: string, depth = "1") {
  return alice.req("REPORT", alice.calHref(cal), { headers: { ...XML_HEADERS, depth }, body });
}

const names = (rs: MsResponse[]) => rs.map((r) => r.href.split("/").pop()!).sort();
const dataOf = (r: MsResponse) =>
  r.propstats.find((p) => p.status === 200)?.props.find((p) => p.name === CAL_DATA)?.text ?? "";

const fixtures = new URL("../fixtures/rfc4791/", import.meta.url);

describe("RFC 4791 Appendix B over HTTP", async () => {
  await alice.newCalendar(
    "rfc",
    `<C:mkcalendar ${NS}><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VFREEBUSY"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
  );
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith(".ics"))) {
    const res = await alice.put("rfc", f, readFileSync(new URL(f, fixtures)));
    assert.equal(res.status, 201, `${f}: ${res.body}`);
  }
  const expected = JSON.parse(readFileSync(new URL("queries/expected.json", fixtures), "utf8")) as Record<
    string,
    string[]
  >;
  for (const [query, hits] of Object.entries(expected)) {
    it(`RFC 4791 §${query.split("-")[0]} calendar-query (${query.slice(query.indexOf("-") + 1)}) → ${hits.join(", ")}`, async () => {
      const filter = readFileSync(new URL(`queries/${query}.xml`, fixtures), "utf8").replace(
        /<\?xml[^>]*\?>/,
        "",
      );
      const res = await report(
        "rfc",
        `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop>${filter}</C:calendar-query>`,
      );
      assert.equal(res.status, 207, res.body);
      assert.deepEqual(names(parseMultistatus(res.body)), hits);
    });
  }

  it("RFC 4791 §7.8.3 / §9.6.5: expand returns the instances in the range as UTC overrides without RRULE", async () => {
    const res = await report(
      "rfc",
      `<C:calendar-query ${NS}><D:prop><C:calendar-data><C:expand start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data></D:prop>
       <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060103T000000Z" end="20060105T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    );
    const rs = parseMultistatus(res.body);
    assert.deepEqual(names(rs), ["abc2.ics", "abc3.ics"]);
    const abc2 = dataOf(rs.find((r) => r.href.endsWith("abc2.ics"))!);
    assert.doesNotMatch(abc2, /RRULE|VTIMEZONE/);
    // The RFC's own answer: 12:00 US/Eastern is 17:00Z, and the override moved the 4th to 19:00Z.
    assert.match(abc2, /RECURRENCE-ID:20060103T170000Z/);
    assert.match(abc2, /DTSTART:20060103T170000Z/);
    assert.match(abc2, /RECURRENCE-ID:20060104T170000Z/);
    assert.match(abc2, /DTSTART:20060104T190000Z/);
    assert.match(abc2, /SUMMARY:Event #2 bis/);
  });

  it("RFC 4791 §9.6: calendar-data with comp/prop returns only the requested parts", async () => {
    const res = await report(
      "rfc",
      `<C:calendar-multiget ${NS}><D:prop><C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/></C:comp></C:comp></C:calendar-data></D:prop><D:href>${alice.calHref("rfc")}abc1.ics</D:href></C:calendar-multiget>`,
    );
    const data = dataOf(parseMultistatus(res.body)[0]);
    assert.match(data, /SUMMARY:Event #1/);
    assert.match(data, /UID:74855313FA803DA593CD579A@example.com/);
    assert.doesNotMatch(data, /DTSTART|VTIMEZONE|PRODID|Description/i);
  });
});

describe("calendar-multiget, free-busy, export", () => {
  it("RFC 4791 §7.9: multiget returns each href's data, and 404 for hrefs that do not exist", async () => {
    await alice.newCalendar("mg");
    const a = event("mg-a", "A");
    await alice.put("mg", "a.ics", a);
    await alice.put("mg", "b.ics", event("mg-b", "B"));
    const base = alice.calHref("mg");
    const res = await report(
      "mg",
      `<C:calendar-multiget ${NS}><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>${base}a.ics</D:href><D:href>${base}missing.ics</D:href><D:href>/calendars/bob/default/x.ics</D:href></C:calendar-multiget>`,
    );
    assert.equal(res.status, 207);
    const rs = parseMultistatus(res.body);
    assert.equal(rs.length, 3);
    assert.equal(dataOf(rs.find((r) => r.href === `${base}a.ics`)!), a);
    assert.equal(rs.find((r) => r.href === `${base}missing.ics`)?.status, 404);
    assert.equal(
      rs.find((r) => r.href.startsWith("/calendars/bob/"))?.status,
      403,
      "another user's object is not readable",
    );
  });

  it("RFC 4791 §7.10: free-busy-query answers a VFREEBUSY honouring TRANSP and STATUS", async () => {
    await alice.newCalendar("fb");
    const at = (uid: string, start: string, end: string, extra: string[] = []) =>
      event(uid, uid, { start, end, extra });
    await alice.put("fb", "busy.ics", at("busy", "20260301T090000Z", "20260301T100000Z"));
    await alice.put(
      "fb",
      "free.ics",
      at("free", "20260301T110000Z", "20260301T120000Z", ["TRANSP:TRANSPARENT"]),
    );
    await alice.put(
      "fb",
      "cancel.ics",
      at("cancel", "20260301T130000Z", "20260301T140000Z", ["STATUS:CANCELLED"]),
    );
    await alice.put(
      "fb",
      "tent.ics",
      at("tent", "20260301T150000Z", "20260301T160000Z", ["STATUS:TENTATIVE"]),
    );
    await alice.put("fb", "outside.ics", at("outside", "20260401T090000Z", "20260401T100000Z"));
    const res = await report(
      "fb",
      `<C:free-busy-query ${NS}><C:time-range start="20260301T000000Z" end="20260302T000000Z"/></C:free-busy-query>`,
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/calendar/);
    const lines = res.body.split(/\r?\n/).filter((l) => l.startsWith("FREEBUSY"));
    assert.deepEqual(lines, [
      "FREEBUSY;FBTYPE=BUSY:20260301T090000Z/20260301T100000Z",
      "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260301T150000Z/20260301T160000Z",
    ]);
  });

  it("GET on a calendar collection returns one text/calendar holding every event, VTIMEZONEs merged", async () => {
    await alice.newCalendar("exp");
    const tz = BERLIN_VTIMEZONE;
    const ev = (uid: string) =>
      vcalendar(
        ...tz,
        "BEGIN:VEVENT",
        `UID:${uid}`,
        "DTSTAMP:20260101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20260110T100000",
        "SUMMARY:x",
        "END:VEVENT",
      );
    await alice.put("exp", "a.ics", ev("exp-a"));
    await alice.put("exp", "b.ics", ev("exp-b"));
    const res = await alice.req("GET", alice.calHref("exp"));
    assert.equal(res.status, 200);
    assert.equal((res.body.match(/^BEGIN:VCALENDAR/gm) ?? []).length, 1);
    assert.equal((res.body.match(/^BEGIN:VTIMEZONE/gm) ?? []).length, 1);
    assert.match(res.body, /UID:exp-a/);
    assert.match(res.body, /UID:exp-b/);
  });
});

describe("calendar-query edge cases", () => {
  it("RFC 4791 §7.7: an unknown collation → 403 supported-collation; a filter on an unknown element → 403 supported-filter / valid-filter", async () => {
    await alice.newCalendar("edge");
    const bad = await report(
      "edge",
      `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
    );
    assert.equal(bad.status, 403);
    assert.equal(parseXml(bad.body).children[0].name, "{urn:ietf:params:xml:ns:caldav}supported-collation");
    const noFilter = await report(
      "edge",
      `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop></C:calendar-query>`,
    );
    assert.equal(noFilter.status, 403);
  });

  it("RFC 4791 §9.9: a weekly series with an overridden and an excluded instance across the DST change (Europe/Berlin)", async () => {
    await alice.newCalendar("dst");
    const tz = [
      "BEGIN:VTIMEZONE",
      "TZID:Europe/Berlin",
      "BEGIN:DAYLIGHT",
      "DTSTART:19700329T020000",
      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
      "TZOFFSETFROM:+0100",
      "TZOFFSETTO:+0200",
      "END:DAYLIGHT",
      "BEGIN:STANDARD",
      "DTSTART:19701025T030000",
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
      "TZOFFSETFROM:+0200",
      "TZOFFSETTO:+0100",
      "END:STANDARD",
      "END:VTIMEZONE",
    ];
    // Mondays 09:00 Berlin from 2026-03-16; DST starts 2026-03-29. 03-23 is moved to 14:00, 04-06 is excluded.
    const body = vcalendar(
      ...tz,
      "BEGIN:VEVENT",
      "UID:dst-weekly",
      "DTSTAMP:20260101T000000Z",
      "DTSTART;TZID=Europe/Berlin:20260316T090000",
      "DURATION:PT1H",
      "RRULE:FREQ=WEEKLY;COUNT=6",
      "EXDATE;TZID=Europe/Berlin:20260406T090000",
      "SUMMARY:Standup",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:dst-weekly",
      "DTSTAMP:20260101T000000Z",
      "RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000",
      "DTSTART;TZID=Europe/Berlin:20260323T140000",
      "DURATION:PT1H",
      "SUMMARY:Standup (moved)",
      "END:VEVENT",
    );
    assert.equal((await alice.put("dst", "weekly.ics", body)).status, 201);
    const query = (start: string, end: string) =>
      report(
        "dst",
        `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${start}" end="${end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
      ).then((r) => names(parseMultistatus(r.body)));
    // Before DST (UTC+1): 2026-03-16 09:00 Berlin = 08:00Z.
    assert.deepEqual(await query("20260316T080000Z", "20260316T081500Z"), ["weekly.ics"]);
    // The moved instance is at 13:00Z on 03-23, and no longer at 08:00Z.
    assert.deepEqual(await query("20260323T080000Z", "20260323T090000Z"), []);
    assert.deepEqual(await query("20260323T130000Z", "20260323T133000Z"), ["weekly.ics"]);
    // After DST (UTC+2): 2026-03-30 09:00 Berlin = 07:00Z, not 08:00Z.
    assert.deepEqual(await query("20260330T070000Z", "20260330T073000Z"), ["weekly.ics"]);
    assert.deepEqual(await query("20260330T080000Z", "20260330T083000Z"), []);
    // The excluded date has no instance.
    assert.deepEqual(await query("20260406T000000Z", "20260407T000000Z"), []);
    // The series ends after six occurrences (last one 2026-04-20).
    assert.deepEqual(await query("20260420T070000Z", "20260420T073000Z"), ["weekly.ics"]);
    assert.deepEqual(await query("20260427T000000Z", "20260428T000000Z"), []);
  });
});

describe("RFC 5545 §3.6.2: a recurring task without DTSTART, anchored on DUE", () => {
  it("is stored (201), found by a time-range on a later DUE, missed between DUEs, and expanded into DUE instances", async () => {
    await alice.newCalendar("tasks");
    const body = vcalendar(
      "BEGIN:VTODO",
      "UID:weekly-task",
      "DTSTAMP:20260101T000000Z",
      "DUE:20260105T170000Z",
      "RRULE:FREQ=WEEKLY;COUNT=4",
      "SUMMARY:Timesheet",
      "END:VTODO",
    );
    const put = await alice.put("tasks", "timesheet.ics", body);
    assert.equal(put.status, 201, put.body);
    const query = (start: string, end: string, data = "") =>
      report(
        "tasks",
        `<C:calendar-query ${NS}><D:prop><D:getetag/>${data}</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:time-range start="${start}" end="${end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
      ).then((r) => parseMultistatus(r.body));
    // The third DUE is 2026-01-19 17:00Z; nothing is due on 01-22; the set ends after 01-26.
    assert.deepEqual(names(await query("20260119T160000Z", "20260119T180000Z")), ["timesheet.ics"]);
    assert.deepEqual(names(await query("20260122T000000Z", "20260123T000000Z")), []);
    assert.deepEqual(names(await query("20260202T000000Z", "20260203T000000Z")), []);
    const [expanded] = await query(
      "20260110T000000Z",
      "20260121T000000Z",
      `<C:calendar-data><C:expand start="20260110T000000Z" end="20260121T000000Z"/></C:calendar-data>`,
    );
    const text = dataOf(expanded);
    assert.deepEqual(
      text.match(/^DUE:.*$/gm)?.map((l) => l.trim()),
      ["DUE:20260112T170000Z", "DUE:20260119T170000Z"],
    );
    assert.deepEqual(
      text.match(/^RECURRENCE-ID:.*$/gm)?.map((l) => l.trim()),
      ["RECURRENCE-ID:20260112T170000Z", "RECURRENCE-ID:20260119T170000Z"],
    );
    assert.doesNotMatch(text, /RRULE|DTSTART/);
  });
});

describe("RFC 3253 §3.6, RFC 4791 §7.8: calendar-query and the Depth header", () => {
  it("without Depth a query on a calendar searches its objects (as other servers do); an explicit Depth: 0 evaluates the calendar itself and matches nothing", async () => {
    const body = `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter></C:filter></C:calendar-query>`;
    const none = await alice.req("REPORT", alice.calHref("rfc"), { headers: XML_HEADERS, body });
    assert.equal(none.status, 207, none.body);
    assert.ok(parseMultistatus(none.body).length > 0, "the VTODOs of the calendar");
    const zero = await report("rfc", body, "0");
    assert.deepEqual(parseMultistatus(zero.body), []);
    assert.deepEqual(
      names(parseMultistatus(none.body)),
      names(parseMultistatus((await report("rfc", body, "1")).body)),
    );
  });
});

describe("RFC 4791 §9.7, §9.8: a query the server cannot answer as meant is refused", () => {
  it("an invalid filter → 403 valid-filter; a CALDAV:timezone that is not one VTIMEZONE → 403 valid-calendar-data", async () => {
    const q = (inner: string) =>
      report("rfc", `<C:calendar-query ${NS}><D:prop><D:getetag/></D:prop>${inner}</C:calendar-query>`);
    const refusedWith = async (inner: string, precondition: string) => {
      const res = await q(inner);
      assert.equal(res.status, 403, res.body);
      assert.ok(
        parseXml(res.body).children.some((c) => c.name === `{urn:ietf:params:xml:ns:caldav}${precondition}`),
        res.body,
      );
    };
    await refusedWith(`<C:filter><C:comp-filter name="VEVENT"/></C:filter>`, "valid-filter");
    await refusedWith(
      `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VALARM"/></C:comp-filter></C:filter>`,
      "valid-filter",
    );
    const events = `<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>`;
    const withEvent = vcalendar(
      "BEGIN:VEVENT",
      "UID:tz-in-query",
      "DTSTAMP:20060101T000000Z",
      "DTSTART:20060101T000000Z",
      "END:VEVENT",
    );
    await refusedWith(`<C:timezone><![CDATA[${withEvent}]]></C:timezone>${events}`, "valid-calendar-data");
    const zoned = vcalendar(...BERLIN_VTIMEZONE);
    assert.equal((await q(`<C:timezone><![CDATA[${zoned}]]></C:timezone>${events}`)).status, 207);
  });
});

describe("RFC 3253 §3.8 expand-property", () => {
  it("expands calendar-home-set on the principal into the home's own properties, and reports unknown ones as 404", async () => {
    const res = await alice.req("REPORT", "/principals/alice/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:expand-property ${NS}><D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"><D:property name="displayname"/><D:property name="resourcetype"/></D:property><D:property name="displayname"/><D:property name="no-such-prop" namespace="urn:x"/></D:expand-property>`,
    });
    assert.equal(res.status, 207, res.body);
    const [r] = parseMultistatus(res.body);
    assert.equal(r.href, "/principals/alice/");
    const ok = r.propstats.find((p) => p.status === 200)!;
    const home = ok.props.find((p) => p.name === "{urn:ietf:params:xml:ns:caldav}calendar-home-set")!;
    const inner = home.children.find((c) => c.name === "{DAV:}response")!;
    assert.equal(inner.children.find((c) => c.name === "{DAV:}href")?.text, "/calendars/alice/");
    const innerProps = inner.children
      .find((c) => c.name === "{DAV:}propstat")!
      .children.find((c) => c.name === "{DAV:}prop")!;
    assert.deepEqual(
      innerProps.children.map((c) => c.name),
      ["{DAV:}displayname", "{DAV:}resourcetype"],
    );
    assert.equal(ok.props.find((p) => p.name === "{DAV:}displayname")?.text, "alice");
    assert.equal(r.propstats.find((p) => p.status === 404)?.props[0]?.name, "{urn:x}no-such-prop");
  });
});
