/**
 * Validation of a calendar object resource on PUT (RFC 4791 §4.1, §5.3.2.1) and the UTC span of its
 * instances, which the store indexes to prune time-range queries. Only `DavError`s escape.
 */
import ICAL from "ical.js";
import { DavError, excerpt, Forbidden } from "../errors.js";
import { controlCharacterMessage, findControlCharacter } from "../text/content-lines.js";
import { cal } from "../xml/names.js";
import { CHILD_COMPONENTS } from "./constraints.js";
import { Clock, FLOATING_SLACK_SEC, MAX_SEC, MIN_SEC, secondsToUtc, utcToSeconds } from "./ical-time.js";
import {
  alarmTriggers,
  type Component,
  expandGroup,
  eventEnd,
  groupComponents,
  INSTANCE_COMPONENTS,
  type Instance,
  parseIcal,
  timeProp,
} from "./ical-instances.js";

export interface CalendarObjectInfo {
  uid: string;
  /** VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY. */
  componentType: string;
  /** Overall UTC span of all instances, `YYYYMMDDTHHMMSSZ` (conservative: never narrower). */
  spanStart: string;
  spanEnd: string;
}

export interface ValidateOptions {
  /** Upper-case component names the collection accepts (supported-calendar-component-set). */
  supportedComponents: string[];
  /** Largest accepted body, in bytes (CALDAV:max-resource-size). */
  maxResourceSize: number;
  /** `YYYYMMDDTHHMMSSZ` bounds (CALDAV:min-date-time / max-date-time). */
  minDateTime?: string;
  maxDateTime?: string;
}

const fail = (precondition: string, message: string) => new Forbidden(message, { name: cal(precondition) });
const invalidData = (message: string) => fail("valid-calendar-data", message);
const invalidObject = (message: string) => fail("valid-calendar-object-resource", message);

/** RFC 5545 §3.2.7: ENCODING is 8BIT or BASE64 (QUOTED-PRINTABLE is vCalendar 1.0). */
const ENCODINGS = ["8BIT", "BASE64"];
/** Durations past 10,000 years are nonsense (and overflow every date type). */
const MAX_DURATION_SEC = 10000 * 366 * 86400;
/** Master occurrences expanded for the span before a set is declared open-ended. */
const SPAN_MAX_OCCURRENCES = 1000;

export function validateCalendarObject(body: Buffer, opts: ValidateOptions): CalendarObjectInfo {
  try {
    return validate(body, opts);
  } catch (err) {
    if (err instanceof DavError) throw err;
    // ical.js throws plain Errors/TypeErrors on data it cannot handle: that is bad input too.
    throw invalidData(
      `The calendar data could not be processed: ${excerpt((err as Error)?.message ?? String(err))}`,
    );
  }
}

