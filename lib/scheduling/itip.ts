/**
 * iTIP (RFC 5546) on calendar object resources: who organises a scheduling object and who
 * attends it, the REQUEST, CANCEL and REPLY messages made from it, what an attendee's copy of an
 * organizer's update is, and which differences between two versions matter to scheduling. All of
 * it on ical.js components; nothing here reads or writes the store.
 */
import ICAL from "ical.js";
import { parseIcal, type Component } from "../caldav/ical-instances.js";
import { PRODID } from "../caldav/freebusy.js";

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
  "dtend",
  "due",
  "duration",
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
const TIMING = ["dtstart", "dtend", "due", "duration", "rrule", "rdate", "exdate"];

function fingerprint(root: Component, props: string[], withAttendees: boolean, skip?: string): string {
  return components(root)
    .map((c) => {
      const lines = props.flatMap((p) =>
        c.getAllProperties(p).map((x) => `${p}:${JSON.stringify(x.getValues())}`),
      );
      if (withAttendees) {
        lines.push(
          ...c
            .getAllProperties("attendee")
            .map((a) => normalAddress(String(a.getFirstValue())))
            .filter((a) => a !== skip)
            .sort(),
        );
      }
      return lines.sort().join("\n");
    })
    .sort()
    .join("\n--\n");
}

/** Whether the organizer's new version differs from the old in what attendees are told. */
export const significantlyChanged = (a: Component, b: Component) =>
  fingerprint(a, SIGNIFICANT, true) !== fingerprint(b, SIGNIFICANT, true);

/** Whether the meeting moved (the attendee's answer no longer stands). */
export const timingChanged = (a: Component, b: Component) =>
  fingerprint(a, TIMING, false) !== fingerprint(b, TIMING, false);

/**
 * Whether an attendee's PUT changed only what an attendee may (§3.2.2.1): their own PARTSTAT and
 * parameters, alarms, TRANSP, their own X- properties; anything the organizer owns must stay.
 */
export function attendeeChangeAllowed(before: Component, after: Component): boolean {
  // An attendee may add overrides of single instances (declining one): compare what both hold.
  const byRid = (root: Component) =>
    new Map(
      components(root).map((c) => [String(c.getFirstPropertyValue("recurrence-id") ?? ""), c] as const),
    );
  const a = byRid(before);
  const b = byRid(after);
  for (const [rid, comp] of a) {
    const other = b.get(rid);
    if (!other) {
      if (rid === "") return false;
      continue;
    }
    const one = new ICAL.Component(["vcalendar", [], [comp.toJSON()]]);
    const two = new ICAL.Component(["vcalendar", [], [other.toJSON()]]);
    if (fingerprint(one, SIGNIFICANT, true) !== fingerprint(two, SIGNIFICANT, true)) return false;
  }
  return true;
}

/** Each component's PARTSTAT of `address`, by RECURRENCE-ID ("" for the master). */
export function partstats(root: Component, address: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of components(root)) {
    const a = attendeeProp(c, address);
    if (a)
      out.set(String(c.getFirstPropertyValue("recurrence-id") ?? ""), param(a, "partstat") ?? "NEEDS-ACTION");
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

/** Scheduling parameters are the server's business, not the recipient's (§7: removed from messages). */
function stripScheduleParams(c: Component) {
  for (const p of [...c.getAllProperties("attendee"), ...c.getAllProperties("organizer")]) {
    for (const n of ["schedule-status", "schedule-force-send", "schedule-agent"]) p.removeParameter(n);
  }
}

const stamp = (c: Component) => {
  c.updatePropertyWithValue("dtstamp", ICAL.Time.now());
};

/** The REQUEST an organizer's object sends (every component, as the organizer stored it). */
export function requestMessage(root: Component): string {
  const comps = components(clone(root));
  for (const c of comps) {
    stripScheduleParams(c);
    stamp(c);
  }
  return message(root, "REQUEST", comps);
}

/** The CANCEL of a whole meeting, or of it for the attendees named. */
export function cancelMessage(root: Component): string {
  const comps = components(clone(root)).filter((c) => !c.getFirstPropertyValue("recurrence-id"));
  for (const c of comps) {
    stripScheduleParams(c);
    c.updatePropertyWithValue("status", "CANCELLED");
    const seq = Number(c.getFirstPropertyValue("sequence") ?? 0);
    c.updatePropertyWithValue("sequence", seq + 1);
    stamp(c);
  }
  return message(root, "CANCEL", comps);
}

/** The REPLY of `attendee`: each component with only their ATTENDEE line (RFC 5546 §3.2.3). */
export function replyMessage(root: Component, attendee: string, declineAll = false): string {
  const comps = components(clone(root));
  for (const c of comps) {
    const mine = attendeeProp(c, attendee);
    for (const a of c.getAllProperties("attendee")) if (a !== mine) c.removeProperty(a);
    if (mine && declineAll) mine.setParameter("partstat", "DECLINED");
    mine?.removeParameter("rsvp");
    for (const p of ["valarm"]) for (const s of c.getAllSubcomponents(p)) c.removeSubcomponent(s);
    stripScheduleParams(c);
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
 * The attendee's copy of an organizer's REQUEST: the organizer's components, with the
 * attendee's own answer (PARTSTAT) and their alarms kept from the copy they had, unless the
 * meeting moved; a new attendee answers NEEDS-ACTION.
 */
export function attendeeCopy(request: Component, previous: Component | undefined, attendee: string): string {
  const cal = new ICAL.Component(["vcalendar", [], []]);
  cal.addPropertyWithValue("version", "2.0");
  cal.addPropertyWithValue("prodid", PRODID);
  for (const tz of request.getAllSubcomponents("vtimezone")) cal.addSubcomponent(clone(tz));
  const moved = previous ? timingChanged(previous, request) : true;
  const before = previous ? partstats(previous, attendee) : new Map<string, string>();
  const alarms = new Map(
    (previous ? components(previous) : []).map(
      (c) =>
        [String(c.getFirstPropertyValue("recurrence-id") ?? ""), c.getAllSubcomponents("valarm")] as const,
    ),
  );
  for (const c of components(clone(request))) {
    const rid = String(c.getFirstPropertyValue("recurrence-id") ?? "");
    const mine = attendeeProp(c, attendee);
    if (mine) {
      const kept = moved ? undefined : (before.get(rid) ?? before.get(""));
      mine.setParameter("partstat", kept ?? "NEEDS-ACTION");
    }
    stripScheduleParams(c);
    for (const a of alarms.get(rid) ?? []) c.addSubcomponent(clone(a));
    cal.addSubcomponent(c);
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
 * The organizer's copy with a REPLY applied: the replying attendee's PARTSTAT per instance, and
 * SCHEDULE-STATUS 2.0 (delivered). Undefined when the reply names no attendee of the meeting.
 */
export function applyReply(organizerCopy: Component, reply: Component, attendee: string): string | undefined {
  const answers = partstats(reply, attendee);
  if (answers.size === 0) return undefined;
  const copy = clone(organizerCopy);
  let found = false;
  for (const c of components(copy)) {
    const rid = String(c.getFirstPropertyValue("recurrence-id") ?? "");
    const a = attendeeProp(c, attendee);
    const answer = answers.get(rid) ?? answers.get("");
    if (!a || !answer) continue;
    found = true;
    a.setParameter("partstat", answer);
    a.removeParameter("rsvp");
    a.setParameter("schedule-status", "2.0");
  }
  return found ? copy.toString() + "\r\n" : undefined;
}
