import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  filterTimeRange,
  matchesCalendarFilter,
  parseCalendarFilter,
  type CompFilter,
} from "../../lib/caldav/filter.js";
import { DavError } from "../../lib/errors.js";
import { parseXml } from "../../lib/xml/parse.js";

const NS = 'xmlns:C="urn:ietf:params:xml:ns:caldav"';
const filter = (inner: string) =>
  parseCalendarFilter(
    parseXml(`<C:filter ${NS}><C:comp-filter name="VCALENDAR">${inner}</C:comp-filter></C:filter>`),
  );
const range = (comp: string, start: string, end: string) =>
  filter(`<C:comp-filter name="${comp}"><C:time-range start="${start}" end="${end}"/></C:comp-filter>`);

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];
const cal = (...lines: string[]) =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...lines, "END:VCALENDAR", ""].join("\r\n");
const BERLIN_TZ = cal(...BERLIN);

/** Weekly on Thursdays 10:00 Berlin from 14 March 2024; 21 March moved to Friday 15:00, 28 March excluded. */
const WEEKLY = cal(
  ...BERLIN,
  "BEGIN:VEVENT",
  "UID:w",
  "DTSTAMP:20240101T000000Z",
  "DTSTART;TZID=Europe/Berlin:20240314T100000",
  "DTEND;TZID=Europe/Berlin:20240314T110000",
  "RRULE:FREQ=WEEKLY;COUNT=6",
  "EXDATE;TZID=Europe/Berlin:20240328T100000",
  "SUMMARY:Weekly",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:w",
  "DTSTAMP:20240101T000000Z",
  "RECURRENCE-ID;TZID=Europe/Berlin:20240321T100000",
  "DTSTART;TZID=Europe/Berlin:20240322T150000",
  "DTEND;TZID=Europe/Berlin:20240322T160000",
  "SUMMARY:Moved",
  "END:VEVENT",
);

describe("RFC 4791 §9.9 time-range over recurrence instances (Europe/Berlin, DST on 31 March 2024)", () => {
  const hit = (s: string, e: string, text = WEEKLY) => matchesCalendarFilter(text, range("VEVENT", s, e));
  it("the first instance matches at 09:00Z (CET)", () =>
    assert.equal(hit("20240314T090000Z", "20240314T093000Z"), true));
  it("the moved instance's original slot no longer matches", () =>
    assert.equal(hit("20240321T083000Z", "20240321T100000Z"), false));
  it("the moved instance matches at its new time (14:00Z)", () =>
    assert.equal(hit("20240322T133000Z", "20240322T143000Z"), true));
  it("the EXDATE'd instance does not match", () =>
    assert.equal(hit("20240328T080000Z", "20240328T110000Z"), false));
  it("the instance after DST is at 08:00Z (CEST), not 09:00Z", () => {
    assert.equal(hit("20240404T080000Z", "20240404T083000Z"), true);
    assert.equal(hit("20240404T090000Z", "20240404T093000Z"), false);
  });
  it("nothing after COUNT runs out", () => assert.equal(hit("20240425T000000Z", "20240501T000000Z"), false));
  it("a range ending exactly at DTSTART does not match; one starting at DTEND does not either", () => {
    assert.equal(hit("20240314T080000Z", "20240314T090000Z"), false);
    assert.equal(hit("20240314T100000Z", "20240314T110000Z"), false);
  });
  it("prop-filter on the override's SUMMARY selects it by text", () => {
    const f = filter(
      '<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match>moved</C:text-match></C:prop-filter></C:comp-filter>',
    );
    assert.equal(matchesCalendarFilter(WEEKLY, f), true);
  });
});

