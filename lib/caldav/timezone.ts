/**
 * A time zone as CalDAV carries it in CALDAV:calendar-timezone (RFC 4791 §5.2.2) and in a
 * calendar-query's CALDAV:timezone (§9.8): a VCALENDAR holding exactly one valid VTIMEZONE and
 * nothing else.
 */
import { excerpt } from "../errors.js";
import { parseIcal } from "./ical-instances.js";

/** Why the text is not such a time zone, or undefined when it is one. */
export function timezoneProblem(text: string): string | undefined {
  let root;
  try {
    root = parseIcal(text);
  } catch (err) {
    return `is not iCalendar data: ${excerpt((err as Error).message)}`;
  }
  if (root.name !== "vcalendar") return "must be a VCALENDAR";
  const comps = root.getAllSubcomponents();
  const zones = comps.filter((c) => c.name === "vtimezone");
  if (zones.length !== 1 || comps.length !== 1) {
    const names = comps.map((c) => c.name.toUpperCase()).join(", ") || "nothing";
    return `must hold exactly one VTIMEZONE and nothing else, not ${names}`;
  }
  const tz = zones[0];
  if (!tz.getFirstPropertyValue("tzid")) return "has a VTIMEZONE without a TZID";
  if (!tz.getFirstSubcomponent("standard") && !tz.getFirstSubcomponent("daylight")) {
    return "has a VTIMEZONE with neither STANDARD nor DAYLIGHT";
  }
  return undefined;
}
