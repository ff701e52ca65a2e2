import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateCalendarObject, type ValidateOptions } from "../../lib/caldav/validate.js";
import { DavError } from "../../lib/errors.js";

const OPTS: ValidateOptions = {
  supportedComponents: ["VEVENT", "VTODO", "VJOURNAL"],
  maxResourceSize: 100_000,
};

function ics(...lines: string[]): Buffer {
  return Buffer.from(
    ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...lines, "END:VCALENDAR", ""].join("\r\n"),
  );
}
const event = (...props: string[]) => [
  "BEGIN:VEVENT",
  "UID:e1",
  "DTSTAMP:20240101T000000Z",
  ...props,
  "END:VEVENT",
];

function rejects(body: Buffer, precondition: string, message: RegExp, opts: ValidateOptions = OPTS) {
  assert.throws(
    () => validateCalendarObject(body, opts),
    (err: unknown) => {
      assert.ok(err instanceof DavError, String(err));
      assert.equal(err.status, 403);
      assert.equal(err.precondition?.name, `{urn:ietf:params:xml:ns:caldav}${precondition}`);
      assert.match(err.message, message);
      return true;
    },
  );
}
const span = (body: Buffer, opts = OPTS) => {
  const i = validateCalendarObject(body, opts);
  return [i.spanStart, i.spanEnd];
};

describe("RFC 4791 §5.3.2.1 preconditions", () => {
  it("max-resource-size: a body over the limit is refused with both sizes in the message", () => {
    const body = ics(...event("DTSTART:20240101T100000Z"));
    rejects(body, "max-resource-size", new RegExp(`${body.length} bytes.*at most 100 bytes`), {
      ...OPTS,
      maxResourceSize: 100,
    });
  });
  it("valid-calendar-data: non-UTF-8 bytes are refused", () => {
    const body = Buffer.concat([
      ics(...event("DTSTART:20240101T100000Z", "SUMMARY:x")).subarray(0, 60),
      Buffer.from([0xe5, 0x0d, 0x0a]),
    ]);
    rejects(body, "valid-calendar-data", /UTF-8/);
  });
  it("valid-calendar-data: UID and DTSTART are required in a VEVENT", () => {
    rejects(ics("BEGIN:VEVENT", "DTSTART:20240101T100000Z", "END:VEVENT"), "valid-calendar-data", /no UID/);
    rejects(ics(...event("SUMMARY:x")), "valid-calendar-data", /no DTSTART/);
  });
  it("valid-calendar-data: DTEND together with DURATION is refused", () => {
    rejects(
      ics(...event("DTSTART:20240101T100000Z", "DTEND:20240101T110000Z", "DURATION:PT1H")),
      "valid-calendar-data",
      /both DTEND and DURATION/,
    );
  });
  it("valid-calendar-data: garbage and a bare VEVENT are refused, never a TypeError", () => {
    rejects(Buffer.from("hello world"), "valid-calendar-data", /parsed|VCALENDAR/);
    rejects(
      Buffer.from("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n"),
      "valid-calendar-data",
      /must be a VCALENDAR/,
    );
    rejects(ics(...event("DTSTART:2024-01-01")), "valid-calendar-data", /DTSTART/);
  });
  it("valid-calendar-object-resource: METHOD, two UIDs, two component types, no component", () => {
    rejects(
      ics("METHOD:PUBLISH", ...event("DTSTART:20240101T100000Z")),
      "valid-calendar-object-resource",
      /METHOD/,
    );
    rejects(
      ics(
        ...event("DTSTART:20240101T100000Z"),
        "BEGIN:VEVENT",
        "UID:e2",
        "DTSTART:20240101T100000Z",
        "END:VEVENT",
      ),
      "valid-calendar-object-resource",
      /share one UID.*e1, e2/,
    );
    rejects(
      ics(...event("DTSTART:20240101T100000Z"), "BEGIN:VTODO", "UID:e1", "END:VTODO"),
      "valid-calendar-object-resource",
      /VEVENT and VTODO/,
    );
    rejects(ics(), "valid-calendar-object-resource", /no component/);
  });
  it("supported-calendar-component: a VTODO in an events-only calendar", () => {
    rejects(
      ics("BEGIN:VTODO", "UID:t1", "END:VTODO"),
      "supported-calendar-component",
      /does not accept VTODO.*accepts VEVENT/,
      {
        ...OPTS,
        supportedComponents: ["VEVENT"],
      },
    );
  });
  it("min-date-time / max-date-time", () => {
    const body = ics(...event("DTSTART:20240101T100000Z", "DTEND:20240101T110000Z"));
    rejects(body, "min-date-time", /before 20250101T000000Z/, { ...OPTS, minDateTime: "20250101T000000Z" });
    rejects(body, "max-date-time", /after 20231231T000000Z/, { ...OPTS, maxDateTime: "20231231T000000Z" });
    assert.doesNotThrow(() =>
      validateCalendarObject(body, {
        ...OPTS,
        minDateTime: "20000101T000000Z",
        maxDateTime: "20300101T000000Z",
      }),
    );
  });
  it("lenient: a BOM, a missing DTSTAMP and an IANA TZID without VTIMEZONE are accepted", () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      ics("BEGIN:VEVENT", "UID:x", "DTSTART;TZID=Europe/Berlin:20240101T100000", "END:VEVENT"),
    ]);
    assert.equal(validateCalendarObject(body, OPTS).uid, "x");
  });
});

