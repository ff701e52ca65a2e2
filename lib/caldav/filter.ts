/**
 * CALDAV:filter of a calendar-query REPORT (RFC 4791 §7.8, §9.7): the parsed model and its evaluation
 * against a stored calendar object, with the time-range semantics of §9.9 over every recurrence
 * instance.
 */
import ICAL from "ical.js";
import { Forbidden } from "../errors.js";
import { cal } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import {
  alarmTriggerTimes,
  type Component,
  type ComponentGroup,
  durationSeconds,
  expandGroup,
  groupComponents,
  INSTANCE_COMPONENTS,
  type Instance,
  maxAlarmLead,
  parseIcal,
  timeProp,
} from "./ical-instances.js";
import { COLLATIONS, isCollation, type Collation } from "../text/collation.js";
import { CHILD_COMPONENTS } from "./constraints.js";
import { Clock, parseTimezoneText, secondsToUtc, utcToSeconds } from "./ical-time.js";

export interface TextMatch {
  value: string;
  collation: Collation;
  negate: boolean;
}

/** A time range in UTC; a missing bound is open. */
export interface TimeRange {
  start?: string;
  end?: string;
}

export interface ParamFilter {
  name: string;
  isNotDefined: boolean;
  textMatch?: TextMatch;
}

export interface PropFilter {
  name: string;
  isNotDefined: boolean;
  timeRange?: TimeRange;
  textMatch?: TextMatch;
  paramFilters: ParamFilter[];
}

export interface CompFilter {
  name: string;
  isNotDefined: boolean;
  timeRange?: TimeRange;
  propFilters: PropFilter[];
  compFilters: CompFilter[];
}

const C = (local: string) => cal(local);
const unsupported = (message: string) => new Forbidden(message, { name: cal("supported-filter") });
const invalid = (message: string) => new Forbidden(message, { name: cal("valid-filter") });

/** Parses a `{caldav}filter` element (which holds exactly one comp-filter, for VCALENDAR). */
export function parseCalendarFilter(el: XmlElement): CompFilter {
  if (el.name !== C("filter")) throw invalid(`Expected a CALDAV:filter element, got ${el.name}.`);
  if (el.children.length !== 1 || el.children[0].name !== C("comp-filter")) {
    throw invalid("CALDAV:filter must contain exactly one CALDAV:comp-filter.");
  }
  const root = parseCompFilter(el.children[0]);
  checkPlacement(root, undefined);
  return root;
}

/** Components a time-range can apply to (RFC 4791 §9.9). */
const TIMED_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VALARM", "VAVAILABILITY", "AVAILABLE"];
/** Properties whose values are dates or date-times, the only ones a prop-filter time-range can test (§9.7.2). */
const DATE_PROPERTIES = [
  "DTSTART",
  "DTEND",
  "DUE",
  "COMPLETED",
  "CREATED",
  "DTSTAMP",
  "LAST-MODIFIED",
  "RECURRENCE-ID",
  "EXDATE",
  "RDATE",
  "TRIGGER",
  "ACKNOWLEDGED",
];

/** RFC 4791 §9.7: the outermost filter is VCALENDAR, components nest as iCalendar nests them, and time-ranges test only what has times. */
function checkPlacement(f: CompFilter, parent: string | undefined): void {
  const x = f.name.startsWith("X-");
  if (parent === undefined && f.name !== "VCALENDAR") {
    throw invalid(`The outermost comp-filter must be VCALENDAR, not ${f.name}.`);
  }
  if (parent !== undefined && !x) {
    const allowed = CHILD_COMPONENTS[parent.toLowerCase()];
    if (allowed && !allowed.includes(f.name.toLowerCase())) {
      throw invalid(`A ${f.name} cannot be inside a ${parent}; a comp-filter for it can never match.`);
    }
    if (f.name === "VCALENDAR") throw invalid("A VCALENDAR cannot be inside another component.");
  }
  if (f.timeRange && !x && !TIMED_COMPONENTS.includes(f.name)) {
    throw invalid(`A time-range cannot apply to ${f.name}; only to ${TIMED_COMPONENTS.join(", ")}.`);
  }
  for (const p of f.propFilters) {
    if (p.timeRange && !p.name.startsWith("X-") && !DATE_PROPERTIES.includes(p.name)) {
      throw invalid(
        `A time-range inside the prop-filter for ${p.name} tests nothing: ${p.name} is not a date.`,
      );
    }
  }
  for (const c of f.compFilters) checkPlacement(c, f.name);
}

