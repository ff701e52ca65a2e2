/**
 * Delivery inside the deployment (RFC 6638 §4): a scheduling message reaches a user here as a
 * member of their scheduling inbox and as a change to their copy of the meeting (created in their
 * default calendar when they had none). Each is a conditional write through the store, so the
 * change log advances and their clients see it on the next sync; each is idempotent, so a retried
 * request never delivers twice: the inbox member is named by the message's content (a second
 * delivery finds it there), and a copy that already says what the message says is not written.
 */
import { createHash, randomUUID } from "node:crypto";
import { calendars } from "../caldav/collection.js";
import { DEFAULT_COMPONENTS } from "../caldav/constraints.js";
import { parseIcal, type Component } from "../caldav/ical-instances.js";
import { getCollection, listCollections, type CollectionRecord } from "../store/collections.js";
import { ConcurrentModification, EtagMismatch, UidConflict } from "../store/errors.js";
import { getObject, putObject, type ObjectRecord } from "../store/objects.js";
import { getHolder, reserveGuard, type Holder } from "../store/scheduling.js";
import type { Store } from "../store/users.js";
import type { ServerConfig } from "../webdav/context.js";
import { applyReply, attendeeCopy, cancelledCopy, sequenceOf } from "./itip.js";

export const INBOX = "inbox";
export const OUTBOX = "outbox";

/** A user's scheduling inbox or outbox (calendar collections under fixed names in the calendar home). */
export const isSchedulingBox = (col: Pick<CollectionRecord, "kind" | "name">) =>
  col.kind === "calendar" && (col.name === INBOX || col.name === OUTBOX);

/** A new schedule tag (RFC 6638 §3.2.10): opaque, and new whenever the scheduling content changes. */
export const newScheduleTag = () => `"${randomUUID()}"`;

/**
 * The calendar invitations arrive in (CALDAV:schedule-default-calendar-URL): `default` when the
 * user has it, else their oldest calendar that takes events.
 */
export async function defaultCalendar(store: Store, owner: string): Promise<CollectionRecord | undefined> {
  const cols = (await listCollections(store, "calendar", owner))
    .filter((c) => !isSchedulingBox(c) && (c.components ?? DEFAULT_COMPONENTS).includes("VEVENT"))
    .sort((a, b) => a.created.localeCompare(b.created));
  return cols.find((c) => c.name === "default") ?? cols[0];
}

/**
 * The user's copy of the meeting `uid`, with its calendar, as their reservation names it; a
 * reservation whose object is gone (or holds another UID) comes back alone: it is stale.
 */
export async function heldCopy(
  store: Store,
  owner: string,
  uid: string,
  withBody = true,
): Promise<{ holder?: Holder; col?: CollectionRecord; obj?: ObjectRecord }> {
  const holder = await getHolder(store, owner, uid);
  if (!holder) return {};
  const col = await getCollection(store, { kind: "calendar", owner, name: holder.col });
  if (!col || col.id !== holder.colId) return { holder };
  const obj = await getObject(store, col.id, holder.name, withBody);
  return obj && obj.uid === uid && (!withBody || obj.body) ? { holder, col, obj } : { holder };
}

async function copyOf(
  store: Store,
  owner: string,
  uid: string,
): Promise<{ holder?: Holder; col?: CollectionRecord; obj?: ObjectRecord & { body: Buffer } }> {
  const { holder, col, obj } = await heldCopy(store, owner, uid);
  return obj ? { holder, col, obj: { ...obj, body: obj.body! } } : { holder };
}

/** Put the message into the user's inbox, once: false when the inbox is missing. */
export async function deliverToInbox(
  store: Store,
  config: ServerConfig,
  owner: string,
  text: string,
): Promise<boolean> {
  const inbox = await getCollection(store, { kind: "calendar", owner, name: INBOX });
  if (!inbox) return false;
  // The same message delivered again (a retried request) has the same name; its DTSTAMP is not part of it.
  const name = `${createHash("sha256")
    .update(text.replace(/^DTSTAMP:.*\r?\n/gm, ""))
    .digest("base64url")
    .slice(0, 24)}.ics`;
  try {
    // The inbox reserves each message's name as its UID: messages about one meeting share the UID.
    await putObject(
      store,
      { kind: "calendar", owner, name: INBOX },
      {
        name,
        body: Buffer.from(text),
        contentType: "text/calendar; charset=utf-8",
        uid: name,
        comp: "VEVENT",
      },
      { ifNoneMatch: "*" },
      // A full inbox (a flood of invitations) takes no more: the sender's status says 5.1.
      { first: inbox, quota: config.quotaBytes },
    );
  } catch (err) {
    if (!(err instanceof EtagMismatch)) throw err;
  }
  return true;
}