describe("RFC 4791 §9.9: instance spans", () => {
  it("a UTC event spans DTSTART..DTEND (a second of slack each way)", () => {
    assert.deepEqual(span(ics(...event("DTSTART:20240101T100000Z", "DTEND:20240101T110000Z"))), [
      "20240101T095959Z",
      "20240101T110001Z",
    ]);
  });
  it("DURATION gives the end; a zoned DTSTART is converted with its VTIMEZONE", () => {
    const body = ics(
      "BEGIN:VTIMEZONE",
      "TZID:Europe/Berlin",
      "BEGIN:STANDARD",
      "DTSTART:19701025T030000",
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
      "TZOFFSETFROM:+0200",
      "TZOFFSETTO:+0100",
      "END:STANDARD",
      "BEGIN:DAYLIGHT",
      "DTSTART:19700329T020000",
      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
      "TZOFFSETFROM:+0100",
      "TZOFFSETTO:+0200",
      "END:DAYLIGHT",
      "END:VTIMEZONE",
      ...event("DTSTART;TZID=Europe/Berlin:20240701T100000", "DURATION:PT2H"),
    );
    assert.deepEqual(span(body), ["20240701T075959Z", "20240701T100001Z"]);
  });
  it("floating and all-day times are widened by 14 hours each way", () => {
    assert.deepEqual(span(ics(...event("DTSTART;VALUE=DATE:20240101"))), [
      "20231231T095959Z",
      "20240102T140001Z",
    ]);
    assert.deepEqual(span(ics(...event("DTSTART:20240101T100000"))), [
      "20231231T195959Z",
      "20240102T000001Z",
    ]);
  });
  it("an unbounded RRULE is open-ended; a bounded one ends at its last instance", () => {
    assert.equal(span(ics(...event("DTSTART:20240101T100000Z", "RRULE:FREQ=WEEKLY")))[1], "99991231T235959Z");
    assert.deepEqual(
      span(ics(...event("DTSTART:20240101T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=3"))),
      ["20240101T095959Z", "20240115T110001Z"],
    );
  });
  it("FREQ=SECONDLY with a far UNTIL is capped quickly and declared open-ended", () => {
    const t = Date.now();
    assert.equal(
      span(ics(...event("DTSTART:20240101T100000Z", "RRULE:FREQ=SECONDLY;UNTIL=20990101T000000Z")))[1],
      "99991231T235959Z",
    );
    assert.ok(Date.now() - t < 2000);
  });
  it("an override moved later, an RDATE and an alarm trigger all widen the span", () => {
    const body = ics(
      ...event(
        "DTSTART:20240101T100000Z",
        "DURATION:PT1H",
        "RRULE:FREQ=DAILY;COUNT=2",
        "RDATE:20240110T100000Z",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:x",
        "TRIGGER:-P1D",
        "END:VALARM",
      ),
      "BEGIN:VEVENT",
      "UID:e1",
      "RECURRENCE-ID:20240102T100000Z",
      "DTSTART:20240120T100000Z",
      "DURATION:PT1H",
      "END:VEVENT",
    );
    assert.deepEqual(span(body), ["20231231T095959Z", "20240120T110001Z"]);
  });
  it("VTODO: DUE only spans the DUE; CREATED only is open-ended (§9.9 table)", () => {
    const todo = (...p: string[]) => ics("BEGIN:VTODO", "UID:t", ...p, "END:VTODO");
    assert.deepEqual(span(todo("DUE:20240105T120000Z")), ["20240105T115959Z", "20240105T120001Z"]);
    assert.deepEqual(span(todo("CREATED:20240105T120000Z")), ["20240105T115959Z", "99991231T235959Z"]);
    assert.deepEqual(span(todo()), ["00010101T000000Z", "99991231T235959Z"]);
  });
});