function nameAttr(el: XmlElement): string {
  const name = el.attrs["{}name"];
  if (!name || !name.trim()) throw invalid(`CALDAV:${el.local} needs a name attribute.`);
  return name.trim().toUpperCase();
}

function parseCompFilter(el: XmlElement): CompFilter {
  const f: CompFilter = { name: nameAttr(el), isNotDefined: false, propFilters: [], compFilters: [] };
  for (const c of el.children) {
    switch (c.name) {
      case C("is-not-defined"):
        f.isNotDefined = true;
        break;
      case C("time-range"):
        if (f.timeRange) throw invalid("A comp-filter may hold only one time-range.");
        f.timeRange = parseTimeRange(c);
        break;
      case C("prop-filter"):
        f.propFilters.push(parsePropFilter(c));
        break;
      case C("comp-filter"):
        f.compFilters.push(parseCompFilter(c));
        break;
      default:
        throw unsupported(`The filter element ${c.name} is not supported inside comp-filter.`);
    }
  }
  if (f.isNotDefined && (f.timeRange || f.propFilters.length || f.compFilters.length)) {
    throw invalid(`comp-filter ${f.name}: is-not-defined cannot be combined with other tests.`);
  }
  return f;
}

function parsePropFilter(el: XmlElement): PropFilter {
  const f: PropFilter = { name: nameAttr(el), isNotDefined: false, paramFilters: [] };
  for (const c of el.children) {
    switch (c.name) {
      case C("is-not-defined"):
        f.isNotDefined = true;
        break;
      case C("time-range"):
        if (f.timeRange) throw invalid("A prop-filter may hold only one time-range.");
        f.timeRange = parseTimeRange(c);
        break;
      case C("text-match"):
        if (f.textMatch) throw invalid("A prop-filter may hold only one text-match.");
        f.textMatch = parseTextMatch(c);
        break;
      case C("param-filter"):
        f.paramFilters.push(parseParamFilter(c));
        break;
      default:
        throw unsupported(`The filter element ${c.name} is not supported inside prop-filter.`);
    }
  }
  if (f.timeRange && f.textMatch)
    throw invalid(`prop-filter ${f.name}: use either time-range or text-match.`);
  if (f.isNotDefined && (f.timeRange || f.textMatch || f.paramFilters.length)) {
    throw invalid(`prop-filter ${f.name}: is-not-defined cannot be combined with other tests.`);
  }
  return f;
}

function parseParamFilter(el: XmlElement): ParamFilter {
  const f: ParamFilter = { name: nameAttr(el), isNotDefined: false };
  for (const c of el.children) {
    if (c.name === C("is-not-defined")) f.isNotDefined = true;
    else if (c.name === C("text-match") && !f.textMatch) f.textMatch = parseTextMatch(c);
    else throw unsupported(`The filter element ${c.name} is not supported inside param-filter.`);
  }
  if (f.isNotDefined && f.textMatch)
    throw invalid(`param-filter ${f.name}: is-not-defined and text-match conflict.`);
  return f;
}

