import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseCalendarDataRequest, renderCalendarData } from "../../lib/caldav/calendar-data.js";
import { DavError } from "../../lib/errors.js";
import { parseXml } from "../../lib/xml/parse.js";

const abc = (n: number) => readFileSync(new URL(`../fixtures/rfc4791/abc${n}.ics`, import.meta.url), "utf8");
const spec = (inner: string, attrs = "") =>
  parseCalendarDataRequest(
    parseXml(`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav" ${attrs}>${inner}</C:calendar-data>`),
  );
const lines = (text: string) => text.split("\r\n").filter(Boolean);

describe("RFC 4791 §9.6 calendar-data", () => {
  it("§9.6: no subsetting returns the stored text byte for byte", () => {
    const weird = abc(1).replace("SUMMARY:Event #1", "summary:Event #1"); // odd casing survives
    assert.equal(renderCalendarData(weird, undefined), weird);
    assert.equal(renderCalendarData(weird, spec("")), weird);
  });
  it("§9.6: content-type other than text/calendar 2.0 is CALDAV:supported-calendar-data", () => {
    assert.throws(
      () => spec("", 'content-type="application/calendar+json"'),
      (e: unknown) =>
        e instanceof DavError &&
        e.status === 403 &&
        e.precondition?.name === "{urn:ietf:params:xml:ns:caldav}supported-calendar-data",
    );
    assert.throws(() => spec("", 'version="1.0"'), DavError);
  });
  it("§7.8.3 / §9.6.5: expand returns abc2's instances in the range in UTC with RECURRENCE-ID, no RRULE or VTIMEZONE", () => {
    const out = renderCalendarData(
      abc(2),
      spec(
        '<C:comp name="VCALENDAR"><C:comp name="VEVENT"/></C:comp><C:expand start="20060103T000000Z" end="20060105T000000Z"/>',
      ),
    );
    const l = lines(out);
    assert.deepEqual(
      l.filter((x) => /^(DTSTART|RECURRENCE-ID|SUMMARY)/.test(x)),
      [
        "SUMMARY:Event #2",
        "DTSTART:20060103T170000Z",
        "RECURRENCE-ID:20060103T170000Z",
        "SUMMARY:Event #2 bis",
        "DTSTART:20060104T190000Z",
        "RECURRENCE-ID:20060104T170000Z",
      ],
    );
    assert.ok(!l.some((x) => /^(RRULE|RDATE|EXDATE|BEGIN:VTIMEZONE)|TZID=/.test(x)), out);
    // The non-recurring abc3 comes back converted to UTC, without RECURRENCE-ID.
    const three = lines(
      renderCalendarData(abc(3), spec('<C:expand start="20060103T000000Z" end="20060105T000000Z"/>')),
    );
    assert.ok(three.includes("DTSTART:20060104T150000Z"));
    assert.ok(!three.some((x) => x.startsWith("RECURRENCE-ID")));
  });
  it("§7.8.2 / §9.6.6: limit-recurrence-set keeps the master and the overrides in range only", () => {
    const out = renderCalendarData(
      abc(2),
      spec('<C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/>'),
    );
    assert.deepEqual(
      lines(out).filter((x) => x.startsWith("SUMMARY")),
      ["SUMMARY:Event #2", "SUMMARY:Event #2 bis"],
    );
    assert.ok(out.includes("BEGIN:VTIMEZONE"));
  });
  it("§7.8.4 / §9.6.7: limit-freebusy-set keeps only overlapping FREEBUSY periods", () => {
    const out = renderCalendarData(
      abc(8),
      spec('<C:limit-freebusy-set start="20060102T000000Z" end="20060103T000000Z"/>'),
    );
    assert.deepEqual(
      lines(out).filter((x) => x.startsWith("FREEBUSY")),
      ["FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060102T100000Z/20060102T120000Z"],
    );
  });
  it("§7.8.1 / §9.6.1: comp/prop subsetting keeps only the named properties and components; novalue empties", () => {
    const out = renderCalendarData(
      abc(3),
      spec(
        '<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/><C:prop name="ATTENDEE" novalue="yes"/></C:comp></C:comp>',
      ),
    );
    assert.deepEqual(lines(out), [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "BEGIN:VEVENT",
      "ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:",
      "ATTENDEE;PARTSTAT=NEEDS-ACTION:",
      "SUMMARY:Event #3",
      "UID:DC6C50A017428C5216A2F1CD@example.com",
      "END:VEVENT",
      "END:VCALENDAR",
    ]);
  });
});
