/**
 * GET on a calendar collection: every stored object's components in one VCALENDAR, with one
 * VTIMEZONE per TZID, written object by object.
 */
import type { Exporter } from "../webdav/registry.js";
import { PRODID } from "./freebusy.js";
import { calendarComponents } from "./split.js";

export interface ExportOptions {
  /** The calendar's display name (written as NAME and X-WR-CALNAME). */
  name?: string;
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
