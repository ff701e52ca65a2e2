/**
 * iMIP (RFC 6047): scheduling messages to attendees outside the deployment, by e-mail. The
 * message is `multipart/alternative` with a readable text part and the `text/calendar;
 * method=…` part (built by nodemailer's composer), From the server's address with Reply-To the
 * organizer, so a reply goes to a person even from a mail client that ignores the calendar part.
 * Deployed it leaves through Amazon SES v2 (raw content); locally through the SMTP host the
 * configuration names. Without either, nothing is sent and attendees get SCHEDULE-STATUS 5.1.
 */
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import nodemailer from "nodemailer";
import type { MailConfig } from "../webdav/context.js";
import type { Message } from "./itip.js";

export interface OutgoingMail {
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  /** The iCalendar message. */
  ics: string;
  method: string;
}

/** Composes without sending: nodemailer's stream transport hands back the raw MIME message. */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });

/** The raw MIME message. */
export async function composeMail(from: string, mail: OutgoingMail): Promise<Buffer> {
  const info = await composer.sendMail({
    from,
    to: mail.to,
    replyTo: mail.replyTo,
    subject: mail.subject,
    text: mail.text,
    // nodemailer puts the calendar part beside the text as an alternative (RFC 6047 §2.4).
    icalEvent: { method: mail.method, content: mail.ics, filename: "invite.ics" },
  });
  return info.message as Buffer;
}

export type Sender = (raw: Buffer, envelope: { from: string; to: string }) => Promise<void>;

const senders = new Map<string, Sender>();

/** The transport the configuration names (kept per process: a Lambda's warm instances reuse it). */
export function senderFor(config: MailConfig): Sender | undefined {
  const key = `${config.smtpUrl ?? ""}|${config.transport}`;
  let s = senders.get(key);
  if (s) return s;
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport(config.smtpUrl);
    s = async (raw, envelope) => {
      await transport.sendMail({ envelope, raw });
    };
  } else if (config.transport === "ses") {
    const client = new SESv2Client({});
    s = async (raw, envelope) => {
      await client.send(
        new SendEmailCommand({
          FromEmailAddress: envelope.from,
          Destination: { ToAddresses: [envelope.to] },
          Content: { Raw: { Data: raw } },
        }),
      );
    };
  } else return undefined;
  senders.set(key, s);
  return s;
}

const text = (m: Message, prop: string) => {
  const v = m.root
    .getAllSubcomponents()
    .find((c) => c.name === "vevent" || c.name === "vtodo")
    ?.getFirstPropertyValue(prop);
  return v === undefined || v === null ? undefined : String(v);
};

/** The subject and readable text of a scheduling message. */
export function describe(m: Message, from: string): { subject: string; text: string } {
  // One line, of a sensible length: a SUMMARY may hold line breaks, and it becomes the Subject.
  const summary = (text(m, "summary") ?? "(no title)").replace(/[\r\n\t]+/g, " ").slice(0, 150);
  const when = text(m, "dtstart");
  const where = text(m, "location");
  const details = [when ? `When: ${when}` : "", where ? `Where: ${where}` : ""].filter(Boolean).join("\n");
  switch (m.method) {
    case "CANCEL":
      return { subject: `Cancelled: ${summary}`, text: `${from} cancelled "${summary}".\n${details}\n` };
    case "REPLY":
      return { subject: `Reply: ${summary}`, text: `${from} answered the invitation to "${summary}".\n` };
    default:
      return {
        subject: `Invitation: ${summary}`,
        text: `${from} invites you to "${summary}".\n${details}\n\nYour calendar program can accept or decline it from the attached invitation.\n`,
      };
  }
}
