import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { calendarExporter } from "../../lib/caldav/export.js";
import { validateCalendarObject } from "../../lib/caldav/validate.js";
import { BERLIN_VTIMEZONE } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

/** A calendar's export as GET writes it: object by object. */
function mergeCalendars(texts: string[], opts: { name?: string } = {}): string {
  const e = calendarExporter(opts);
  return e.head + texts.map((t) => e.member(Buffer.from(t))).join("") + e.tail;
}

const abc = (n: number) => readFileSync(new URL(`../fixtures/rfc4791/abc${n}.ics`, import.meta.url), "utf8");

describe("RFC 4791 §5.3.1 / RFC 5545 §3.4: GET on a calendar collection (the exporter)", () => {
  it("merges every component and keeps one VTIMEZONE per TZID", () => {
    const out = mergeCalendars([abc(1), abc(2), abc(3), abc(4)], { name: "Work" });
    const l = out.split("\r\n");
    assert.equal(l.filter((x) => x === "BEGIN:VCALENDAR").length, 1);
    assert.equal(l.filter((x) => x === "BEGIN:VTIMEZONE").length, 1);
    assert.equal(l.filter((x) => x === "BEGIN:VEVENT").length, 5);
    assert.equal(l.filter((x) => x === "BEGIN:VTODO").length, 1);
    assert.ok(l.includes("VERSION:2.0") && l.includes("X-WR-CALNAME:Work"));
    assert.ok(l.indexOf("BEGIN:VTIMEZONE") < l.indexOf("BEGIN:VEVENT"), "a time zone before what uses it");
    for (const uid of [
      "74855313FA803DA593CD579A",
      "00959BC664CA650E933C892C",
      "DC6C50A017428C5216A2F1CD",
      "DDDEEB7915FA61233B861457",
    ]) {
      assert.ok(out.includes(`UID:${uid}@example.com`), uid);
    }
  });
  it("an empty collection is a valid empty VCALENDAR; text without components adds nothing", () => {
    const out = mergeCalendars(["garbage", abc(1)]);
    assert.match(out, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\nPRODID:[^\r]+\r\n/);
    assert.equal(out.split("BEGIN:VEVENT").length, 2);
    assert.match(mergeCalendars([]), /^BEGIN:VCALENDAR\r\n[\s\S]*END:VCALENDAR\r\n$/);
  });
  it("a merged export of one object re-validates as that object", () => {
    const info = validateCalendarObject(Buffer.from(mergeCalendars([abc(2)])), {
      supportedComponents: ["VEVENT"],
      maxResourceSize: 1e5,
    });
    assert.equal(info.uid, "00959BC664CA650E933C892C@example.com");
  });
});

const object = (i: number) =>
  [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//t//t//EN",
    ...BERLIN_VTIMEZONE,
    "BEGIN:VEVENT",
    `UID:exp-${i}`,
    "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=Europe/Berlin:20260301T100000",
    "DURATION:PT1H",
    `SUMMARY:Export ${i}`,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");

describe("GET of a whole calendar (its export)", async () => {
  it("every object of a calendar larger than a page, in one VCALENDAR, with the shared VTIMEZONE once", async () => {
    const server = await startTestServer();
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/exp/")).status, 201);
    for (let i = 0; i < 130; i++) {
      const res = await server.request("PUT", `/calendars/alice/exp/${i}.ics`, {
        headers: { "content-type": "text/calendar" },
        body: object(i),
      });
      assert.equal(res.status, 201);
    }
    const res = await server.request("GET", "/calendars/alice/exp/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/calendar/);
    assert.equal(res.body.match(/^BEGIN:VCALENDAR\r$/gm)?.length, 1);
    assert.equal(res.body.match(/^BEGIN:VTIMEZONE\r$/gm)?.length, 1);
    assert.equal(res.body.match(/^BEGIN:VEVENT\r$/gm)?.length, 130);
    assert.ok(res.body.endsWith("END:VCALENDAR\r\n"));
  });

  it("an export larger than one response may carry → 507 naming the CLI's export", async () => {
    const server = await startTestServer({ maxResponseBytes: 1000 });
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/big/")).status, 201);
    for (let i = 0; i < 8; i++) {
      await server.request("PUT", `/calendars/alice/big/${i}.ics`, {
        headers: { "content-type": "text/calendar" },
        body: object(i),
      });
    }
    const res = await server.request("GET", "/calendars/alice/big/");
    assert.equal(res.status, 507);
    assert.match(res.body, /npm run admin -- export alice\/big/);
  });
});
