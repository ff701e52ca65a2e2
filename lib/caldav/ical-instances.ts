/**
 * Parsing and recurrence expansion on top of ical.js: the instances of a component group (a master
 * plus its RECURRENCE-ID overrides, or a set of master-less overrides), with RRULE, RDATE (including
 * PERIOD values), EXDATE, overrides and RANGE=THISANDFUTURE applied. Expansion is always bounded.
 */
import ICAL from "ical.js";
import type { Clock } from "./ical-time.js";
import { RecurrenceTimeout, withinDeadline } from "./recur-guard.js";

export type Component = ICAL.Component;
export type Time = ICAL.Time;

/** The recurring component types (those whose instances are indexed and filtered). */
export const INSTANCE_COMPONENTS = ["vevent", "vtodo", "vjournal", "vfreebusy", "vavailability"];

/** Parses iCalendar text into a root component (throws on malformed input). */
export function parseIcal(text: string): Component {
  const jcal = ICAL.parse(text) as unknown[];
  if (Array.isArray(jcal[0])) throw new Error("more than one top-level component");
  return new ICAL.Component(jcal);
}

/** A master (possibly absent) and its overrides, sharing one UID. */
export interface ComponentGroup {
  uid: string;
  type: string;
  master?: Component;
  overrides: Component[];
}

/** Groups the components of the given types by UID (components without UID each form a group). */
export function groupComponents(root: Component, types: string[] = INSTANCE_COMPONENTS): ComponentGroup[] {
  const groups = new Map<string, ComponentGroup>();
  let anon = 0;
  for (const comp of root.getAllSubcomponents()) {
    if (!types.includes(comp.name)) continue;
    const uidValue = comp.getFirstPropertyValue("uid");
    const uid = typeof uidValue === "string" ? uidValue : `\u0000anon${anon++}`;
    const key = `${comp.name}\u0000${uid}`;
    let g = groups.get(key);
    if (!g) {
      g = { uid, type: comp.name, overrides: [] };
      groups.set(key, g);
    }
    if (comp.hasProperty("recurrence-id")) g.overrides.push(comp);
    else if (!g.master) g.master = comp;
    else g.overrides.push(comp); // a second master: treat it as a standalone instance
  }
  return [...groups.values()];
}

/** One instance of a component: its time properties, already moved to this occurrence. */
export interface Instance {
  /** The component supplying the instance's properties (the master, or an override). */
  comp: Component;
  /** RECURRENCE-ID of the instance; undefined for a non-recurring component. */
  recurrenceId?: Time;
  start?: Time;
  /** Explicit DTEND (VEVENT/VFREEBUSY), moved with the occurrence. */
  dtend?: Time;
  /** DUE (VTODO), moved with the occurrence. */
  due?: Time;
  /** Explicit DURATION (or the length of an RDATE PERIOD). */
  duration?: ICAL.Duration;
  /** True for a master occurrence (properties other than times are the master's). */
  fromMaster: boolean;
}

export function timeProp(comp: Component, name: string): Time | undefined {
  const v = comp.getFirstPropertyValue(name);
  return v instanceof ICAL.Time ? v : undefined;
}

export function durationProp(comp: Component, name = "duration"): ICAL.Duration | undefined {
  const v = comp.getFirstPropertyValue(name);
  return v instanceof ICAL.Duration ? v : undefined;
}

/** The time properties of a component, read once. */
interface Base {
  comp: Component;
  start?: Time;
  dtend?: Time;
  due?: Time;
  duration?: ICAL.Duration;
  /** Offsets of DTEND and DUE from DTSTART, for moving them along with an occurrence. */
  dtendDelta?: ICAL.Duration;
  dueDelta?: ICAL.Duration;
}

function readBase(comp: Component): Base {
  const start = timeProp(comp, "dtstart");
  const dtend = comp.name === "vtodo" ? undefined : timeProp(comp, "dtend");
  const due = comp.name === "vtodo" ? timeProp(comp, "due") : undefined;
  return {
    comp,
    start,
    dtend,
    due,
    duration: durationProp(comp),
    dtendDelta: start && dtend ? dtend.subtractDate(start) : undefined,
    dueDelta: start && due ? due.subtractDate(start) : undefined,
  };
}

function plus(t: Time, d: ICAL.Duration): Time {
  const r = t.clone();
  r.addDuration(d);
  return r;
}