describe("RFC 4791 §5.2.6 / §9.9: undated components and min/max-date-time", () => {
  const opts = {
    supportedComponents: ["VEVENT", "VTODO", "VJOURNAL"],
    maxResourceSize: 100_000,
    minDateTime: "19000101T000000Z",
    maxDateTime: "29991231T235959Z",
  };
  const wrap = (...lines: string[]) =>
    Buffer.from(
      ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...lines, "END:VCALENDAR", ""].join("\r\n"),
    );
  it("an undated VTODO, a VTODO with only CREATED and an undated VJOURNAL are accepted; their spans stay open", () => {
    for (const [body, latestStart] of [
      [
        wrap("BEGIN:VTODO", "UID:t1", "DTSTAMP:20260101T000000Z", "SUMMARY:someday", "END:VTODO"),
        "19000101T000000Z",
      ],
      // §9.9: a VTODO with only CREATED overlaps every range ending after CREATED.
      [
        wrap("BEGIN:VTODO", "UID:t2", "DTSTAMP:20260101T000000Z", "CREATED:20260101T000000Z", "END:VTODO"),
        "20260101T000000Z",
      ],
      [
        wrap("BEGIN:VJOURNAL", "UID:j1", "DTSTAMP:20260101T000000Z", "SUMMARY:note", "END:VJOURNAL"),
        "19000101T000000Z",
      ],
    ] as const) {
      const info = validateCalendarObject(body, opts);
      assert.ok(info.spanStart <= latestStart, info.spanStart);
      assert.equal(info.spanEnd, "99991231T235959Z");
    }
  });
  it("a dated component outside the limits is still refused", () => {
    const body = wrap(
      "BEGIN:VTODO",
      "UID:t3",
      "DTSTAMP:20260101T000000Z",
      "DUE:18500101T000000Z",
      "END:VTODO",
    );
    assert.throws(() => validateCalendarObject(body, opts), /1900/);
  });
});

