/**
 * iTIP (RFC 5546) on calendar object resources: who organises a scheduling object and who
 * attends it, the REQUEST, CANCEL and REPLY messages made from it, what an attendee's copy of an
 * organizer's update is, and which differences between two versions matter to scheduling. All of
 * it on ical.js components; nothing here reads or writes the store.
 */
import ICAL from "ical.js";
import { parseIcal, type Component } from "../caldav/ical-instances.js";
import { PRODID } from "../caldav/freebusy.js";
import { wallSeconds } from "../caldav/ical-time.js";

/** The scheduled components (RFC 6638 §3.1: VEVENT and VTODO carry ORGANIZER and ATTENDEE). */
const SCHEDULED = ["vevent", "vtodo"];

/** A calendar user address as compared: `mailto:` lower-cased, URLs as given. */
export function normalAddress(value: string): string {
  const v = value.trim();
  return /^mailto:/i.test(v) ? `mailto:${v.slice(7).trim().toLowerCase()}` : v;
}

export interface Attendee {
  address: string;
  partstat: string;
  /** SCHEDULE-AGENT (RFC 6638 §7.1): SERVER unless the client said otherwise. */
  agent: string;
  /** SCHEDULE-FORCE-SEND (§7.3). */
  forceSend?: string;
}

export interface SchedulingView {
  root: Component;
  uid: string;
  organizer?: string;
  organizerAgent: string;
  /** Every attendee of any component, by address (the first component's PARTSTAT). */
  attendees: Map<string, Attendee>;
  /** More than one ORGANIZER value among the components (§3.2.4.1 same-organizer-in-all-components). */
  mixedOrganizers: boolean;
}

export const components = (root: Component) =>
  root.getAllSubcomponents().filter((c) => SCHEDULED.includes(c.name));

const param = (p: ICAL.Property, name: string) => {
  const v = p.getParameter(name);
  return (Array.isArray(v) ? v[0] : v)?.toString().toUpperCase();
};

export function schedulingView(text: string): SchedulingView {
  const root = parseIcal(text);
  const comps = components(root);
  const organizers = new Set<string>();
  let organizerAgent = "SERVER";
  const attendees = new Map<string, Attendee>();
  for (const c of comps) {
    const org = c.getFirstProperty("organizer");
    if (org) {
      organizers.add(normalAddress(String(org.getFirstValue())));
      organizerAgent = param(org, "schedule-agent") ?? organizerAgent;
    }
    for (const a of c.getAllProperties("attendee")) {
      const address = normalAddress(String(a.getFirstValue()));
      if (attendees.has(address)) continue;
      attendees.set(address, {
        address,
        partstat: param(a, "partstat") ?? "NEEDS-ACTION",
        agent: param(a, "schedule-agent") ?? "SERVER",
        forceSend: param(a, "schedule-force-send"),
      });
    }
  }
  const uid = String(comps[0]?.getFirstPropertyValue("uid") ?? "");
  return {
    root,
    uid,
    organizer: [...organizers][0],
    organizerAgent,
    attendees,
    mixedOrganizers: organizers.size > 1,
  };
}

/** Properties whose change an attendee must hear of; the rest (alarms, DTSTAMP, X- properties) are each copy's own. */
const SIGNIFICANT = [
  "dtstart",
  "end",
  "due",
  "rrule",
  "rdate",
  "exdate",
  "recurrence-id",
  "summary",
  "location",
  "description",
  "status",
  "organizer",
];
/** Of those, the ones that move the meeting: an attendee must answer again (PARTSTAT back to NEEDS-ACTION). */
const TIMING = ["dtstart", "end", "due", "rrule", "rdate", "exdate"];
/** What an attendee may not change: the organizer's (EXDATE they may add: that declines those instances). */
const ORGANIZERS = SIGNIFICANT.filter((p) => p !== "exdate");