/** The instance of `base` at occurrence `start` (its DTSTART moved there, DTEND/DUE moved along). */
function instanceAt(base: Base, fromMaster: boolean, start?: Time, rid?: Time): Instance {
  if (!start || !base.start) {
    return {
      comp: base.comp,
      recurrenceId: rid,
      start: base.start,
      dtend: base.dtend,
      due: base.due,
      duration: base.duration,
      fromMaster,
    };
  }
  return {
    comp: base.comp,
    recurrenceId: rid,
    start,
    dtend: base.dtendDelta ? plus(start, base.dtendDelta) : undefined,
    due: base.dueDelta ? plus(start, base.dueDelta) : undefined,
    duration: base.duration,
    fromMaster,
  };
}

export interface ExpandOptions {
  clock: Clock;
  /** Stop once master occurrences start after this instant (UTC seconds). */
  until?: number;
  /** At most this many master occurrences are generated (default 5000). */
  maxOccurrences?: number;
  /** For an unbounded set, generate only the first occurrence (enough for a lower bound). */
  firstOnlyIfUnbounded?: boolean;
  /** Wall-clock budget in milliseconds (default 250): past it the expansion counts as truncated. */
  budgetMs?: number;
}

export interface Expansion {
  instances: Instance[];
  /** True when expansion stopped early (the cap, not `until` or the end of the rule, ended it). */
  truncated: boolean;
  /** True when the master has an RRULE without COUNT or UNTIL. */
  unbounded: boolean;
}

const OUT_OF_TIME = Symbol("out of time");

/** Expands a component group into instances (overrides first, then master occurrences in order). */
export function expandGroup(group: ComponentGroup, opts: ExpandOptions): Expansion {
  const { clock } = opts;
  let max = opts.maxOccurrences ?? 5000;
  const result: Expansion = { instances: [], truncated: false, unbounded: false };
  const overridden = new Set<number>();
  const ranges: RangeOverride[] = [];
  for (const ov of group.overrides) {
    const rid = timeProp(ov, "recurrence-id");
    const base = readBase(ov);
    result.instances.push(instanceAt(base, false, base.start, rid));
    if (!rid) continue;
    const ridSec = clock.seconds(rid);
    overridden.add(ridSec);
    const range = ov.getFirstProperty("recurrence-id")?.getParameter("range");
    if (typeof range === "string" && range.toUpperCase() === "THISANDFUTURE") {
      // Later occurrences move by the same amount this one moved (RFC 5545 §3.8.4.4).
      const moved = base.start ? base.start.subtractDate(rid) : undefined;
      ranges.push({ rid: ridSec, base, moved });
    }
  }
  ranges.sort((a, b) => a.rid - b.rid);

  const master = group.master;
  if (!master) return result;
  const dtstart = timeProp(master, "dtstart");
  // RFC 5545 §3.6.2: a VTODO may recur without DTSTART; then its DUE anchors the set (as other
  // servers take it): each occurrence is a DUE, and RECURRENCE-IDs name DUE values.
  const byDue = !dtstart && group.type === "vtodo" ? timeProp(master, "due") : undefined;
  const anchor = dtstart ?? byDue;
  const recurring = master.hasProperty("rrule") || master.hasProperty("rdate");
  const masterBase = readBase(master);
  if (!anchor || !recurring) {
    result.instances.push(instanceAt(masterBase, true));
    return result;
  }
  for (const p of master.getAllProperties("rrule")) {
    const r = p.getFirstValue();
    if (r instanceof ICAL.Recur && !r.isFinite()) result.unbounded = true;
  }
  if (result.unbounded && opts.firstOnlyIfUnbounded) max = 1;
  // RDATE periods carry their own length.
  const periods = new Map<number, ICAL.Duration>();
  for (const p of master.getAllProperties("rdate")) {
    for (const v of p.getValues()) {
      if (v instanceof ICAL.Period) {
        try {
          periods.set(clock.seconds(v.start), v.getDuration());
        } catch {
          // ignore unusable periods
        }
      }
    }
  }

  const deadline = Date.now() + (opts.budgetMs ?? 250);
  // The budget bounds ical.js's own iteration too (lib/caldav/recur-guard.ts): one next() call runs
  // for ever on a rule no date satisfies.
  const within = <T>(step: () => T): T | typeof OUT_OF_TIME => {
    try {
      return withinDeadline(deadline, step);
    } catch (err) {
      if (err instanceof RecurrenceTimeout) return OUT_OF_TIME;
      throw err;
    }
  };
  const expansion = within(() => new ICAL.RecurExpansion({ component: master, dtstart: anchor }));
  let count = 0;
  for (;;) {
    const occ = expansion === OUT_OF_TIME ? OUT_OF_TIME : within(() => expansion.next());
    if (occ === OUT_OF_TIME) {
      result.truncated = true;
      break;
    }
    if (!occ) break;
    if (++count > max || ((count & 255) === 0 && Date.now() > deadline)) {
      result.truncated = true;
      break;
    }
    const sec = clock.seconds(occ);
    // The first occurrence always counts (an open range needs one instance to decide).
    if (opts.until !== undefined && sec > opts.until && count > 1) break;
    if (overridden.has(sec)) continue;
    let inst: Instance;
    const range = findRange(ranges, sec);
    if (byDue) {
      inst = { ...instanceAt(masterBase, true), recurrenceId: occ, due: occ };
    } else if (range) {
      inst = instanceAt(range.base, false, range.moved ? plus(occ, range.moved) : occ, occ);
    } else {
      inst = instanceAt(masterBase, true, occ, occ);
      const period = periods.get(sec);
      if (period) {
        inst.duration = period;
        inst.dtend = undefined;
        inst.due = undefined;
      }
    }
    result.instances.push(inst);
  }
  return result;
}

