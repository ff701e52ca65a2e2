/**
 * GET on a calendar collection: every stored object merged into one VCALENDAR, with one VTIMEZONE
 * per TZID.
 */
import ICAL from "ical.js";
import { PRODID } from "./freebusy.js";
import type { Exporter } from "../webdav/registry.js";
import { type Component, parseIcal } from "./ical-instances.js";
import { calendarComponents } from "./split.js";

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

/**
 * The export of a calendar written as its objects are read: each object's components go out as
 * they are stored, and a VTIMEZONE the first time its TZID appears (RFC 5545 §3.6.5 wants one per
 * TZID in the calendar, anywhere in it), so nothing but the TZIDs seen is kept.
 */
export function calendarExporter(opts: ExportOptions = {}): Exporter {
  const seen = new Set<string>();
  const name = opts.name?.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r?\n/g, "\\n");
  return {
    head: [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      `PRODID:${PRODID}`,
      ...(name ? [`NAME:${name}`, `X-WR-CALNAME:${name}`] : []),
      "",
    ].join("\r\n"),
    member(body) {
      const { timezones, pieces } = calendarComponents(body.toString("utf8"));
      const lines: string[] = [];
      for (const [tzid, tz] of timezones) {
        if (seen.has(tzid)) continue;
        seen.add(tzid);
        lines.push(...tz);
      }
      for (const p of pieces) lines.push(...p.lines);
      return lines.length ? `${lines.join("\r\n")}\r\n` : "";
    },
    tail: "END:VCALENDAR\r\n",
  };
}
