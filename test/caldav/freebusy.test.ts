import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { freeBusy } from "../../lib/caldav/freebusy.js";

const abc = (n: number) => readFileSync(new URL(`../fixtures/rfc4791/abc${n}.ics`, import.meta.url), "utf8");
const ALL = [1, 2, 3, 4, 5, 6, 7, 8].map(abc);
const now = new Date(Date.UTC(2006, 1, 6, 0, 0, 0));
const fbLines = (text: string) => text.split("\r\n").filter((l) => l.startsWith("FREEBUSY"));
const cal = (...l: string[]) =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...l, "END:VCALENDAR", ""].join("\r\n");

describe("RFC 4791 §7.10 free-busy-query", () => {
  it("§7.10.1: the Appendix B calendar from 20060104T140000Z to 20060105T220000Z", () => {
    const out = freeBusy(ALL, { start: "20060104T140000Z", end: "20060105T220000Z" }, { now });
    assert.equal(
      out,
      [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//lambda-dav//CalDAV//EN",
        "BEGIN:VFREEBUSY",
        "DTSTAMP:20060206T000000Z",
        "DTSTART:20060104T140000Z",
        "DTEND:20060105T220000Z",
        "FREEBUSY;FBTYPE=BUSY:20060104T190000Z/20060104T200000Z",
        "FREEBUSY;FBTYPE=BUSY:20060105T170000Z/20060105T180000Z",
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/20060104T160000Z",
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20060105T100000Z/20060105T120000Z",
        "END:VFREEBUSY",
        "END:VCALENDAR",
        "",
      ].join("\r\n"),
    );
  });
  it("§7.10: TRANSP:TRANSPARENT and STATUS:CANCELLED events are free; overlapping busy time merges; periods are clipped", () => {
    const ev = (uid: string, s: string, e: string, ...p: string[]) =>
      cal(
        "BEGIN:VEVENT",
        `UID:${uid}`,
        "DTSTAMP:20240101T000000Z",
        `DTSTART:${s}`,
        `DTEND:${e}`,
        ...p,
        "END:VEVENT",
      );
    const out = freeBusy(
      [
        ev("a", "20240110T090000Z", "20240110T100000Z"),
        ev("b", "20240110T093000Z", "20240110T110000Z"),
        ev("c", "20240110T120000Z", "20240110T130000Z", "TRANSP:TRANSPARENT"),
        ev("d", "20240110T140000Z", "20240110T150000Z", "STATUS:CANCELLED"),
        ev("e", "20240110T230000Z", "20240111T020000Z"),
      ],
      { start: "20240110T000000Z", end: "20240111T000000Z" },
    );
    assert.deepEqual(fbLines(out), [
      "FREEBUSY;FBTYPE=BUSY:20240110T090000Z/20240110T110000Z",
      "FREEBUSY;FBTYPE=BUSY:20240110T230000Z/20240111T000000Z",
    ]);
  });
  it("§7.10: recurring events are expanded, an EXDATE'd or cancelled override instance is free", () => {
    const text = cal(
      "BEGIN:VEVENT",
      "UID:r",
      "DTSTAMP:20240101T000000Z",
      "DTSTART:20240101T100000Z",
      "DURATION:PT1H",
      "RRULE:FREQ=DAILY;COUNT=4",
      "EXDATE:20240102T100000Z",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:r",
      "DTSTAMP:20240101T000000Z",
      "RECURRENCE-ID:20240103T100000Z",
      "DTSTART:20240103T100000Z",
      "DURATION:PT1H",
      "STATUS:CANCELLED",
      "END:VEVENT",
    );
    assert.deepEqual(fbLines(freeBusy([text], { start: "20240101T000000Z", end: "20240110T000000Z" })), [
      "FREEBUSY;FBTYPE=BUSY:20240101T100000Z/20240101T110000Z",
      "FREEBUSY;FBTYPE=BUSY:20240104T100000Z/20240104T110000Z",
    ]);
  });
});