function validate(body: Buffer, opts: ValidateOptions): CalendarObjectInfo {
  if (body.length > opts.maxResourceSize) {
    throw fail(
      "max-resource-size",
      `The calendar object is ${body.length} bytes; this calendar accepts at most ${opts.maxResourceSize} bytes.`,
    );
  }
  let text: string;
  try {
    // Strips a leading BOM, rejects anything that is not UTF-8.
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw invalidData("The calendar data is not valid UTF-8 (iCalendar must be UTF-8 encoded).");
  }
  if (/^\s*BEGIN:VCARD\b/i.test(text)) {
    throw fail("supported-calendar-data", "This is a vCard, not iCalendar data (text/calendar is expected).");
  }
  if (text.trim() === "") throw invalidData("The calendar data is empty.");
  // RFC 5545 §3.1, §3.3.11: no control characters but HTAB; other clients fail on them.
  const control = findControlCharacter(text);
  if (control) throw invalidData(controlCharacterMessage(control, "iCalendar"));

  let root: Component;
  try {
    root = parseIcal(text);
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    if (/more than one top-level/.test(msg)) {
      throw invalidData("The body holds more than one VCALENDAR; a calendar object must be exactly one.");
    }
    throw invalidData(`The calendar data could not be parsed: ${excerpt(msg)}.`);
  }
  if (root.name !== "vcalendar") {
    throw invalidData(
      `The body must be a VCALENDAR object, but it starts with BEGIN:${root.name.toUpperCase()}.`,
    );
  }
  const version = root.getFirstPropertyValue("version");
  if (version !== null && String(version).trim() !== "2.0") {
    throw fail(
      "supported-calendar-data",
      `iCalendar VERSION ${String(version)} is not supported; only VERSION:2.0 is accepted.`,
    );
  }
  checkSyntax(root);

  // The component types in the object.
  const comps = root.getAllSubcomponents().filter((c) => c.name !== "vtimezone" && !c.name.startsWith("x-"));
  if (comps.length === 0) {
    throw invalidObject("The calendar object contains no component (VEVENT, VTODO, VJOURNAL, …).");
  }
  const types = [...new Set(comps.map((c) => c.name.toUpperCase()))];
  const supported = opts.supportedComponents.map((s) => s.toUpperCase());
  const unsupported = types.filter((t) => !supported.includes(t));
  if (unsupported.length > 0) {
    throw fail(
      "supported-calendar-component",
      `This calendar does not accept ${unsupported.join(", ")} components; it accepts ${supported.join(", ")}.`,
    );
  }
  if (version === null) throw invalidData("The VCALENDAR has no VERSION property (VERSION:2.0 is required).");

  for (const c of comps) checkComponent(c);
  for (const tz of root.getAllSubcomponents("vtimezone")) checkTimezone(tz);

  // Object-level rules of RFC 4791 §4.1.
  if (root.hasProperty("method")) {
    throw invalidObject(
      "A stored calendar object must not have a METHOD property (RFC 4791 §4.1); remove the METHOD line.",
    );
  }
  if (types.length > 1) {
    throw invalidObject(
      `A calendar object holds one component type, but this one has ${types.join(" and ")}; store them separately.`,
    );
  }
  const uids = [...new Set(comps.map((c) => String(c.getFirstPropertyValue("uid"))))];
  if (uids.length > 1) {
    const shown = uids.slice(0, 3).join(", ") + (uids.length > 3 ? ", …" : "");
    throw invalidObject(
      `All components of a calendar object must share one UID, but this one has ${uids.length} (${shown}); store each UID as its own resource.`,
    );
  }
  checkTimezoneReferences(root);

  const span = computeSpan(root);
  if (opts.minDateTime !== undefined) {
    const min = utcToSeconds(opts.minDateTime);
    if (min !== undefined && span.earliest < min) {
      throw fail(
        "min-date-time",
        `The calendar object has a date before ${opts.minDateTime}, the earliest this server accepts.`,
      );
    }
  }
  if (opts.maxDateTime !== undefined) {
    const max = utcToSeconds(opts.maxDateTime);
    if (max !== undefined && span.latest > max) {
      throw fail(
        "max-date-time",
        `The calendar object has a date after ${opts.maxDateTime}, the latest this server accepts.`,
      );
    }
  }
  return {
    uid: uids[0],
    componentType: types[0],
    spanStart: secondsToUtc(span.start),
    spanEnd: secondsToUtc(span.end),
  };
}