interface RangeOverride {
  rid: number;
  base: Base;
  moved?: ICAL.Duration;
}

function findRange(ranges: RangeOverride[], sec: number): RangeOverride | undefined {
  let found: RangeOverride | undefined;
  for (const r of ranges) {
    if (r.rid <= sec) found = r;
    else break;
  }
  return found;
}

/** Seconds of an ical.js duration (negative when the duration is). */
export function durationSeconds(d: ICAL.Duration): number {
  return d.toSeconds();
}

/** The instance's end per RFC 4791 §9.9 for events: DTEND, DTSTART+DURATION, or the implied end. */
export function eventEnd(inst: Instance, clock: Clock): number | undefined {
  if (!inst.start) return undefined;
  const s = clock.seconds(inst.start);
  if (inst.dtend) return clock.seconds(inst.dtend);
  if (inst.duration) return s + durationSeconds(inst.duration);
  return inst.start.isDate ? s + 86400 : s;
}

/** Trigger instants (UTC seconds) of one VALARM of an instance, REPEATs included (RFC 5545 §3.8.6.3). */
export function alarmTriggerTimes(alarm: Component, inst: Instance, clock: Clock): number[] {
  const prop = alarm.getFirstProperty("trigger");
  if (!prop) return [];
  const value = prop.getFirstValue();
  let first: number | undefined;
  if (value instanceof ICAL.Time) {
    first = clock.seconds(value);
  } else if (value instanceof ICAL.Duration) {
    const related = String(prop.getParameter("related") ?? "START").toUpperCase();
    let anchor: number | undefined;
    if (related === "END") {
      if (inst.due) anchor = clock.seconds(inst.due);
      else if (inst.start) anchor = eventEnd(inst, clock);
    } else if (inst.start) {
      anchor = clock.seconds(inst.start);
    } else if (inst.due) {
      // A VTODO without DTSTART (as in RFC 4791 Appendix B): the DUE is the only anchor there is.
      anchor = clock.seconds(inst.due);
    }
    if (anchor !== undefined) first = anchor + durationSeconds(value);
  }
  if (first === undefined) return [];
  const out = [first];
  const repeat = Number(alarm.getFirstPropertyValue("repeat") ?? 0);
  const every = durationProp(alarm);
  if (repeat > 0 && every) {
    const step = durationSeconds(every);
    for (let i = 1; i <= Math.min(repeat, 1000); i++) out.push(first + i * step);
  }
  return out;
}

/** Trigger instants of every VALARM of an instance (RFC 4791 §9.9). */
export function alarmTriggers(inst: Instance, clock: Clock): number[] {
  return inst.comp.getAllSubcomponents("valarm").flatMap((a) => alarmTriggerTimes(a, inst, clock));
}

/** How long before its instance's start an alarm can fire (seconds, >= 0), for bounding expansion. */
export function maxAlarmLead(comps: Component[]): number {
  let lead = 0;
  for (const c of comps) {
    for (const a of c.getAllSubcomponents("valarm")) {
      const v = a.getFirstPropertyValue("trigger");
      if (v instanceof ICAL.Duration) lead = Math.max(lead, -durationSeconds(v));
    }
  }
  return lead;
}
