/**
 * Implicit scheduling (RFC 6638 §3): a PUT or DELETE of a calendar object resource that has an
 * ORGANIZER is a scheduling operation. The organizer's PUT sends a REQUEST to each attendee (and
 * a CANCEL to those it removed), their DELETE a CANCEL to all; an attendee's PUT that changes their
 * PARTSTAT sends a REPLY, their DELETE a DECLINED one. The plan is made before the write commits
 * (preconditions refuse it with 403; SCHEDULE-STATUS goes into the stored body; the user's UID
 * reservation joins the write's transaction), and the messages go out after it committed, so a
 * refused or lost write sends nothing and a failed delivery never undoes the write.
 */
import { Forbidden } from "../errors.js";
import { getObject, putObject } from "../store/objects.js";
import {
  countMail,
  getHolder,
  recordInvitation,
  releaseGuard,
  reserveGuard,
  type Holder,
} from "../store/scheduling.js";
import { ConcurrentModification, EtagMismatch } from "../store/errors.js";
import type { UserRecord } from "../store/users.js";
import type { DavContext } from "../webdav/context.js";
import { objectHref } from "../webdav/paths.js";
import { logged, type PlannedWrite, type WritePlan } from "../webdav/registry.js";
import type { Guard } from "../store/tx.js";
import { cal } from "../xml/names.js";
import { Addresses, type Recipient } from "./addresses.js";
import {
  deliverCancel,
  deliverReply,
  deliverRequest,
  heldCopy,
  isSchedulingBox,
  newScheduleTag,
  OUTBOX,
} from "./deliver.js";
import { describe, composeMail, senderFor } from "./imip.js";
import {
  attendeeChanges,
  cancelMessage,
  isCancelled,
  markAttendees,
  markOrganizer,
  partstats,
  readMessage,
  replyMessage,
  requestMessage,
  schedulingView,
  resetAnswers,
  significantlyChanged,
  timingChanged,
  components,
  normalAddress,
  ridOf,
  type Attendee,
  type SchedulingView,
} from "./itip.js";

const refuse = (message: string, precondition: string, hrefs?: string[]) =>
  new Forbidden(message, { name: cal(precondition), hrefs });

/**
 * Attendees one scheduling object may have (CALDAV:max-attendees-per-instance, RFC 4791 §5.2.9):
 * each one here costs a delivery while the PUT is answered, so the bound keeps that within a
 * function's timeout.
 */
export const MAX_ATTENDEES = 100;

/** Deliveries made at once after a write (each recipient's are independent of the others'). */
const PARALLEL_DELIVERIES = 8;

/** A URI (RFC 3986 scheme): what ORGANIZER and ATTENDEE values are (RFC 5545 §3.3.3). */
const CAL_ADDRESS = /^[a-z][a-z0-9+.-]*:\S/i;