export type Outcome = "delivered" | "no-calendar" | "failed";

/**
 * Write the user's copy `make` returns from the copy they have (undefined: none yet), retrying
 * when the user's own client wrote it meanwhile. `keepTag`: a reply to the organizer changes
 * their copy without changing its schedule tag (§3.2.10: attendees' answers do not).
 */
async function writeCopy(
  store: Store,
  config: ServerConfig,
  owner: string,
  uid: string,
  make: (previous: Component | undefined) => string | undefined,
  opts: { create: boolean; keepTag: boolean },
): Promise<Outcome> {
  for (let attempt = 0; attempt < 6; attempt++) {
    // Replies racing for one organizer's copy: back off a little more each round.
    if (attempt > 0) await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.random() * 20));
    const { holder, col: held, obj } = await copyOf(store, owner, uid);
    if (!obj && !opts.create) return "delivered";
    const col = held ?? (await defaultCalendar(store, owner));
    if (!col) return "no-calendar";
    const text = make(obj ? parseIcal(obj.body.toString("utf8")) : undefined);
    if (text === undefined) return "delivered";
    const body = Buffer.from(text);
    if (obj && obj.body.equals(body)) return "delivered";
    const name = obj?.name ?? `${createHash("sha256").update(uid).digest("hex").slice(0, 32)}.ics`;
    const member = calendars.validateMember(col, body, "text/calendar", config, name);
    const scheduleTag = opts.keepTag && obj?.scheduleTag ? obj.scheduleTag : newScheduleTag();
    const place = { colId: col.id, col: col.name, name };
    try {
      await putObject(
        store,
        { kind: "calendar", owner, name: col.name },
        { ...member, name, scheduleTag },
        obj ? { ifMatch: [obj.etag] } : { ifNoneMatch: "*" },
        {
          first: col,
          guards: [reserveGuard(owner, uid, place, () => new ConcurrentModification("reserved"), holder)],
          quota: config.quotaBytes,
        },
      );
      return "delivered";
    } catch (err) {
      // The user's client (or another delivery) wrote meanwhile: read again and merge into that.
      if (err instanceof EtagMismatch || err instanceof ConcurrentModification || err instanceof UidConflict)
        continue;
      throw err;
    }
  }
  return "failed";
}

/** A REQUEST to an attendee here: into their inbox, and their copy updated or created (PARTSTAT=NEEDS-ACTION). */
export async function deliverRequest(
  store: Store,
  config: ServerConfig,
  to: { user: string; address: string },
  uid: string,
  organizerCopy: Component,
  message: string,
): Promise<Outcome> {
  if (!(await deliverToInbox(store, config, to.user, message))) return "no-calendar";
  const revision = sequenceOf(organizerCopy);
  // A REQUEST older than the copy (a slower delivery of an earlier revision) changes nothing.
  const make = (prev: Component | undefined) =>
    prev && sequenceOf(prev) > revision ? undefined : attendeeCopy(organizerCopy, prev, to.address);
  return writeCopy(store, config, to.user, uid, make, {
    create: true,
    keepTag: false,
  });
}

/** A CANCEL to an attendee here: into their inbox, and their copy marked cancelled. */
export async function deliverCancel(
  store: Store,
  config: ServerConfig,
  to: { user: string },
  uid: string,
  message: string,
): Promise<Outcome> {
  if (!(await deliverToInbox(store, config, to.user, message))) return "no-calendar";
  return writeCopy(store, config, to.user, uid, (prev) => (prev ? cancelledCopy(prev) : undefined), {
    create: false,
    keepTag: false,
  });
}

/** A REPLY to the organizer here: into their inbox, and the attendee's answer applied to their copy. */
export async function deliverReply(
  store: Store,
  config: ServerConfig,
  to: { user: string },
  from: string,
  uid: string,
  reply: Component,
  message: string,
): Promise<Outcome> {
  if (!(await deliverToInbox(store, config, to.user, message))) return "no-calendar";
  return writeCopy(
    store,
    config,
    to.user,
    uid,
    (prev) => (prev ? applyReply(prev, reply, from) : undefined),
    {
      create: false,
      keepTag: true,
    },
  );
}
