/**
 * Time helpers shared by the iCalendar layer: UTC instants as seconds since the epoch, the sortable
 * `YYYYMMDDTHHMMSSZ` strings that the store indexes, and the conversion of ical.js times (UTC, zoned
 * by a VTIMEZONE, floating, all-day) to UTC.
 */
import ICAL from "ical.js";
import { RecurrenceTimeout } from "./recur-guard.js";

/** Earliest and latest representable instants, as used for open spans. */
export const MIN_UTC = "00010101T000000Z";
export const MAX_UTC = "99991231T235959Z";
export const MIN_SEC = civilToSeconds(1, 1, 1, 0, 0, 0);
export const MAX_SEC = civilToSeconds(9999, 12, 31, 23, 59, 59);
/** Floating times can be anywhere from UTC-12 to UTC+14: widen spans by this much each way. */
export const FLOATING_SLACK_SEC = 14 * 3600;

/** Seconds since 1970 for a proleptic-Gregorian civil date-time taken as UTC (works for years < 100). */
export function civilToSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return Math.floor(date.getTime() / 1000);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `YYYYMMDDTHHMMSSZ`, clamped to the representable range. */
export function secondsToUtc(sec: number): string {
  if (!(sec > MIN_SEC)) return MIN_UTC;
  if (!(sec < MAX_SEC)) return MAX_UTC;
  const d = new Date(sec * 1000);
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    "T" +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds()) +
    "Z"
  );
}

const UTC_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `YYYYMMDDTHHMMSSZ`; undefined when malformed or not a real date. */
export function utcToSeconds(value: string): number | undefined {
  const m = UTC_RE.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const sec = civilToSeconds(y, mo, d, h, mi, Math.min(s, 59));
  // Reject dates that rolled over (e.g. 20230231).
  if (secondsToUtc(sec).slice(0, 8) !== value.trim().slice(0, 8)) return undefined;
  return sec;
}

/** True when the time has no fixed relation to UTC: a DATE, no TZID, or a TZID we have no definition of. */
export function isFloating(t: ICAL.Time): boolean {
  if (t.isDate) return true;
  const zone = t.zone;
  if (!zone || zone === ICAL.Timezone.localTimezone) return true;
  return zone.tzid === "floating";
}

/** The wall-clock fields of a time read as if they were UTC. */
export function wallSeconds(t: ICAL.Time): number {
  return t.isDate
    ? civilToSeconds(t.year, t.month, t.day, 0, 0, 0)
    : civilToSeconds(t.year, t.month, t.day, t.hour, t.minute, t.second);
}

/** Converts times to UTC seconds; floating times are read in `floatingTz` (or as UTC without one). */
export class Clock {
  /** Set once a floating time has been converted (callers widen spans then). */
  sawFloating = false;
  /**
   * Zones whose observance rules ical.js could not expand in time (recur-guard.ts): each conversion
   * would try again for as long, so their times are read as floating from then on.
   */
  private readonly broken = new WeakSet<object>();
  constructor(readonly floatingTz?: ICAL.Timezone) {}

  seconds(t: ICAL.Time): number {
    if (isFloating(t) || this.broken.has(t.zone)) return this.floatingSeconds(t);
    try {
      const sec = t.toUnixTime();
      if (Number.isFinite(sec)) return sec;
    } catch (err) {
      // A broken VTIMEZONE: fall through and treat the time as floating.
      this.noteBroken(err, t.zone);
    }
    return this.floatingSeconds(t);
  }

  private noteBroken(err: unknown, zone: object | undefined): void {
    if (zone && err instanceof RecurrenceTimeout && err.reason === "iterator") this.broken.add(zone);
  }

  private floatingSeconds(t: ICAL.Time): number {
    this.sawFloating = true;
    const wall = wallSeconds(t);
    if (!this.floatingTz || this.broken.has(this.floatingTz)) return wall;
    try {
      const offset = this.floatingTz.utcOffset(t);
      return Number.isFinite(offset) ? wall - offset : wall;
    } catch (err) {
      this.noteBroken(err, this.floatingTz);
      return wall;
    }
  }
}

/**
 * Reads a calendar's timezone (the CALDAV:calendar-timezone property: a VCALENDAR holding one
 * VTIMEZONE, or a bare VTIMEZONE). Undefined when absent or unusable.
 */
export function parseTimezoneText(text: string | undefined): ICAL.Timezone | undefined {
  if (!text) return undefined;
  try {
    const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
    const vtz = root.name === "vtimezone" ? root : root.getFirstSubcomponent("vtimezone");
    if (!vtz || (!vtz.getFirstSubcomponent("standard") && !vtz.getFirstSubcomponent("daylight")))
      return undefined;
    return new ICAL.Timezone(vtz);
  } catch {
    return undefined;
  }
}
