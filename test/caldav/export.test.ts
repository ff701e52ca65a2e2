import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { mergeCalendars } from "../../lib/caldav/export.js";
import { validateCalendarObject } from "../../lib/caldav/validate.js";

const abc = (n: number) => readFileSync(new URL(`../fixtures/rfc4791/abc${n}.ics`, import.meta.url), "utf8");

describe("RFC 4791 §5.3.1 / RFC 5545 §3.4: GET on a calendar collection", () => {
  it("merges every component and keeps one VTIMEZONE per TZID", () => {
    const out = mergeCalendars([abc(1), abc(2), abc(3), abc(4)], { name: "Work" });
    const l = out.split("\r\n");
    assert.equal(l.filter((x) => x === "BEGIN:VCALENDAR").length, 1);
    assert.equal(l.filter((x) => x === "BEGIN:VTIMEZONE").length, 1);
    assert.equal(l.filter((x) => x === "BEGIN:VEVENT").length, 5);
    assert.equal(l.filter((x) => x === "BEGIN:VTODO").length, 1);
    assert.ok(l.includes("VERSION:2.0") && l.includes("X-WR-CALNAME:Work"));
    assert.ok(l.indexOf("BEGIN:VTIMEZONE") < l.indexOf("BEGIN:VEVENT"), "time zones come first");
    for (const uid of [
      "74855313FA803DA593CD579A",
      "00959BC664CA650E933C892C",
      "DC6C50A017428C5216A2F1CD",
      "DDDEEB7915FA61233B861457",
    ]) {
      assert.ok(out.includes(`UID:${uid}@example.com`), uid);
    }
  });
  it("an empty collection is a valid empty VCALENDAR; unparseable objects are skipped", () => {
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