/** A time as compared: its zone and wall clock, so one instant written the same way compares equal. */
const timeKey = (t: ICAL.Time) =>
  `${t.isDate ? "D" : (t.zone?.tzid ?? (t as unknown as { timezone?: string }).timezone ?? "")}|${wallSeconds(t)}`;

function valueKey(v: unknown): string {
  if (v instanceof ICAL.Time) return timeKey(v);
  if (v instanceof ICAL.Period) return `${timeKey(v.start)}/${v.end ? timeKey(v.end) : String(v.duration)}`;
  if (v instanceof ICAL.Recur) return v.toString();
  return JSON.stringify(v);
}

/** The values of a property as compared; `end` is DTEND, or DTSTART plus DURATION (the same end written either way). */
function values(c: Component, prop: string): string[] {
  if (prop === "end") {
    const start = c.getFirstPropertyValue("dtstart");
    const end = c.getFirstPropertyValue("dtend");
    const duration = c.getFirstPropertyValue("duration");
    if (end instanceof ICAL.Time) return [timeKey(end)];
    if (start instanceof ICAL.Time && duration instanceof ICAL.Duration) {
      const t = start.clone();
      t.addDuration(duration);
      return [timeKey(t)];
    }
    return [];
  }
  return c.getAllProperties(prop).flatMap((x) => x.getValues().map(valueKey));
}

function fingerprint(root: Component, props: string[], withAttendees: boolean): string {
  return components(root)
    .map((c) => {
      const lines = props.flatMap((p) => values(c, p).map((v) => `${p}:${v}`));
      if (withAttendees) {
        lines.push(...c.getAllProperties("attendee").map((a) => normalAddress(String(a.getFirstValue()))));
      }
      return lines.sort().join("\n");
    })
    .sort()
    .join("\n--\n");
}

/** Whether the organizer's new version differs from the old in what attendees are told. */
export const significantlyChanged = (a: Component, b: Component) =>
  fingerprint(a, SIGNIFICANT, true) !== fingerprint(b, SIGNIFICANT, true);

/**
 * Whether the meeting moved (the answers no longer stand): the series, or an instance both
 * versions have. An override only one has (an attendee's answer to one instance) moves nothing.
 */
export function timingChanged(a: Component, b: Component): boolean {
  const x = byRid(a);
  const y = byRid(b);
  if (x.has("") !== y.has("")) return true;
  for (const [rid, c] of x) {
    const other = y.get(rid);
    if (other && fingerprint(single(c), TIMING, false) !== fingerprint(single(other), TIMING, false))
      return true;
  }
  return false;
}

/** An instance's key: its RECURRENCE-ID as compared ("" for the master). */
export const ridOf = (c: Component) => {
  const v = c.getFirstPropertyValue("recurrence-id");
  return v instanceof ICAL.Time ? timeKey(v) : "";
};
const byRid = (root: Component) => new Map(components(root).map((c) => [ridOf(c), c] as const));
const single = (c: Component) => new ICAL.Component(["vcalendar", [], [c.toJSON()]]);

/** An instance as an EXDATE or RECURRENCE-ID names it: its time and the TZID it was written in. */
export interface Instant {
  time: ICAL.Time;
  tzid?: string;
}

/**
 * What an attendee's PUT changed of the organizer's meeting (§3.2.2.1): undefined when it changed
 * only what an attendee may (their own PARTSTAT and parameters, alarms, TRANSP, X- properties,
 * overrides of single instances, EXDATEs, which decline those instances); else a description.
 * The new EXDATEs come back to be declined.
 */