export async function planSchedulingWrite(w: PlannedWrite): Promise<WritePlan | undefined> {
  if (w.col.kind !== "calendar") return undefined;
  // A sharee writes into the owner's calendar as it is: they schedule from their own calendars.
  if (w.col.view) return undefined;
  if (isSchedulingBox(w.col)) {
    // Members of an inbox are the server's deliveries (clients may delete them); an outbox has none.
    if (w.op === "put") {
      throw refuse(
        w.col.name === OUTBOX
          ? "The scheduling outbox holds no resources; POST scheduling requests to it."
          : "Only the server delivers into a scheduling inbox.",
        "valid-scheduling-message",
      );
    }
    return undefined;
  }
  const store = w.ctx.store;
  const who = new Addresses(store);
  // The stored version matters only when it was a scheduling object (it has a schedule tag).
  const prevObj = w.existing?.scheduleTag ? await getObject(store, w.col.id, w.name, true) : undefined;
  const prev = prevObj?.body ? view(prevObj.body.toString("utf8")) : undefined;
  if (w.op === "delete") return prev?.organizer ? planDelete(w, who, prev) : undefined;
  const text = w.body!.toString("utf8");
  if (!/^ORGANIZER[;:]/im.test(text) && !prev?.organizer) return undefined;
  const next = view(text);
  if (next.mixedOrganizers) {
    throw refuse(
      "Every component of a scheduling object must have the same ORGANIZER (RFC 6638 §3.2.4.1).",
      "same-organizer-in-all-components",
    );
  }
  if (!next.organizer) {
    // The organizer took the meeting off scheduling: the attendees hear it is cancelled.
    return prev && (await who.isMine(w.user.name, prev.organizer!))
      ? organizerPlan(w, who, prev, next, await reserve(w, next.uid))
      : undefined;
  }
  if (!CAL_ADDRESS.test(next.organizer)) {
    throw refuse(
      `ORGANIZER ${next.organizer.slice(0, 80)} is not a calendar user address (a mailto: or URL).`,
      "valid-organizer",
    );
  }
  const mine = await who.isMine(w.user.name, next.organizer);
  const me = mine ? undefined : await who.mineOf(w.user.name, next.attendees.keys());
  if (prev?.organizer && prev.organizer !== next.organizer) {
    throw refuse(
      `The ORGANIZER of a scheduled meeting cannot change (it was ${prev.organizer}).`,
      // Whose meeting it was decides which rule the change breaks.
      (await who.isMine(w.user.name, prev.organizer))
        ? "allowed-organizer-scheduling-object-change"
        : "allowed-attendee-scheduling-object-change",
    );
  }
  if (!mine && !me) return undefined;
  const guard = await reserve(w, next.uid);
  return mine
    ? organizerPlan(w, who, prev, next, guard)
    : attendeePlan(w, who, me!, prev, next, guard, prevObj?.scheduleTag);
}

function view(text: string): SchedulingView {
  try {
    return schedulingView(text);
  } catch {
    throw refuse("The calendar object could not be read as iCalendar.", "valid-scheduling-message");
  }
}

/**
 * The user's reservation of the UID for this member (§3.2.4.3: one scheduling object resource
 * per UID among all the user's calendars). A reservation whose object is gone is taken over.
 */
async function reserve(w: PlannedWrite, uid: string): Promise<Guard> {
  const store = w.ctx.store;
  const here: Holder = { colId: w.col.id, col: w.col.name, name: w.name };
  const { holder, obj } = await heldCopy(store, w.col.owner, uid, false);
  let stale: Holder | undefined;
  const taken = (other: Holder) =>
    refuse(
      `UID ${uid} is already scheduled in another of your calendars (${objectHref("calendar", w.col.owner, other.col, other.name)}).`,
      "unique-scheduling-object-resource",
      [objectHref("calendar", w.col.owner, other.col, other.name)],
    );
  if (holder && (holder.colId !== here.colId || holder.name !== here.name)) {
    if (obj) throw taken(holder);
    stale = holder;
  }
  return reserveGuard(
    w.col.owner,
    uid,
    here,
    (other) => (other ? taken(other) : new ConcurrentModification("the reservation moved")),
    stale,
  );
}

type Send = { to: Recipient; method: "REQUEST" | "CANCEL" };

/** SCHEDULE-STATUS for a recipient (RFC 6638 §3.2.9): delivered, sent by e-mail, not deliverable, unknown. */
function statusFor(r: Recipient, mailOk: boolean): string {
  if (r.type === "user") return "1.2";
  if (r.type === "email") return mailOk ? "1.1" : "5.1";
  return "3.7";
}

