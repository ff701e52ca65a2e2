/**
 * GET on a calendar collection: every stored object merged into one VCALENDAR, with one VTIMEZONE
 * per TZID.
 */
import ICAL from "ical.js";
import { PRODID } from "./freebusy.js";
import { type Component, parseIcal } from "./ical-instances.js";

export interface ExportOptions {
  /** The calendar's display name (written as NAME and X-WR-CALNAME). */
  name?: string;
}

export function mergeCalendars(icalTexts: string[], opts: ExportOptions = {}): string {
  const out = new ICAL.Component("vcalendar");
  out.addPropertyWithValue("version", "2.0");
  out.addPropertyWithValue("prodid", PRODID);
  if (opts.name) {
    out.addPropertyWithValue("name", opts.name);
    out.addPropertyWithValue("x-wr-calname", opts.name);
  }
  const timezones = new Map<string, Component>();
  const components: Component[] = [];
  for (const text of icalTexts) {
    let root: Component;
    try {
      root = parseIcal(text);
    } catch {
      continue; // stored objects were validated; never fail a whole export on one
    }
    for (const c of root.getAllSubcomponents()) {
      if (c.name === "vtimezone") {
        const tzid = String(c.getFirstPropertyValue("tzid") ?? "");
        if (!timezones.has(tzid)) timezones.set(tzid, c);
      } else {
        components.push(c);
      }
    }
  }
  for (const tz of timezones.values()) out.addSubcomponent(tz);
  for (const c of components) out.addSubcomponent(c);
  return out.toString() + "\r\n";
}
