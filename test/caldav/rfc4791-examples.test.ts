/**
 * RFC 4791 Appendix B calendar data (abc1–abc8) against the calendar-query filters of the RFC's
 * examples (§7.8.1–§7.8.9): each filter must select exactly the objects the RFC's answer lists.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { filterTimeRange, matchesCalendarFilter, parseCalendarFilter } from "../../lib/caldav/filter.js";
import { validateCalendarObject } from "../../lib/caldav/validate.js";
import { parseXml } from "../../lib/xml/parse.js";

const dir = new URL("../fixtures/rfc4791/", import.meta.url);
const objects = readdirSync(dir)
  .filter((f) => f.endsWith(".ics"))
  .sort()
  .map((name) => ({ name, text: readFileSync(new URL(name, dir), "utf8") }));
const expected = JSON.parse(readFileSync(new URL("queries/expected.json", dir), "utf8")) as Record<
  string,
  string[]
>;

describe("RFC 4791 Appendix B: calendar-query examples select the RFC's objects", () => {
  it("Appendix B objects are valid calendar object resources", () => {
    assert.equal(objects.length, 8);
    for (const o of objects) {
      validateCalendarObject(Buffer.from(o.text), {
        supportedComponents: ["VEVENT", "VTODO", "VFREEBUSY"],
        maxResourceSize: 10_000,
      });
    }
  });

  for (const [query, hits] of Object.entries(expected)) {
    it(`RFC 4791 §${query.split("-")[0]}: ${query.slice(query.indexOf("-") + 1)} → ${hits.join(", ")}`, () => {
      const filter = parseCalendarFilter(parseXml(readFileSync(new URL(`queries/${query}.xml`, dir))));
      const got = objects.filter((o) => matchesCalendarFilter(o.text, filter)).map((o) => o.name);
      assert.deepEqual(got, hits);
      // The span index never prunes an object the filter selects.
      const range = filterTimeRange(filter);
      if (range) {
        for (const o of objects.filter((x) => hits.includes(x.name))) {
          const info = validateCalendarObject(Buffer.from(o.text), {
            supportedComponents: ["VEVENT", "VTODO", "VFREEBUSY"],
            maxResourceSize: 10_000,
          });
          assert.ok(!range.end || info.spanStart < range.end, `${o.name} span start`);
          assert.ok(!range.start || info.spanEnd > range.start, `${o.name} span end`);
        }
      }
    });
  }
});