function parseTextMatch(el: XmlElement): TextMatch {
  const collation = (el.attrs["{}collation"] ?? "i;ascii-casemap").trim();
  if (!isCollation(collation)) {
    throw new Forbidden(
      `The collation "${collation}" is not supported; use ${Object.keys(COLLATIONS).join(", ")}.`,
      {
        name: cal("supported-collation"),
      },
    );
  }
  const negate = (el.attrs["{}negate-condition"] ?? "no").trim().toLowerCase();
  if (negate !== "yes" && negate !== "no")
    throw invalid(`negate-condition must be "yes" or "no", not "${negate}".`);
  return { value: el.text, collation, negate: negate === "yes" };
}

function parseTimeRange(el: XmlElement): TimeRange {
  const start = el.attrs["{}start"];
  const end = el.attrs["{}end"];
  if (start === undefined && end === undefined) {
    throw invalid("A time-range needs a start or an end attribute (or both).");
  }
  const s = start === undefined ? undefined : utcToSeconds(start);
  const e = end === undefined ? undefined : utcToSeconds(end);
  if (start !== undefined && s === undefined) {
    throw invalid(`time-range start "${start}" is not a UTC date-time like 20060104T000000Z.`);
  }
  if (end !== undefined && e === undefined) {
    throw invalid(`time-range end "${end}" is not a UTC date-time like 20060105T000000Z.`);
  }
  if (s !== undefined && e !== undefined && e <= s) throw invalid("time-range end must be after its start.");
  return {
    start: s === undefined ? undefined : secondsToUtc(s),
    end: e === undefined ? undefined : secondsToUtc(e),
  };
}

/**
 * The time range of the top-level component filter (VCALENDAR > VEVENT|VTODO|… time-range), which a
 * matching object's indexed span must overlap. Undefined when the filter has none.
 */