/** Property names, known components, parameter sanity and decodable values throughout the tree. */
function checkSyntax(comp: Component): void {
  const allowed = CHILD_COMPONENTS[comp.name] ?? [];
  for (const sub of comp.getAllSubcomponents()) {
    if (!sub.name.startsWith("x-") && !allowed.includes(sub.name)) {
      throw invalidData(
        `BEGIN:${sub.name.toUpperCase()} is not a component allowed inside ${comp.name.toUpperCase()}.`,
      );
    }
    checkSyntax(sub);
  }
  for (const prop of comp.getAllProperties()) {
    const name = prop.name.toUpperCase();
    if (!/^[A-Z0-9-]+$/.test(name)) {
      throw invalidData(`"${prop.name}" is not a valid property name (only letters, digits and "-").`);
    }
    const encoding = prop.getParameter("encoding");
    if (typeof encoding === "string" && !ENCODINGS.includes(encoding.toUpperCase())) {
      throw invalidData(`${name} uses ENCODING=${encoding}; iCalendar 2.0 allows only 8BIT and BASE64.`);
    }
    checkRawTimes(name, prop);
    let values: unknown[];
    try {
      values = prop.getValues();
    } catch (err) {
      throw invalidData(`The value of ${name} is not valid: ${excerpt((err as Error).message)}.`);
    }
    const tzid = prop.getParameter("tzid");
    const timeValued = values.some((v) => v instanceof ICAL.Time || v instanceof ICAL.Period);
    if (tzid !== undefined && !name.startsWith("X-") && !timeValued) {
      throw invalidData(`${name} has a TZID parameter, which only date and time properties may have.`);
    }
    for (const v of values) {
      if (v instanceof ICAL.Time) {
        checkTime(name, v);
        if (tzid && !v.isDate && v.zone === ICAL.Timezone.utcTimezone) {
          throw invalidData(`${name} has both a TZID and a UTC ("Z") time; use one or the other.`);
        }
      } else if (v instanceof ICAL.Duration) {
        checkDuration(name, v);
      } else if (v instanceof ICAL.Period) {
        checkTime(name, v.start);
        if (v.end) checkTime(name, v.end);
        if (v.duration) checkDuration(name, v.duration);
      } else if (v instanceof ICAL.Recur && v.until) {
        checkTime(name, v.until);
      }
    }
  }
}

/** jCal's DATE / DATE-TIME text (RFC 5545 §3.3.4, §3.3.5), as written, before ical.js normalises it. */
const RAW_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:Z)?)?$/;

function realTime(text: string): boolean {
  const m = RAW_TIME.exec(text.trim());
  if (!m) return true; // another shape (an offset, a duration): ical.js judges it
  const [y, mo, d, h = "0", mi = "0", sec = "0"] = m.slice(1).map((x) => x ?? "0");
  const month = Number(mo);
  return (
    month >= 1 &&
    month <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= ICAL.Time.daysInMonth(month, Number(y)) &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(sec) <= 60
  );
}

/**
 * Impossible dates (month 13, hour 25, February 30) as the client wrote them: ical.js rolls them
 * over into real ones, so they are checked before it reads the values.
 */
function checkRawTimes(name: string, prop: ICAL.Property): void {
  const [, , type, ...values] = prop.toJSON() as [string, unknown, string, ...unknown[]];
  const texts: string[] = [];
  for (const v of values) {
    if (typeof v === "string" && (type === "date" || type === "date-time")) texts.push(v);
    else if (typeof v === "string" && type === "period") texts.push(...v.split("/"));
    else if (Array.isArray(v) && type === "period")
      texts.push(...v.filter((x): x is string => typeof x === "string"));
    else if (
      type === "recur" &&
      v &&
      typeof v === "object" &&
      typeof (v as { until?: unknown }).until === "string"
    )
      texts.push((v as { until: string }).until);
  }
  const bad = texts.find((t) => !realTime(t));
  if (bad)
    throw invalidData(`${name} holds an impossible date or time (${excerpt(bad.replace(/[-:]/g, ""))}).`);
}

function checkTime(name: string, t: ICAL.Time): void {
  const fields = [t.year, t.month, t.day, t.hour, t.minute, t.second];
  const ok =
    fields.every((n) => Number.isInteger(n)) &&
    t.year >= 1 &&
    t.year <= 9999 &&
    t.month >= 1 &&
    t.month <= 12 &&
    t.day >= 1 &&
    t.day <= ICAL.Time.daysInMonth(t.month, t.year) &&
    t.hour <= 23 &&
    t.minute <= 59 &&
    t.second <= 60;
  if (!ok) throw invalidData(`${name} holds an invalid date or time (${t.toICALString()}).`);
}

function checkDuration(name: string, d: ICAL.Duration): void {
  const sec = d.toSeconds();
  if (!Number.isFinite(sec) || Math.abs(sec) > MAX_DURATION_SEC) {
    throw invalidData(`${name} holds an impossible duration (${d.toString()}).`);
  }
}

