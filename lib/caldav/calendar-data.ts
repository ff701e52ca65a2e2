/**
 * CALDAV:calendar-data in a REPORT's prop (RFC 4791 §9.6): which parts of each calendar object to
 * return, and rendering a stored object accordingly — comp/prop subsetting, expand (§9.6.5),
 * limit-recurrence-set (§9.6.6) and limit-freebusy-set (§9.6.7).
 */
import ICAL from "ical.js";
import { DavError, excerpt, Forbidden, InsufficientStorage } from "../errors.js";
import { cal, dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { freeBusyPeriods, instanceInRange } from "./filter.js";
import { type Component, expandGroup, groupComponents, type Instance, parseIcal } from "./ical-instances.js";
import { Clock, parseTimezoneText, secondsToUtc, utcToSeconds } from "./ical-time.js";

export interface PropSpec {
  name: string;
  novalue: boolean;
}

export interface CompSpec {
  name: string;
  /** All properties (allprop, or no prop element at all). */
  allProps: boolean;
  props: PropSpec[];
  /** All sub-components (allcomp, or no comp element at all). */
  allComps: boolean;
  comps: CompSpec[];
}

export interface UtcRange {
  start: string;
  end: string;
}

export interface CalendarDataSpec {
  comp?: CompSpec;
  expand?: UtcRange;
  limitRecurrenceSet?: UtcRange;
  limitFreebusySet?: UtcRange;
}

const C = (local: string) => cal(local);
const invalid = (message: string) => new Forbidden(message, { name: cal("valid-filter") });

/** Parses a `{caldav}calendar-data` element from a REPORT's DAV:prop. */
export function parseCalendarDataRequest(el: XmlElement): CalendarDataSpec {
  const type = (el.attrs["{}content-type"] ?? "text/calendar").trim().toLowerCase();
  const version = (el.attrs["{}version"] ?? "2.0").trim();
  if (type !== "text/calendar" || version !== "2.0") {
    throw new Forbidden(
      `calendar-data as ${type} version ${version} is not supported; only text/calendar version 2.0 is.`,
      { name: cal("supported-calendar-data") },
    );
  }
  const spec: CalendarDataSpec = {};
  for (const c of el.children) {
    switch (c.name) {
      case C("comp"):
        spec.comp = parseComp(c);
        break;
      case C("expand"):
        spec.expand = parseRange(c, true);
        break;
      case C("limit-recurrence-set"):
        spec.limitRecurrenceSet = parseRange(c, true);
        break;
      case C("limit-freebusy-set"):
        spec.limitFreebusySet = parseRange(c, true);
        break;
      default:
      // Unknown elements are ignored (RFC 4918 §17 extensibility).
    }
  }
  if (spec.expand && spec.limitRecurrenceSet) {
    throw invalid("calendar-data cannot ask for both expand and limit-recurrence-set.");
  }
  return spec;
}

function parseComp(el: XmlElement): CompSpec {
  const name = (el.attrs["{}name"] ?? "").trim().toUpperCase();
  if (!name) throw invalid("CALDAV:comp needs a name attribute.");
  const spec: CompSpec = { name, allProps: false, props: [], allComps: false, comps: [] };
  let sawProp = false;
  let sawComp = false;
  for (const c of el.children) {
    if (c.name === C("allprop")) {
      spec.allProps = sawProp = true;
    } else if (c.name === C("prop")) {
      sawProp = true;
      const pname = (c.attrs["{}name"] ?? "").trim().toUpperCase();
      if (!pname) throw invalid("CALDAV:prop needs a name attribute.");
      spec.props.push({
        name: pname,
        novalue: (c.attrs["{}novalue"] ?? "no").trim().toLowerCase() === "yes",
      });
    } else if (c.name === C("allcomp")) {
      spec.allComps = sawComp = true;
    } else if (c.name === C("comp")) {
      sawComp = true;
      spec.comps.push(parseComp(c));
    }
  }
  if (!sawProp) spec.allProps = true;
  if (!sawComp) spec.allComps = true;
  return spec;
}

function parseRange(el: XmlElement, required: boolean): UtcRange {
  const start = el.attrs["{}start"];
  const end = el.attrs["{}end"];
  const s = start === undefined ? undefined : utcToSeconds(start);
  const e = end === undefined ? undefined : utcToSeconds(end);
  if (required && (s === undefined || e === undefined)) {
    throw invalid(
      `CALDAV:${el.local} needs start and end attributes as UTC date-times (e.g. 20060104T000000Z).`,
    );
  }
  if (s! >= e!) throw invalid(`CALDAV:${el.local}: end must be after start.`);
  return { start: start!.trim(), end: end!.trim() };
}

export interface RenderOptions {
  /** The calendar's CALDAV:calendar-timezone, for floating times in expanded output. */
  timezone?: string;
  /** The object's href, for the message of a refused expansion. */
  href?: string;
}

/** Instances one object may expand into (RFC 4791 §9.6.5): a day's worth of a rule every few seconds. */
export const MAX_EXPANDED_INSTANCES = 50000;

/** Renders a stored object per the spec; without any subsetting the stored text comes back unchanged. */
export function renderCalendarData(
  icalText: string,
  spec: CalendarDataSpec | undefined,
  opts: RenderOptions = {},
): string {
  if (!spec || (!spec.comp && !spec.expand && !spec.limitRecurrenceSet && !spec.limitFreebusySet))
    return icalText;
  let root: Component;
  try {
    root = parseIcal(icalText);
  } catch {
    return icalText;
  }
  const clock = new Clock(parseTimezoneText(opts.timezone));
  try {
    if (spec.expand) expand(root, toSec(spec.expand), clock, opts.href);
    else if (spec.limitRecurrenceSet) limitRecurrenceSet(root, toSec(spec.limitRecurrenceSet), clock);
    if (spec.limitFreebusySet) limitFreebusySet(root, toSec(spec.limitFreebusySet), clock);
    if (spec.comp) subset(root, spec.comp);
    return root.toString() + "\r\n";
  } catch (err) {
    // An expansion past the limit is refused (507); other failures are undecodable values
    // (damaged data): better the stored object than a failed REPORT.
    if (err instanceof DavError) throw err;
    return icalText;
  }
}

const toSec = (r: UtcRange) => ({ start: utcToSeconds(r.start)!, end: utcToSeconds(r.end)! });

const RECURRENCE_PROPS = ["rrule", "rdate", "exdate", "exrule"];

function utcTime(t: ICAL.Time, clock: Clock): ICAL.Time {
  if (t.isDate) return t;
  return ICAL.Time.fromJSDate(new Date(clock.seconds(t) * 1000), true);
}

function setTime(comp: Component, name: string, t: ICAL.Time | undefined): void {
  comp.removeAllProperties(name);
  if (!t) return;
  const prop = new ICAL.Property(name);
  prop.setValue(t);
  comp.addProperty(prop);
}

/** RFC 4791 §9.6.5: instances in the range as separate components in UTC; no VTIMEZONE. */
function expand(root: Component, r: { start: number; end: number }, clock: Clock, href?: string): void {
  const out: Component[] = [];
  for (const g of groupComponents(root, ["vevent", "vtodo", "vjournal"])) {
    const exp = expandGroup(g, { clock, until: r.end, maxOccurrences: MAX_EXPANDED_INSTANCES });
    if (exp.truncated) {
      // A partial expansion would be a wrong answer, not a short one: refuse it, as a REPORT refuses
      // more matches than it can return (DAV:number-of-matches-within-limits, RFC 5323 §5.2 / RFC 6578 §3.6).
      throw new InsufficientStorage(
        `Expanding ${href ?? "a calendar object"} (UID ${excerpt(g.uid)}) from ${secondsToUtc(r.start)} to ${secondsToUtc(r.end)} yields more than ${MAX_EXPANDED_INSTANCES} instances, or more than can be computed in time; ask for a shorter CALDAV:expand range, or for the object without expand.`,
        { name: dav("number-of-matches-within-limits") },
      );
    }
    const instances = exp.instances
      .filter((i) => instanceInRange(g.type, i, r, clock))
      .sort((a, b) => startOf(a, clock) - startOf(b, clock));
    for (const inst of instances) out.push(instanceComponent(inst, clock));
  }
  for (const c of [...root.getAllSubcomponents()]) {
    if (["vevent", "vtodo", "vjournal", "vtimezone"].includes(c.name)) root.removeSubcomponent(c);
  }
  for (const c of out) root.addSubcomponent(c);
}

const startOf = (i: Instance, clock: Clock) =>
  i.start ? clock.seconds(i.start) : i.due ? clock.seconds(i.due) : 0;

function instanceComponent(inst: Instance, clock: Clock): Component {
  const comp = new ICAL.Component(JSON.parse(JSON.stringify(inst.comp.jCal)) as unknown[]);
  for (const p of RECURRENCE_PROPS) comp.removeAllProperties(p);
  const at = (t?: ICAL.Time) => (t ? utcTime(t, clock) : undefined);
  if (inst.start) setTime(comp, "dtstart", at(inst.start));
  if (comp.hasProperty("dtend") || inst.dtend) setTime(comp, "dtend", at(inst.dtend));
  if (comp.hasProperty("due") || inst.due) setTime(comp, "due", at(inst.due));
  if (inst.recurrenceId) setTime(comp, "recurrence-id", at(inst.recurrenceId));
  // Other zoned date-times of the instance (e.g. absolute triggers stay UTC already).
  for (const p of comp.getAllProperties()) {
    if (p.getParameter("tzid") === undefined) continue;
    const values = p.getValues().map((v) => (v instanceof ICAL.Time ? utcTime(v, clock) : v));
    p.removeParameter("tzid");
    p.setValues(values);
  }
  return comp;
}

/** RFC 4791 §9.6.6: the master plus the overrides whose instance overlaps the range. */
function limitRecurrenceSet(root: Component, r: { start: number; end: number }, clock: Clock): void {
  for (const g of groupComponents(root, ["vevent", "vtodo", "vjournal"])) {
    if (!g.master || g.overrides.length === 0) continue;
    const exp = expandGroup({ ...g, master: undefined }, { clock });
    for (const inst of exp.instances) {
      const ridInRange =
        inst.recurrenceId &&
        clock.seconds(inst.recurrenceId) < r.end &&
        clock.seconds(inst.recurrenceId) >= r.start;
      if (!ridInRange && !instanceInRange(g.type, inst, r, clock)) root.removeSubcomponent(inst.comp);
    }
  }
}

/** RFC 4791 §9.6.7: only FREEBUSY periods that overlap the range. */
function limitFreebusySet(root: Component, r: { start: number; end: number }, clock: Clock): void {
  for (const fb of root.getAllSubcomponents("vfreebusy")) {
    for (const p of [...fb.getAllProperties("freebusy")]) {
      const keep = p.getValues().filter((v) => {
        if (!(v instanceof ICAL.Period)) return true;
        const tmp = new ICAL.Component("vfreebusy");
        const q = new ICAL.Property("freebusy", tmp);
        q.setValue(v);
        tmp.addProperty(q);
        const [[s, e]] = freeBusyPeriods(tmp, clock);
        return s < r.end && e > r.start;
      });
      if (keep.length === 0) fb.removeProperty(p);
      else p.setValues(keep);
    }
  }
}

/** RFC 4791 §9.6.1–9.6.4: keep only the requested components and properties. */
function subset(comp: Component, spec: CompSpec): void {
  if (!spec.allProps) {
    // Exactly what was asked for, as in RFC 4791's own examples (§7.8.1 asks for VERSION only and
    // gets no PRODID back): the client chose the subset.
    const wanted = new Map(spec.props.map((p) => [p.name.toLowerCase(), p]));
    for (const p of [...comp.getAllProperties()]) {
      const w = wanted.get(p.name);
      if (!w) comp.removeProperty(p);
      else if (w.novalue) p.jCal.splice(3, p.jCal.length - 3, "");
    }
  }
  if (!spec.allComps) {
    const wanted = new Map(spec.comps.map((c) => [c.name.toLowerCase(), c]));
    for (const sub of [...comp.getAllSubcomponents()]) {
      const w = wanted.get(sub.name);
      if (!w) comp.removeSubcomponent(sub);
      else subset(sub, w);
    }
  }
}