describe("RFC 5545: recurring tasks, control characters, impossible dates; short excerpts in messages", () => {
  const todo = (...p: string[]) => ics("BEGIN:VTODO", "UID:t", "DTSTAMP:20240101T000000Z", ...p, "END:VTODO");

  it("RFC 5545 §3.6.2: a recurring VTODO with DUE and no DTSTART is accepted; its span runs from the first DUE to the last", () => {
    const info = validateCalendarObject(todo("DUE:20240105T120000Z", "RRULE:FREQ=WEEKLY;COUNT=3"), OPTS);
    assert.equal(info.componentType, "VTODO");
    assert.deepEqual([info.spanStart, info.spanEnd], ["20240105T115959Z", "20240119T120001Z"]);
    // Without DUE there is nothing to anchor the recurrence on.
    rejects(todo("RRULE:FREQ=WEEKLY;COUNT=3"), "valid-calendar-data", /RRULE but no DTSTART or DUE/);
    rejects(ics(...event("RRULE:FREQ=DAILY")), "valid-calendar-data", /VEVENT.*no DTSTART/);
  });

  it("RFC 5545 §3.1, §3.3.11: a control character in a content line is refused, naming the line and property; a tab is fine", () => {
    rejects(
      ics(...event("DTSTART:20240101T100000Z", "SUMMARY:form\ffeed")),
      "valid-calendar-data",
      /Line 8 \(SUMMARY\) holds the control character U\+000C/,
    );
    rejects(
      ics(...event("DTSTART:20240101T100000Z", "DESCRIPTION:a\u007fb")),
      "valid-calendar-data",
      /U\+007F/,
    );
    rejects(
      ics(...event("DTSTART:20240101T100000Z", "LOCATION:lone\rcr")),
      "valid-calendar-data",
      /\(LOCATION\).*U\+000D/,
    );
    rejects(
      ics(...event("DTSTART:20240101T100000Z", "DESCRIPTION:long", " folded\u0001")),
      "valid-calendar-data",
      /Line 9 \(DESCRIPTION\) holds the control character U\+0001/,
    );
    assert.doesNotThrow(() =>
      validateCalendarObject(ics(...event("DTSTART:20240101T100000Z", "SUMMARY:tab\there")), OPTS),
    );
    // A last line ending in a lone CR (a cut-off CRLF) is a line end, not a control character.
    const cut = ics(...event("DTSTART:20240101T100000Z"))
      .toString()
      .replace(/\n$/, "");
    assert.doesNotThrow(() => validateCalendarObject(Buffer.from(cut), OPTS));
    // A CR CR LF line end is not.
    const doubled = ics(...event("DTSTART:20240101T100000Z"))
      .toString()
      .replace("SUMMARY", "X")
      .replace(/\r\n/, "\r\r\n");
    rejects(Buffer.from(doubled), "valid-calendar-data", /Line 1 \(BEGIN\).*U\+000D/);
  });

  it("RFC 5545 §3.3.4, §3.3.5: impossible dates and times are refused naming the property, before they roll over", () => {
    rejects(
      ics(...event("DTSTART:20311345T250000Z")),
      "valid-calendar-data",
      /DTSTART holds an impossible date or time \(20311345T250000Z\)/,
    );
    rejects(
      ics(...event("DTSTART;VALUE=DATE:20260101", "DTEND;VALUE=DATE:20260230")),
      "valid-calendar-data",
      /DTEND.*20260230/,
    );
    rejects(
      ics(...event("DTSTART:20260101T100000Z", "RRULE:FREQ=DAILY;UNTIL=20261301T000000Z")),
      "valid-calendar-data",
      /RRULE/,
    );
    rejects(
      ics(...event("DTSTART:20260101T100000Z", "EXDATE:20260102T100000Z,20260132T100000Z")),
      "valid-calendar-data",
      /EXDATE/,
    );
    rejects(
      ics(...event("DTSTART:20260101T100000Z", "RDATE;VALUE=PERIOD:20260104T100000Z/20260104T246000Z")),
      "valid-calendar-data",
      /RDATE/,
    );
    // A leap day, and a leap second, are real.
    assert.doesNotThrow(() => validateCalendarObject(ics(...event("DTSTART;VALUE=DATE:20240229")), OPTS));
    assert.doesNotThrow(() => validateCalendarObject(ics(...event("DTSTART:20161231T235960Z")), OPTS));
  });

  it("an error message quotes at most a short excerpt of the client's data", () => {
    const huge = `X-JUNK;BROKEN="unterminated:${"A".repeat(73_000)}`;
    assert.throws(
      () =>
        validateCalendarObject(ics(...event("DTSTART:20240101T100000Z", huge)), {
          ...OPTS,
          maxResourceSize: 200_000,
        }),
      (err: unknown) => {
        assert.ok(err instanceof DavError);
        assert.ok(err.message.length < 400, `message of ${err.message.length} characters`);
        return true;
      },
    );
  });
});