async function organizerPlan(
  w: PlannedWrite,
  who: Addresses,
  prev: SchedulingView | undefined,
  next: SchedulingView,
  guard: Guard,
): Promise<WritePlan> {
  if (next.organizerAgent !== "SERVER") return { guards: [guard], scheduleTag: newScheduleTag() };
  const others: Attendee[] = [];
  for (const a of next.attendees.values()) if (!(await who.isMine(w.user.name, a.address))) others.push(a);
  if (others.length > MAX_ATTENDEES) {
    throw refuse(
      `A scheduled meeting may have at most ${MAX_ATTENDEES} attendees besides the organizer; this one has ${others.length}.`,
      "max-attendees-per-instance",
    );
  }
  const changed = !prev || significantlyChanged(prev.root, next.root);
  const moved = Boolean(prev) && timingChanged(prev!.root, next.root);
  const sends: Send[] = [];
  // Without an ORGANIZER the meeting is no longer scheduled: its attendees only hear it is cancelled.
  for (const a of next.organizer ? others : []) {
    if (a.agent !== "SERVER") continue;
    const added = !prev?.attendees.has(a.address);
    if (!changed && !added && a.forceSend !== "REQUEST") continue;
    sends.push({ to: await who.resolve(a.address), method: "REQUEST" });
  }
  for (const a of prev?.attendees.values() ?? []) {
    if (a.agent !== "SERVER" || (await who.isMine(w.user.name, a.address))) continue;
    if (!next.organizer || !next.attendees.has(a.address))
      sends.push({ to: await who.resolve(a.address), method: "CANCEL" });
  }
  const mailOk = await allowMail(w.ctx, w.user.name, sends);
  const statuses = new Map<string, string>();
  for (const s of sends) if (s.method === "REQUEST") statuses.set(s.to.address, statusFor(s.to, mailOk));
  // The answers stand unless the meeting moved: a client that stored the organizer's copy as it
  // read it before a reply came in does not undo the reply (RFC 6638 §3.2.10's merge).
  let rewrite = statuses.size > 0 || others.some((a) => a.forceSend);
  if (moved) {
    resetAnswers(next.root, new Set(others.filter((a) => a.agent === "SERVER").map((a) => a.address)));
    rewrite = true;
  } else if (prev && keepAnswers(prev, next, others)) rewrite = true;
  if (rewrite) markAttendees(next.root, statuses);
  const body = rewrite ? Buffer.from(next.root.toString() + "\r\n") : undefined;
  const scheduleTag = changed || !w.existing?.scheduleTag ? newScheduleTag() : w.existing.scheduleTag;
  return {
    body,
    scheduleTag,
    guards: [guard],
    headers: { "schedule-tag": scheduleTag },
    afterCommit: sends.length
      ? async (etag) => {
          const failed = await sendAll(w.ctx, w.user, next, prev, sends, mailOk);
          if (failed.size && etag) await recordFailures(w, etag, scheduleTag, failed);
        }
      : undefined,
  };
}

/**
 * Carry the attendees' answers (PARTSTAT, SCHEDULE-STATUS) from the stored copy into the
 * organizer's new version where it still has an older answer: true when anything changed.
 */
function keepAnswers(prev: SchedulingView, next: SchedulingView, others: Attendee[]): boolean {
  let changed = false;
  for (const a of others) {
    const stored = partstats(prev.root, a.address);
    for (const c of components(next.root)) {
      const rid = ridOf(c);
      const answer = stored.get(rid) ?? stored.get("");
      const p = c
        .getAllProperties("attendee")
        .find((x) => normalAddress(String(x.getFirstValue())) === a.address);
      if (!p || !answer || answer === "NEEDS-ACTION") continue;
      if (String(p.getParameter("partstat") ?? "NEEDS-ACTION").toUpperCase() !== "NEEDS-ACTION") continue;
      p.setParameter("partstat", answer);
      p.removeParameter("rsvp");
      changed = true;
    }
  }
  return changed;
}

/** Count the e-mails a write would send against the user's hourly allowance; false: none may go. */
async function allowMail(ctx: DavContext, user: string, sends: Send[]): Promise<boolean> {
  const mail = ctx.config.mail;
  const n = sends.filter((s) => s.to.type === "email").length;
  if (!mail || !senderFor(mail)) return false;
  return n === 0 || countMail(ctx.store, user, n, mail.perHour);
}