export function attendeeChanges(
  before: Component,
  after: Component,
): { refused?: string; declined: Instant[] } {
  const a = byRid(before);
  const b = byRid(after);
  const declined: Instant[] = [];
  for (const [rid, comp] of a) {
    const other = b.get(rid);
    if (!other) {
      if (rid === "") return { refused: "the meeting itself was removed", declined };
      continue;
    }
    if (fingerprint(single(comp), ORGANIZERS, true) !== fingerprint(single(other), ORGANIZERS, true))
      return { refused: "a property the organizer owns was changed", declined };
    const had = new Set(values(comp, "exdate"));
    const now = values(other, "exdate");
    if ([...had].some((x) => !now.includes(x))) return { refused: "an EXDATE was removed", declined };
    for (const p of other.getAllProperties("exdate")) {
      const tzid = p.getParameter("tzid");
      for (const t of p.getValues())
        if (t instanceof ICAL.Time && !had.has(timeKey(t)))
          declined.push({ time: t, tzid: tzid?.toString() });
    }
  }
  return { declined };
}

/** An override of one instance of `master` (RECURRENCE-ID and DTSTART `rid`, in zone `tzid`; its length kept). */
export function overrideOf(master: Component, rid: ICAL.Time, tzid?: string): Component {
  const c = clone(master);
  for (const p of ["rrule", "rdate", "exdate", "recurrence-id", "dtstart", "dtend"]) c.removeAllProperties(p);
  for (const s of c.getAllSubcomponents("valarm")) c.removeSubcomponent(s);
  const start = master.getFirstPropertyValue("dtstart");
  const end = master.getFirstPropertyValue("dtend");
  const at = (name: string, t: ICAL.Time) => {
    const p = new ICAL.Property(name, c);
    p.setValue(t);
    if (tzid) p.setParameter("tzid", tzid);
    c.addProperty(p);
  };
  at("recurrence-id", rid);
  at("dtstart", rid.clone());
  if (start instanceof ICAL.Time && end instanceof ICAL.Time) {
    const e = rid.clone();
    e.addDuration(end.subtractDate(start));
    at("dtend", e);
  }
  return c;
}

/** Each component's PARTSTAT of `address`, by RECURRENCE-ID ("" for the master). */
export function partstats(root: Component, address: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of components(root)) {
    const a = attendeeProp(c, address);
    if (a) out.set(ridOf(c), param(a, "partstat") ?? "NEEDS-ACTION");
  }
  return out;
}

function attendeeProp(c: Component, address: string): ICAL.Property | undefined {
  return c.getAllProperties("attendee").find((a) => normalAddress(String(a.getFirstValue())) === address);
}

/** Set SCHEDULE-STATUS on each attendee (by address) and drop SCHEDULE-FORCE-SEND (§7.3: a one-time request). */
export function markAttendees(root: Component, statuses: Map<string, string>): void {
  for (const c of components(root)) {
    for (const a of c.getAllProperties("attendee")) {
      a.removeParameter("schedule-force-send");
      const s = statuses.get(normalAddress(String(a.getFirstValue())));
      if (s) a.setParameter("schedule-status", s);
    }
  }
}

/** The meeting moved: the answers of `attendees` no longer stand (NEEDS-ACTION, RSVP=TRUE), in the organizer's copy as in theirs. */
export function resetAnswers(root: Component, attendees: Set<string>): void {
  for (const c of components(root)) {
    for (const a of c.getAllProperties("attendee")) {
      if (!attendees.has(normalAddress(String(a.getFirstValue())))) continue;
      a.setParameter("partstat", "NEEDS-ACTION");
      a.setParameter("rsvp", "TRUE");
    }
  }
}

/** Set SCHEDULE-STATUS on the ORGANIZER (an attendee's reply, §7.2). */
export function markOrganizer(root: Component, status: string): void {
  for (const c of components(root)) {
    const o = c.getFirstProperty("organizer");
    if (o) {
      o.removeParameter("schedule-force-send");
      o.setParameter("schedule-status", status);
    }
  }
}

/** The highest SEQUENCE of the components (RFC 5545 §3.8.7.4): a later revision has one at least as high. */
export function sequenceOf(root: Component): number {
  return Math.max(0, ...components(root).map((c) => Number(c.getFirstPropertyValue("sequence") ?? 0) || 0));
}