function checkComponent(c: Component): void {
  const type = c.name.toUpperCase();
  const uid = c.getFirstPropertyValue("uid");
  if (typeof uid !== "string" || uid.trim() === "") {
    throw invalidData(
      `The ${type} has no UID property; every component needs one (RFC 5545, RFC 4791 §4.1).`,
    );
  }
  const dtstart = timeProp(c, "dtstart");
  if (type === "VEVENT" && !dtstart) throw invalidData(`The VEVENT "${uid}" has no DTSTART property.`);
  // RFC 5545 §3.6.2: a VTODO may recur without DTSTART; its DUE then anchors the recurrence.
  if (c.hasProperty("rrule") && !dtstart && !(type === "VTODO" && timeProp(c, "due")))
    throw invalidData(
      `The ${type} "${uid}" has an RRULE but no DTSTART${type === "VTODO" ? " or DUE" : ""}.`,
    );
  if (c.hasProperty("dtend") && c.hasProperty("duration")) {
    throw invalidData(`The ${type} "${uid}" has both DTEND and DURATION; only one of them is allowed.`);
  }
  if (c.hasProperty("due") && c.hasProperty("duration")) {
    throw invalidData(`The ${type} "${uid}" has both DUE and DURATION; only one of them is allowed.`);
  }
  if (type === "VTODO" && c.hasProperty("duration") && !dtstart) {
    throw invalidData(`The VTODO "${uid}" has a DURATION but no DTSTART.`);
  }
  for (const p of c.getAllProperties("rrule")) {
    const r = p.getFirstValue();
    if (r instanceof ICAL.Recur && r.until && dtstart && !dtstart.isDate && r.until.isDate) {
      throw invalidData(
        `The RRULE of "${uid}" ends with a DATE UNTIL (${r.until.toICALString()}) although DTSTART is a DATE-TIME; UNTIL must be a DATE-TIME too.`,
      );
    }
  }
  for (const alarm of c.getAllSubcomponents("valarm")) {
    if (!alarm.hasProperty("trigger")) throw invalidData(`A VALARM in "${uid}" has no TRIGGER.`);
  }
}

function checkTimezone(tz: Component): void {
  const tzid = tz.getFirstPropertyValue("tzid");
  if (typeof tzid !== "string" || tzid === "") throw invalidData("A VTIMEZONE has no TZID property.");
  if (!tz.getFirstSubcomponent("standard") && !tz.getFirstSubcomponent("daylight")) {
    throw invalidData(`The VTIMEZONE "${tzid}" has neither a STANDARD nor a DAYLIGHT sub-component.`);
  }
}

function isIanaZone(tzid: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tzid });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every TZID needs a VTIMEZONE (RFC 5545 §3.2.19). As RFC 7809 allows, a well-known IANA name without
 * one is accepted (it is evaluated as floating time, with a widened span).
 */
function checkTimezoneReferences(root: Component): void {
  const defined = new Set(
    root.getAllSubcomponents("vtimezone").map((tz) => String(tz.getFirstPropertyValue("tzid"))),
  );
  const visit = (c: Component) => {
    for (const p of c.getAllProperties()) {
      const tzid = p.getParameter("tzid");
      if (typeof tzid === "string" && !defined.has(tzid) && !isIanaZone(tzid)) {
        throw invalidObject(
          `${p.name.toUpperCase()} uses TZID "${tzid}" but the object has no VTIMEZONE for it, and it is not a known IANA time zone.`,
        );
      }
    }
    for (const s of c.getAllSubcomponents()) if (s.name !== "vtimezone") visit(s);
  };
  visit(root);
}

interface Span {
  /** The indexed span (widened for floating times, alarms and open-ended sets). */
  start: number;
  end: number;
  /** Earliest and latest instance dates, for min/max-date-time (±Infinity when there are none). */
  earliest: number;
  latest: number;
}