async function sendAll(
  ctx: DavContext,
  user: UserRecord,
  next: SchedulingView,
  prev: SchedulingView | undefined,
  sends: Send[],
  mailOk: boolean,
): Promise<Map<string, string>> {
  const request = requestMessage(next.root);
  const cancel = cancelMessage((prev ?? next).root);
  /** The REQUESTs that did not arrive, with the status that says so. */
  const failed = new Map<string, string>();
  const one = async (s: Send) => {
    const text = s.method === "REQUEST" ? request : cancel;
    let status: string | undefined = "5.1";
    await logged(`delivering a ${s.method} failed`, async () => {
      if (s.to.type === "user") {
        const outcome =
          s.method === "REQUEST"
            ? await deliverRequest(
                ctx.store,
                ctx.config,
                { user: s.to.name, address: s.to.address },
                next.uid,
                next.root,
                text,
              )
            : await deliverCancel(ctx.store, ctx.config, { user: s.to.name }, next.uid, text);
        // 5.3: the user has no calendar to take it.
        status = outcome === "delivered" ? undefined : outcome === "no-calendar" ? "5.3" : "5.1";
      } else if (s.to.type === "email" && mailOk) {
        await sendMail(ctx, user, s.to.email, text);
        if (s.method === "REQUEST") await recordInvitation(ctx.store, next.uid, s.to.address, user.name);
        status = undefined;
      } else status = undefined;
    });
    if (status && s.method === "REQUEST") failed.set(s.to.address, status);
  };
  // A few at a time: each is a couple of DynamoDB writes or an SMTP exchange, and the PUT waits.
  for (let i = 0; i < sends.length; i += PARALLEL_DELIVERIES) {
    await Promise.all(sends.slice(i, i + PARALLEL_DELIVERIES).map(one));
  }
  return failed;
}

/**
 * What did not arrive goes into the organizer's copy as its SCHEDULE-STATUS (RFC 6638 §3.2.9),
 * if the copy is still the one written: a later write of the organizer's has its own statuses.
 */
async function recordFailures(
  w: PlannedWrite,
  etag: string,
  scheduleTag: string,
  failed: Map<string, string>,
) {
  const store = w.ctx.store;
  const obj = await getObject(store, w.col.id, w.name, true);
  if (!obj?.body || obj.etag !== etag) return;
  const root = view(obj.body.toString("utf8")).root;
  markAttendees(root, failed);
  const body = Buffer.from(root.toString() + "\r\n");
  const member = { ...obj, body, scheduleTag };
  try {
    await putObject(store, { kind: "calendar", owner: w.col.owner, name: w.col.name }, member, {
      ifMatch: [etag],
    });
  } catch (err) {
    if (!(err instanceof EtagMismatch)) throw err;
  }
}

/** One iMIP message to an address outside (RFC 6047), From the server with Reply-To the user. */
export async function sendMail(ctx: DavContext, user: UserRecord, to: string, ics: string): Promise<void> {
  const mail = ctx.config.mail!;
  const msg = readMessage(ics);
  const whoSends = user.email ?? user.name;
  const { subject, text } = describe(msg, whoSends);
  const raw = await composeMail(mail.from, {
    to,
    replyTo: user.email,
    subject,
    text,
    ics,
    method: msg.method,
  });
  await senderFor(mail)!(raw, { from: mail.from, to });
}