/** Whether the meeting is cancelled (STATUS:CANCELLED on the master, or on every component). */
export const isCancelled = (root: Component) =>
  components(root).every(
    (c) => String(c.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED",
  );

const clone = (root: Component) => new ICAL.Component(JSON.parse(JSON.stringify(root.toJSON())));

function message(root: Component, method: string, comps: Component[]): string {
  const cal = new ICAL.Component(["vcalendar", [], []]);
  cal.addPropertyWithValue("version", "2.0");
  cal.addPropertyWithValue("prodid", PRODID);
  cal.addPropertyWithValue("method", method);
  for (const tz of root.getAllSubcomponents("vtimezone")) cal.addSubcomponent(clone(tz));
  for (const c of comps) cal.addSubcomponent(c);
  return cal.toString() + "\r\n";
}

/**
 * What a recipient gets of a component: no scheduling parameters (§7: the server's business) and
 * no alarms (each calendar user's own: an organizer's alarm is not put on someone else's device).
 */
function forRecipient(c: Component) {
  for (const p of [...c.getAllProperties("attendee"), ...c.getAllProperties("organizer")]) {
    for (const n of ["schedule-status", "schedule-force-send", "schedule-agent"]) p.removeParameter(n);
  }
  for (const s of c.getAllSubcomponents("valarm")) c.removeSubcomponent(s);
}

const stamp = (c: Component) => {
  c.updatePropertyWithValue("dtstamp", ICAL.Time.fromJSDate(new Date(), true));
};

/** The REQUEST an organizer's object sends (every component, as the organizer stored it). */
export function requestMessage(root: Component): string {
  const comps = components(clone(root));
  for (const c of comps) {
    forRecipient(c);
    stamp(c);
  }
  return message(root, "REQUEST", comps);
}

/** The CANCEL of a whole meeting. */
export function cancelMessage(root: Component): string {
  const comps = components(clone(root)).filter((c) => !c.getFirstPropertyValue("recurrence-id"));
  for (const c of comps) {
    forRecipient(c);
    c.updatePropertyWithValue("status", "CANCELLED");
    const seq = Number(c.getFirstPropertyValue("sequence") ?? 0);
    c.updatePropertyWithValue("sequence", seq + 1);
    stamp(c);
  }
  return message(root, "CANCEL", comps);
}

/**
 * The REPLY of `attendee` (RFC 5546 §3.2.3): each component with only their ATTENDEE line, all
 * DECLINED with `declineAll` (they deleted their copy), and a DECLINED override for each instance
 * in `declined` (the EXDATEs they added).
 */
export function replyMessage(
  root: Component,
  attendee: string,
  opts: { declineAll?: boolean; declined?: Instant[] } = {},
): string {
  const comps = components(clone(root));
  const master = comps.find((c) => !c.hasProperty("recurrence-id"));
  for (const d of opts.declined ?? []) {
    if (!master) break;
    const o = overrideOf(master, d.time, d.tzid);
    attendeeProp(o, attendee)?.setParameter("partstat", "DECLINED");
    comps.push(o);
  }
  for (const c of comps) {
    const mine = attendeeProp(c, attendee);
    for (const a of c.getAllProperties("attendee")) if (a !== mine) c.removeProperty(a);
    if (mine && opts.declineAll) mine.setParameter("partstat", "DECLINED");
    mine?.removeParameter("rsvp");
    forRecipient(c);
    stamp(c);
  }
  return message(root, "REPLY", comps);
}

/** The text of a message's METHOD and its components, as a delivery reads it. */
export interface Message {
  method: string;
  root: Component;
  uid: string;
  organizer?: string;
}

export function readMessage(text: string): Message {
  const root = parseIcal(text);
  const method = String(root.getFirstPropertyValue("method") ?? "").toUpperCase();
  const comps = components(root);
  const org = comps[0]?.getFirstProperty("organizer");
  return {
    method,
    root,
    uid: String(comps[0]?.getFirstPropertyValue("uid") ?? ""),
    organizer: org ? normalAddress(String(org.getFirstValue())) : undefined,
  };
}

/**
 * The attendee's copy of an organizer's REQUEST: the organizer's components (without their
 * alarms), with the attendee's own answers (PARTSTAT), alarms and single-instance overrides kept
 * from the copy they had, unless the meeting moved; a new attendee answers NEEDS-ACTION.
 */
export function attendeeCopy(request: Component, previous: Component | undefined, attendee: string): string {
  const cal = new ICAL.Component(["vcalendar", [], []]);
  cal.addPropertyWithValue("version", "2.0");
  cal.addPropertyWithValue("prodid", PRODID);
  for (const tz of request.getAllSubcomponents("vtimezone")) cal.addSubcomponent(clone(tz));
  const moved = previous ? timingChanged(previous, request) : true;
  const before = previous ? partstats(previous, attendee) : new Map<string, string>();
  const had = previous ? byRid(previous) : new Map<string, Component>();
  const theirs = byRid(request);
  for (const c of components(clone(request))) {
    const rid = ridOf(c);
    forRecipient(c);
    const mine = attendeeProp(c, attendee);
    if (mine) {
      const kept = moved ? undefined : (before.get(rid) ?? before.get(""));
      mine.setParameter("partstat", kept ?? "NEEDS-ACTION");
    }
    for (const a of had.get(rid)?.getAllSubcomponents("valarm") ?? []) c.addSubcomponent(clone(a));
    cal.addSubcomponent(c);
  }
  // Instances the attendee answered on their own (an override the organizer has not), while the
  // meeting stands where it was and the instance still exists.
  if (!moved) {
    const master = theirs.get("");
    const excluded = new Set(master ? values(master, "exdate") : []);
    for (const [rid, c] of had)
      if (rid && !theirs.has(rid) && !excluded.has(rid)) cal.addSubcomponent(clone(c));
  }
  return cal.toString() + "\r\n";
}

/** The attendee's copy of a CANCEL: what they had, marked cancelled. */
export function cancelledCopy(previous: Component): string {
  const copy = clone(previous);
  for (const c of components(copy)) c.updatePropertyWithValue("status", "CANCELLED");
  return copy.toString() + "\r\n";
}

/**
 * The organizer's copy with a REPLY applied: the replying attendee's PARTSTAT per instance (an
 * instance answered on its own gets an override of its own), and SCHEDULE-STATUS 2.0
 * (delivered). Undefined when the reply names no attendee of the meeting.
 */
export function applyReply(organizerCopy: Component, reply: Component, attendee: string): string | undefined {
  const copy = clone(organizerCopy);
  const mine = byRid(copy);
  const master = mine.get("");
  if (!master || !attendeeProp(master, attendee)) {
    if (![...mine.values()].some((c) => attendeeProp(c, attendee))) return undefined;
  }
  const answers = byRid(reply);
  const set = (c: Component, answer: string) => {
    const a = attendeeProp(c, attendee);
    if (!a) return;
    a.setParameter("partstat", answer);
    a.removeParameter("rsvp");
    a.setParameter("schedule-status", "2.0");
  };
  const answerOf = (c: Component) => {
    const a = attendeeProp(c, attendee);
    return a ? (param(a, "partstat") ?? "NEEDS-ACTION") : undefined;
  };
  const whole = answers.get("");
  const wholeAnswer = whole ? answerOf(whole) : undefined;
  // The series' answer goes to every instance that has no answer of its own in the reply.
  if (wholeAnswer) for (const [rid, c] of mine) if (rid === "" || !answers.has(rid)) set(c, wholeAnswer);
  for (const [rid, r] of answers) {
    const answer = answerOf(r);
    if (!rid || !answer) continue;
    let c = mine.get(rid);
    if (!c && master) {
      const p = r.getFirstProperty("recurrence-id")!;
      c = overrideOf(master, p.getFirstValue() as ICAL.Time, p.getParameter("tzid")?.toString());
      copy.addSubcomponent(c);
    }
    if (c) set(c, answer);
  }
  return copy.toString() + "\r\n";
}
