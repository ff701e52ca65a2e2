/**
 * Incoming iMIP replies (RFC 6047 §2.3): a raw MIME message (from SES receiving deployed, from
 * `npm run admin -- imip-receive FILE` locally) whose `text/calendar` part is a REPLY. It is
 * applied only when it answers an invitation this server sent (by UID and attendee) and comes
 * from that attendee's address, so a forged message cannot change anyone's calendar.
 */
import { simpleParser } from "mailparser";
import type { DavContext } from "../webdav/context.js";
import { wasInvited } from "../store/scheduling.js";
import { resolveAddress } from "./addresses.js";
import { deliverReply } from "./deliver.js";
import { components, normalAddress, readMessage } from "./itip.js";

export type InboundResult =
  { applied: true; organizer: string; uid: string } | { applied: false; reason: string };

export async function receiveMail(ctx: DavContext, raw: Buffer): Promise<InboundResult> {
  const mail = await simpleParser(raw);
  const part = mail.attachments.find((a) => /^(text|application)\/calendar/i.test(a.contentType));
  const ics =
    part?.content.toString("utf8") ??
    (mail.text && /BEGIN:VCALENDAR/.test(mail.text) ? mail.text : undefined);
  if (!ics) return { applied: false, reason: "the message has no text/calendar part" };
  let msg;
  try {
    msg = readMessage(ics);
  } catch {
    return { applied: false, reason: "the calendar part is not valid iCalendar" };
  }
  if (msg.method !== "REPLY")
    return { applied: false, reason: `METHOD ${msg.method || "(none)"} is not a REPLY` };
  const attendees = new Set(
    components(msg.root).flatMap((c) =>
      c.getAllProperties("attendee").map((a) => normalAddress(String(a.getFirstValue()))),
    ),
  );
  if (attendees.size !== 1) return { applied: false, reason: "a REPLY names exactly one attendee" };
  const attendee = [...attendees][0];
  const from = mail.from?.value.map((v) => v.address?.toLowerCase());
  if (!from?.includes(attendee.replace(/^mailto:/, ""))) {
    return { applied: false, reason: `the message is not from ${attendee}` };
  }
  const organizer = msg.organizer ? await resolveAddress(ctx.store, msg.organizer) : undefined;
  if (organizer?.type !== "user") return { applied: false, reason: "the REPLY's ORGANIZER is no user here" };
  if (!(await wasInvited(ctx.store, msg.uid, attendee, organizer.name))) {
    return { applied: false, reason: `no invitation to ${msg.uid} was sent to ${attendee}` };
  }
  const outcome = await deliverReply(
    ctx.store,
    ctx.config,
    { user: organizer.name },
    attendee,
    msg.uid,
    msg.root,
    ics,
  );
  if (outcome !== "delivered")
    return { applied: false, reason: `the organizer's copy could not be updated (${outcome})` };
  return { applied: true, organizer: organizer.name, uid: msg.uid };
}