/** Lower/upper bounds of one instance per RFC 4791 §9.9 (undefined bound = open). */
function instanceBounds(type: string, inst: Instance, clock: Clock): [number, number] {
  const sec = (t?: ICAL.Time) => (t ? clock.seconds(t) : undefined);
  const start = sec(inst.start);
  switch (type) {
    case "vevent":
    case "vjournal":
    case "vavailability": {
      if (start === undefined) return [MIN_SEC, MAX_SEC];
      const end = type === "vjournal" ? (inst.start?.isDate ? start + 86400 : start) : eventEnd(inst, clock);
      return [Math.min(start, end ?? start), Math.max(start, end ?? start)];
    }
    case "vtodo": {
      const points: number[] = [];
      if (start !== undefined) points.push(start);
      const due = sec(inst.due);
      if (due !== undefined) points.push(due);
      if (start !== undefined && inst.duration) points.push(start + inst.duration.toSeconds());
      if (points.length > 0) return [Math.min(...points), Math.max(...points)];
      const completed = sec(timeProp(inst.comp, "completed"));
      const created = sec(timeProp(inst.comp, "created"));
      if (completed !== undefined) {
        const p = created !== undefined ? [completed, created] : [completed];
        return [Math.min(...p), Math.max(...p)];
      }
      if (created !== undefined) return [created, MAX_SEC];
      return [MIN_SEC, MAX_SEC];
    }
    case "vfreebusy": {
      const points: number[] = [];
      if (start !== undefined) points.push(start);
      const end = sec(inst.dtend);
      if (end !== undefined) points.push(end);
      for (const p of inst.comp.getAllProperties("freebusy")) {
        for (const v of p.getValues()) {
          if (v instanceof ICAL.Period) {
            points.push(clock.seconds(v.start));
            points.push(
              v.end ? clock.seconds(v.end) : clock.seconds(v.start) + (v.duration?.toSeconds() ?? 0),
            );
          }
        }
      }
      return points.length ? [Math.min(...points), Math.max(...points)] : [MIN_SEC, MAX_SEC];
    }
    default:
      return [MIN_SEC, MAX_SEC];
  }
}

function computeSpan(root: Component): Span {
  const clock = new Clock();
  let start = Infinity;
  let end = -Infinity;
  let earliest = Infinity;
  let latest = -Infinity;
  for (const group of groupComponents(root, INSTANCE_COMPONENTS)) {
    const exp = expandGroup(group, {
      clock,
      maxOccurrences: SPAN_MAX_OCCURRENCES,
      firstOnlyIfUnbounded: true,
    });
    for (const inst of exp.instances) {
      const [lo, hi] = instanceBounds(group.type, inst, clock);
      // Only real dates count for min/max-date-time; the open bounds of an undated VTODO or
      // VJOURNAL ("overlaps every range", RFC 4791 §9.9) are not dates the client wrote.
      if (lo > MIN_SEC) earliest = Math.min(earliest, lo);
      if (hi < MAX_SEC) latest = Math.max(latest, hi);
      let a = lo;
      let b = hi;
      for (const t of alarmTriggers(inst, clock)) {
        a = Math.min(a, t);
        b = Math.max(b, t);
      }
      start = Math.min(start, a);
      end = Math.max(end, b);
    }
    // Open-ended sets are indexed as such; they do not trip max-date-time (only their finite part counts).
    if (exp.truncated || exp.unbounded) end = MAX_SEC;
  }
  if (!Number.isFinite(start)) start = MIN_SEC;
  if (!Number.isFinite(end)) end = MAX_SEC;
  // Point-like instances (a DTSTART-only VTODO, a DUE) must still overlap ranges that touch them.
  start -= 1;
  end += 1;
  if (clock.sawFloating) {
    start -= FLOATING_SLACK_SEC;
    end += FLOATING_SLACK_SEC;
  }
  return {
    start: Math.max(MIN_SEC, start),
    end: Math.min(MAX_SEC, end),
    // No dated instance: nothing to check against min/max-date-time.
    earliest,
    latest,
  };
}