describe("RFC 4791 §9.9 component states", () => {
  const todo = (...p: string[]) => cal("BEGIN:VTODO", "UID:t", "DTSTAMP:20240101T000000Z", ...p, "END:VTODO");
  const m = (text: string, s: string, e: string) => matchesCalendarFilter(text, range("VTODO", s, e));
  it("VTODO with DUE only matches when start < DUE and end >= DUE", () => {
    const t = todo("DUE:20240110T120000Z");
    assert.equal(m(t, "20240110T110000Z", "20240110T120000Z"), true);
    assert.equal(m(t, "20240110T120000Z", "20240110T130000Z"), false);
  });
  it("VTODO with DTSTART and DUE matches inside either", () => {
    const t = todo("DTSTART:20240110T100000Z", "DUE:20240112T100000Z");
    assert.equal(m(t, "20240111T000000Z", "20240111T010000Z"), true);
    assert.equal(m(t, "20240113T000000Z", "20240114T000000Z"), false);
  });
  it("VTODO with COMPLETED only matches ranges containing it; CREATED only matches later ranges", () => {
    assert.equal(m(todo("COMPLETED:20240105T000000Z"), "20240104T000000Z", "20240106T000000Z"), true);
    assert.equal(m(todo("COMPLETED:20240105T000000Z"), "20240106T000000Z", "20240107T000000Z"), false);
    assert.equal(m(todo("CREATED:20240105T000000Z"), "20300101T000000Z", "20300102T000000Z"), true);
    assert.equal(m(todo("CREATED:20240105T000000Z"), "20240101T000000Z", "20240102T000000Z"), false);
  });
  it("a VTODO with no dates matches every range", () =>
    assert.equal(m(todo(), "20000101T000000Z", "20000102T000000Z"), true));
  it("an all-day VEVENT covers its whole day in the calendar's timezone", () => {
    const ev = cal(
      "BEGIN:VEVENT",
      "UID:d",
      "DTSTAMP:20240101T000000Z",
      "DTSTART;VALUE=DATE:20240115",
      "END:VEVENT",
    );
    const f = range("VEVENT", "20240115T230000Z", "20240116T000000Z");
    assert.equal(matchesCalendarFilter(ev, f), true);
    // In Berlin the day ends at 23:00Z.
    assert.equal(matchesCalendarFilter(ev, f, { timezone: BERLIN_TZ }), false);
  });
  it("a floating VEVENT is evaluated in the calendar timezone", () => {
    const ev = cal(
      "BEGIN:VEVENT",
      "UID:f",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20240115T100000",
      "DURATION:PT30M",
      "END:VEVENT",
    );
    const f = range("VEVENT", "20240115T090000Z", "20240115T092000Z");
    assert.equal(matchesCalendarFilter(ev, f, { timezone: BERLIN_TZ }), true);
    assert.equal(matchesCalendarFilter(ev, f), false);
  });
  it("VJOURNAL without DTSTART never matches a time-range", () => {
    const j = cal("BEGIN:VJOURNAL", "UID:j", "DTSTAMP:20240101T000000Z", "END:VJOURNAL");
    assert.equal(matchesCalendarFilter(j, range("VJOURNAL", "19000101T000000Z", "29000101T000000Z")), false);
  });
  it("VALARM: a -PT15M alarm on an event at 10:00Z triggers in [09:45Z, 09:50Z)", () => {
    const ev = cal(
      "BEGIN:VEVENT",
      "UID:a",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20240115T100000Z",
      "RRULE:FREQ=DAILY",
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "DESCRIPTION:x",
      "TRIGGER:-PT15M",
      "END:VALARM",
      "END:VEVENT",
    );
    const alarm = (s: string, e: string) =>
      filter(
        `<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start="${s}" end="${e}"/></C:comp-filter></C:comp-filter>`,
      );
    assert.equal(matchesCalendarFilter(ev, alarm("20240120T094500Z", "20240120T095000Z")), true);
    assert.equal(matchesCalendarFilter(ev, alarm("20240120T095000Z", "20240120T100000Z")), false);
  });
  it("an infinite FREQ=SECONDLY rule is answered quickly", () => {
    const ev = cal(
      "BEGIN:VEVENT",
      "UID:s",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20240101T000000Z",
      "RRULE:FREQ=SECONDLY",
      "END:VEVENT",
    );
    const t = Date.now();
    assert.equal(matchesCalendarFilter(ev, range("VEVENT", "20300101T000000Z", "20300102T000000Z")), true);
    assert.ok(Date.now() - t < 5000);
  });
});

describe("RFC 4791 §9.9 open-ended time ranges", () => {
  const series = (rule: string) =>
    cal(
      "BEGIN:VEVENT",
      "UID:o",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20000103T100000Z",
      "DURATION:PT1H",
      rule,
      "END:VEVENT",
    );
  const open = (start: string) =>
    filter(`<C:comp-filter name="VEVENT"><C:time-range start="${start}"/></C:comp-filter>`);
  it("a start-only range matches a daily series that is still running, found without expanding to infinity", () => {
    assert.equal(matchesCalendarFilter(series("RRULE:FREQ=DAILY"), open("20240601T000000Z")), true);
  });
  it("a start-only range does not match a series that ended before it", () => {
    assert.equal(
      matchesCalendarFilter(series("RRULE:FREQ=DAILY;UNTIL=20000110T100000Z"), open("20240601T000000Z")),
      false,
    );
  });
  it("an end-only range matches a series that began before it", () => {
    const f = filter('<C:comp-filter name="VEVENT"><C:time-range end="20000104T000000Z"/></C:comp-filter>');
    assert.equal(matchesCalendarFilter(series("RRULE:FREQ=DAILY"), f), true);
  });
});

