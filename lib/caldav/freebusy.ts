/**
 * CALDAV:free-busy-query (RFC 4791 §7.10): the busy time of a set of calendar objects within a range,
 * as one VFREEBUSY in UTC with merged periods per FBTYPE.
 */
import { freeBusyPeriods } from "./filter.js";
import { type Component, eventEnd, expandGroup, groupComponents, parseIcal } from "./ical-instances.js";
import { Clock, parseTimezoneText, secondsToUtc, utcToSeconds } from "./ical-time.js";

export const PRODID = "-//lambda-dav//CalDAV//EN";
const FBTYPES = ["BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"] as const;
type FbType = (typeof FBTYPES)[number];

export interface FreeBusyOptions {
  /** The calendar's CALDAV:calendar-timezone, for floating times. */
  timezone?: string;
  /** DTSTAMP to write (default: now); for reproducible output. */
  now?: Date;
  /** An iTIP answer (RFC 6638 §5: METHOD:REPLY) instead of a query result. */
  method?: string;
  /** Further content lines of the VFREEBUSY (the reply's ORGANIZER, ATTENDEE and UID). */
  lines?: string[];
}

function upper(comp: Component, name: string): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v.trim().toUpperCase() : "";
}

/** Builds the VCALENDAR answer to a free-busy-query over `range` (`YYYYMMDDTHHMMSSZ` bounds). */
export function freeBusy(
  icalTexts: string[],
  range: { start: string; end: string },
  opts: FreeBusyOptions = {},
): string {
  const start = utcToSeconds(range.start);
  const end = utcToSeconds(range.end);
  if (start === undefined || end === undefined)
    throw new RangeError("free-busy range must be UTC date-times");
  const clock = new Clock(parseTimezoneText(opts.timezone));
  const busy: Record<FbType, [number, number][]> = { BUSY: [], "BUSY-TENTATIVE": [], "BUSY-UNAVAILABLE": [] };
  const add = (type: FbType, s: number, e: number) => {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (a < b) busy[type].push([a, b]);
  };

  for (const text of icalTexts) {
    let root: Component;
    try {
      root = parseIcal(text);
    } catch {
      continue;
    }
    try {
      addObject(root);
    } catch {
      // Undecodable values in a (damaged) stored object: it contributes nothing.
    }
  }
  function addObject(root: Component) {
    for (const g of groupComponents(root, ["vevent"])) {
      let instances;
      try {
        instances = expandGroup(g, { clock, until: end, maxOccurrences: 50000 }).instances;
      } catch {
        continue;
      }
      for (const inst of instances) {
        // RFC 4791 §7.10: transparent and cancelled events are not busy time.
        if (upper(inst.comp, "transp") === "TRANSPARENT" || upper(inst.comp, "status") === "CANCELLED")
          continue;
        if (!inst.start) continue;
        const s = clock.seconds(inst.start);
        const e = eventEnd(inst, clock) ?? s;
        if (e <= s) continue;
        add(upper(inst.comp, "status") === "TENTATIVE" ? "BUSY-TENTATIVE" : "BUSY", s, e);
      }
    }
    for (const fb of root.getAllSubcomponents("vfreebusy")) {
      for (const [s, e, type] of freeBusyPeriods(fb, clock)) {
        if ((FBTYPES as readonly string[]).includes(type)) add(type as FbType, s, e);
      }
    }
  }

  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    `PRODID:${PRODID}`,
    ...(opts.method ? [`METHOD:${opts.method}`] : []),
    "BEGIN:VFREEBUSY",
    ...(opts.lines ?? []),
    `DTSTAMP:${secondsToUtc(Math.floor((opts.now ?? new Date()).getTime() / 1000))}`,
    `DTSTART:${secondsToUtc(start)}`,
    `DTEND:${secondsToUtc(end)}`,
  ];
  for (const type of FBTYPES) {
    for (const [s, e] of merge(busy[type])) {
      lines.push(`FREEBUSY;FBTYPE=${type}:${secondsToUtc(s)}/${secondsToUtc(e)}`);
    }
  }
  lines.push("END:VFREEBUSY", "END:VCALENDAR", "");
  return lines.join("\r\n");
}

/** Sorts and merges overlapping or touching periods. */
function merge(periods: [number, number][]): [number, number][] {
  const sorted = [...periods].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}