export function filterTimeRange(filter: CompFilter): TimeRange | undefined {
  if (filter.isNotDefined) return undefined;
  for (const f of filter.compFilters) {
    if (!f.isNotDefined && f.timeRange) return f.timeRange;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

interface Range {
  start: number;
  end: number;
}

function toRange(tr: TimeRange): Range {
  return {
    start: tr.start ? utcToSeconds(tr.start)! : -Infinity,
    end: tr.end ? utcToSeconds(tr.end)! : Infinity,
  };
}

/** Master occurrences expanded while matching before the set is declared to match (conservatively). */
const MATCH_MAX_OCCURRENCES = 50000;

interface Expanded {
  instances: Instance[];
  /** Expansion gave up before `until`: time-range tests answer true. */
  incomplete: boolean;
}

/** Wall-clock budget for expanding one object while matching; past it, time-range tests answer true. */
const MATCH_BUDGET_MS = 2000;

class Evaluator {
  /** Expansions by `until` bound, then by component. */
  private readonly expansions = new Map<number, Map<Component, Expanded>>();
  private groups?: Map<Component, ComponentGroup>;
  private readonly deadline = Date.now() + MATCH_BUDGET_MS;

  constructor(
    readonly root: Component,
    readonly clock: Clock,
  ) {}

  private groupOf(comp: Component): ComponentGroup | undefined {
    if (!this.groups) {
      this.groups = new Map();
      for (const g of groupComponents(this.root)) {
        if (g.master) this.groups.set(g.master, g);
        for (const o of g.overrides) this.groups.set(o, g);
      }
    }
    return this.groups.get(comp);
  }

  /**
   * The instances a component contributes (a master: its non-overridden occurrences), enough of them
   * to decide the range `r`: those starting before its end, or for an open end, the first past its start.
   */
  instancesOf(comp: Component, r: Range): Expanded {
    const until = Number.isFinite(r.end) ? r.end : Number.isFinite(r.start) ? r.start + 2 * 86400 : -Infinity;
    let byComp = this.expansions.get(until);
    if (!byComp) this.expansions.set(until, (byComp = new Map()));
    const cached = byComp.get(comp);
    if (cached) return cached;
    const group = this.groupOf(comp);
    if (!group) return { instances: [], incomplete: false };
    const members = [group.master, ...group.overrides].filter((c): c is Component => !!c);
    const budgetMs = this.deadline - Date.now();
    let exp;
    if (budgetMs <= 0) {
      exp = { instances: [], truncated: true, unbounded: false };
    } else {
      try {
        exp = expandGroup(group, {
          clock: this.clock,
          until: until + maxAlarmLead(members) + 86400,
          maxOccurrences: MATCH_MAX_OCCURRENCES,
          budgetMs,
        });
      } catch {
        exp = { instances: [], truncated: true, unbounded: false };
      }
    }
    for (const m of members) byComp.set(m, { instances: [], incomplete: exp.truncated });
    for (const inst of exp.instances) byComp.get(inst.comp)?.instances.push(inst);
    return byComp.get(comp) ?? { instances: [], incomplete: exp.truncated };
  }

  matchComp(f: CompFilter, candidates: Component[], parent?: Component): boolean {
    const comps = candidates.filter((c) => c.name.toUpperCase() === f.name);
    if (f.isNotDefined) return comps.length === 0;
    return comps.some((c) => this.compMatches(f, c, parent));
  }

  private compMatches(f: CompFilter, comp: Component, parent?: Component): boolean {
    if (f.timeRange && !this.compInRange(comp, toRange(f.timeRange), parent)) return false;
    if (!f.propFilters.every((pf) => this.matchProp(pf, comp))) return false;
    return f.compFilters.every((cf) => this.matchComp(cf, comp.getAllSubcomponents(), comp));
  }

  private compInRange(comp: Component, r: Range, parent?: Component): boolean {
    if (comp.name === "valarm") {
      if (!parent) return false;
      const { instances, incomplete } = this.instancesOf(parent, r);
      if (incomplete) return true;
      return instances.some((inst) =>
        alarmTriggerTimes(comp, inst, this.clock).some((t) => r.start <= t && r.end > t),
      );
    }
    if (!INSTANCE_COMPONENTS.includes(comp.name)) return true;
    const { instances, incomplete } = this.instancesOf(comp, r);
    if (incomplete) return true;
    return instances.some((inst) => instanceInRange(comp.name, inst, r, this.clock));
  }

  private matchProp(f: PropFilter, comp: Component): boolean {
    const props = comp.getAllProperties(f.name.toLowerCase());
    if (f.isNotDefined) return props.length === 0;
    return props.some((p) => {
      if (f.timeRange) {
        const r = toRange(f.timeRange);
        const times = p.getValues().filter((v): v is ICAL.Time => v instanceof ICAL.Time);
        if (!times.some((t) => inPoint(this.clock.seconds(t), r))) return false;
      }
      if (f.textMatch && !textMatches(f.textMatch, propertyText(p))) return false;
      return f.paramFilters.every((pf) => matchParam(pf, p));
    });
  }
}

const inPoint = (t: number, r: Range) => r.start <= t && r.end > t;

/** RFC 4791 §9.9: does one instance of a component overlap the range? */
export function instanceInRange(type: string, inst: Instance, r: Range, clock: Clock): boolean {
  const { start: s, end: e } = r;
  const sec = (t?: ICAL.Time) => (t ? clock.seconds(t) : undefined);
  const dtstart = sec(inst.start);
  switch (type) {
    case "vevent":
    case "vavailability": {
      if (dtstart === undefined) return type === "vavailability";
      const dtend = sec(inst.dtend);
      if (dtend !== undefined) return (s < dtend || (dtend <= dtstart && s <= dtstart)) && e > dtstart;
      if (inst.duration) {
        const d = durationSeconds(inst.duration);
        return d > 0 ? s < dtstart + d && e > dtstart : s <= dtstart && e > dtstart;
      }
      if (inst.start?.isDate) return s < dtstart + 86400 && e > dtstart;
      return s <= dtstart && e > dtstart;
    }
    case "vjournal":
      if (dtstart === undefined) return false;
      if (inst.start?.isDate) return s < dtstart + 86400 && e > dtstart;
      return s <= dtstart && e > dtstart;
    case "vtodo": {
      const due = sec(inst.due);
      if (dtstart !== undefined) {
        if (inst.duration) {
          const end = dtstart + durationSeconds(inst.duration);
          return s <= end && (e > dtstart || e >= end);
        }
        if (due !== undefined) return (s < due || s <= dtstart) && (e > dtstart || e >= due);
        return s <= dtstart && e > dtstart;
      }
      if (due !== undefined) return s < due && e >= due;
      const completed = sec(timeProp(inst.comp, "completed"));
      const created = sec(timeProp(inst.comp, "created"));
      if (completed !== undefined && created !== undefined) {
        return (s <= created || s <= completed) && (e >= created || e >= completed);
      }
      if (completed !== undefined) return s <= completed && e >= completed;
      if (created !== undefined) return e > created;
      return true;
    }
    case "vfreebusy": {
      const dtend = sec(inst.dtend);
      if (dtstart !== undefined && dtend !== undefined) return s <= dtend && e > dtstart;
      const periods = freeBusyPeriods(inst.comp, clock);
      if (periods.length) return periods.some(([ps, pe]) => s < pe && e > ps);
      return false;
    }
    default:
      return true;
  }
}

/** FREEBUSY periods of a VFREEBUSY as [start, end] UTC seconds with their FBTYPE. */
export function freeBusyPeriods(comp: Component, clock: Clock): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (const p of comp.getAllProperties("freebusy")) {
    const fbtype = String(p.getParameter("fbtype") ?? "BUSY").toUpperCase();
    for (const v of p.getValues()) {
      if (!(v instanceof ICAL.Period)) continue;
      const start = clock.seconds(v.start);
      const end = v.end ? clock.seconds(v.end) : start + (v.duration ? durationSeconds(v.duration) : 0);
      out.push([start, end, fbtype]);
    }
  }
  return out;
}

function matchParam(f: ParamFilter, prop: ICAL.Property): boolean {
  const value = prop.getParameter(f.name.toLowerCase());
  if (f.isNotDefined) return value === undefined;
  if (value === undefined) return false;
  if (!f.textMatch) return true;
  const values = Array.isArray(value) ? value.map(String) : [String(value)];
  // Negation applies to the test as a whole: "no value contains X".
  const hit = values.some((v) => textMatches({ ...f.textMatch!, negate: false }, v));
  return f.textMatch.negate ? !hit : hit;
}

/** The property value as text (iCalendar form for dates, unescaped for TEXT). */
function propertyText(p: ICAL.Property): string {
  return p
    .getValues()
    .map((v) => {
      if (v && typeof v === "object" && "toICALString" in v && typeof v.toICALString === "function") {
        return String(v.toICALString());
      }
      return String(v);
    })
    .join(",");
}

/** RFC 4791 §9.7.5: substring match under the collation, optionally negated. */
export function textMatches(m: TextMatch, text: string): boolean {
  const fold = COLLATIONS[m.collation];
  const hit = fold(text).includes(fold(m.value));
  return m.negate ? !hit : hit;
}

export interface MatchOptions {
  /** The calendar's CALDAV:calendar-timezone (VCALENDAR with one VTIMEZONE), for floating times. */
  timezone?: string;
}

/** Evaluates a parsed calendar-query filter against one stored calendar object. */
export function matchesCalendarFilter(
  icalText: string,
  filter: CompFilter,
  opts: MatchOptions = {},
): boolean {
  let root: Component;
  try {
    root = parseIcal(icalText);
  } catch {
    return false;
  }
  const clock = new Clock(parseTimezoneText(opts.timezone));
  const ev = new Evaluator(root, clock);
  try {
    return ev.matchComp(filter, [root]);
  } catch {
    // Values ical.js cannot decode (stored objects are validated, so this is damage): no match.
    return false;
  }
}