describe("RFC 4791 §9.7 filter parsing", () => {
  const rejects = (xml: string, precondition: string) =>
    assert.throws(
      () => parseCalendarFilter(parseXml(xml)),
      (e: unknown) =>
        e instanceof DavError &&
        e.status === 403 &&
        e.precondition?.name === `{urn:ietf:params:xml:ns:caldav}${precondition}`,
    );
  it("§9.9: a time-range with neither start nor end, or a non-UTC date, is CALDAV:valid-filter", () => {
    rejects(
      `<C:filter ${NS}><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range/></C:comp-filter></C:comp-filter></C:filter>`,
      "valid-filter",
    );
    rejects(
      `<C:filter ${NS}><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060104"/></C:comp-filter></C:comp-filter></C:filter>`,
      "valid-filter",
    );
  });
  it("§9.7: filters that can never match are CALDAV:valid-filter: an outermost comp-filter other than VCALENDAR, a time-range on VCALENDAR, VALARM directly under VCALENDAR, a time-range on a property that is no date", () => {
    const wrap = (inner: string) => `<C:filter ${NS}>${inner}</C:filter>`;
    for (const xml of [
      wrap(`<C:comp-filter name="VEVENT"/>`),
      wrap(`<C:comp-filter name="VCALENDAR"><C:time-range start="20060104T000000Z"/></C:comp-filter>`),
      wrap(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VALARM"/></C:comp-filter>`),
      wrap(
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VEVENT"/></C:comp-filter></C:comp-filter>`,
      ),
      wrap(
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTIMEZONE"><C:time-range start="20060104T000000Z"/></C:comp-filter></C:comp-filter>`,
      ),
      wrap(
        `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:time-range start="20060104T000000Z"/></C:prop-filter></C:comp-filter></C:comp-filter>`,
      ),
    ]) {
      rejects(xml, "valid-filter");
    }
    // What can match still parses: VALARM in VTODO with a time-range, a date property's time-range, X- names.
    assert.doesNotThrow(() =>
      filter(
        `<C:comp-filter name="VTODO"><C:comp-filter name="VALARM"><C:time-range start="20060104T000000Z"/></C:comp-filter><C:prop-filter name="DUE"><C:time-range start="20060104T000000Z"/></C:prop-filter><C:prop-filter name="X-WHEN"><C:time-range start="20060104T000000Z"/></C:prop-filter></C:comp-filter><C:comp-filter name="X-CUSTOM"/>`,
      ),
    );
  });
  it("§9.7: unknown filter elements are CALDAV:supported-filter", () =>
    rejects(
      `<C:filter ${NS}><C:comp-filter name="VCALENDAR"><C:frobnicate/></C:comp-filter></C:filter>`,
      "supported-filter",
    ));
  it("§7.5.1: an unknown collation is CALDAV:supported-collation", () =>
    rejects(
      `<C:filter ${NS}><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter>`,
      "supported-collation",
    ));
  it("§9.9: an open-ended time-range parses; filterTimeRange returns the top-level one", () => {
    const f: CompFilter = filter(
      '<C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z"/></C:comp-filter>',
    );
    assert.deepEqual(filterTimeRange(f), { start: "20060104T000000Z", end: undefined });
    assert.equal(filterTimeRange(filter('<C:comp-filter name="VEVENT"/>')), undefined);
  });
  it("§9.7.5: collations: i;octet is case-sensitive, i;ascii-casemap is not", () => {
    const ev = cal(
      "BEGIN:VEVENT",
      "UID:c",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20240101T000000Z",
      "SUMMARY:Team Meeting",
      "END:VEVENT",
    );
    const tm = (c: string, v: string) =>
      filter(
        `<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="${c}">${v}</C:text-match></C:prop-filter></C:comp-filter>`,
      );
    assert.equal(matchesCalendarFilter(ev, tm("i;octet", "team")), false);
    assert.equal(matchesCalendarFilter(ev, tm("i;octet", "Team")), true);
    assert.equal(matchesCalendarFilter(ev, tm("i;ascii-casemap", "TEAM MEET")), true);
  });
});