async function attendeePlan(
  w: PlannedWrite,
  who: Addresses,
  me: string,
  prev: SchedulingView | undefined,
  next: SchedulingView,
  guard: Guard,
  tag: string | undefined,
): Promise<WritePlan> {
  const scheduleTag = tag ?? newScheduleTag();
  const plan: WritePlan = { guards: [guard], scheduleTag, headers: { "schedule-tag": scheduleTag } };
  // A copy the attendee stores first (their client accepted an e-mailed invitation) sends nothing.
  if (!prev) return plan;
  const { refused, declined } = attendeeChanges(prev.root, next.root);
  if (refused) {
    throw refuse(
      `An attendee may change only their own participation, alarms and private properties of a scheduled meeting (RFC 6638 §3.2.2.1): ${refused}.`,
      "allowed-attendee-scheduling-object-change",
    );
  }
  const before = partstats(prev.root, me);
  const after = partstats(next.root, me);
  const answered = [...after].some(([rid, p]) => before.get(rid) !== p) || declined.length > 0;
  const forced = next.root
    .getAllSubcomponents()
    .some((c) => c.getFirstProperty("organizer")?.getParameter("schedule-force-send") === "REPLY");
  if ((!answered && !forced) || next.organizerAgent !== "SERVER") return plan;
  const to = await who.resolve(next.organizer!);
  const mailOk = await allowMail(w.ctx, w.user.name, [{ to, method: "REQUEST" }]);
  markOrganizer(next.root, statusFor(to, mailOk));
  const reply = replyMessage(next.root, me, { declined });
  return {
    ...plan,
    body: Buffer.from(next.root.toString() + "\r\n"),
    afterCommit: () => sendReply(w.ctx, w.user, to, me, next.uid, reply, mailOk),
  };
}

async function sendReply(
  ctx: DavContext,
  user: UserRecord,
  to: Recipient,
  from: string,
  uid: string,
  reply: string,
  mailOk: boolean,
): Promise<void> {
  if (to.type === "user") {
    const outcome = await deliverReply(
      ctx.store,
      ctx.config,
      { user: to.name },
      from,
      uid,
      readMessage(reply).root,
      reply,
    );
    if (outcome !== "delivered") throw new Error(`the reply to ${uid} could not be applied (${outcome})`);
  } else if (to.type === "email" && mailOk) await sendMail(ctx, user, to.email, reply);
}

async function planDelete(
  w: PlannedWrite,
  who: Addresses,
  prev: SchedulingView,
): Promise<WritePlan | undefined> {
  const store = w.ctx.store;
  const holder = await getHolder(store, w.col.owner, prev.uid);
  const here: Holder = { colId: w.col.id, col: w.col.name, name: w.name };
  const guards =
    holder && holder.colId === here.colId && holder.name === here.name
      ? [releaseGuard(w.col.owner, prev.uid, here, () => new ConcurrentModification("the reservation moved"))]
      : [];
  if (prev.organizerAgent !== "SERVER") return { guards };
  if (await who.isMine(w.user.name, prev.organizer!)) {
    const sends: Send[] = [];
    for (const a of prev.attendees.values()) {
      if (a.agent !== "SERVER" || (await who.isMine(w.user.name, a.address))) continue;
      sends.push({ to: await who.resolve(a.address), method: "CANCEL" });
    }
    const mailOk = await allowMail(w.ctx, w.user.name, sends);
    return {
      guards,
      afterCommit: async () => {
        await sendAll(w.ctx, w.user, prev, prev, sends, mailOk);
      },
    };
  }
  const me = await who.mineOf(w.user.name, prev.attendees.keys());
  if (!me) return { guards };
  // §3.2.2.3: an attendee deleting their copy declines, unless they had already or it was cancelled.
  if (isCancelled(prev.root) || [...partstats(prev.root, me).values()].every((p) => p === "DECLINED"))
    return { guards };
  const to = await who.resolve(prev.organizer!);
  const mailOk = await allowMail(w.ctx, w.user.name, [{ to, method: "REQUEST" }]);
  const reply = replyMessage(prev.root, me, { declineAll: true });
  return { guards, afterCommit: () => sendReply(w.ctx, w.user, to, me, prev.uid, reply, mailOk) };
}
