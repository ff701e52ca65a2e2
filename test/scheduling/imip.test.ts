/**
 * Invitations to attendees outside the deployment by e-mail (iMIP, RFC 6047), through a real SMTP
 * server in the test process (npm smtp-server): the message's shape, parsed back with mailparser;
 * the attendee's reply fed to the inbound entry point updates the organizer's copy; a reply that
 * answers no invitation, or comes from someone else, changes nothing; the hourly bound holds.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SNSEvent } from "aws-lambda";
import { createImipHandler } from "../../functions/imip.js";
import { runAdmin } from "../../lib/cli/admin.js";
import { receiveMail } from "../../lib/scheduling/inbound.js";
import { CalClient, vcalendar } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const received: ParsedMail[] = [];
const rawMessages: Buffer[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks);
      rawMessages.push(raw);
      simpleParser(raw).then((m) => {
        received.push(m);
        callback();
      }, callback);
    });
  },
});
await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
after(() => new Promise<void>((r) => smtp.close(() => r())));
const port = (smtp.server.address() as { port: number }).port;

const server = await startTestServer({
  mail: {
    from: "calendar@dav.example.com",
    smtpUrl: `smtp://127.0.0.1:${port}`,
    transport: "smtp",
    perHour: 5,
  },
});
const alice = new CalClient(server, "alice");

const meeting = (uid: string, attendees: string[], summary = "Board meeting") =>
  vcalendar(
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20270101T000000Z",
    "DTSTART:20270401T090000Z",
    "DTEND:20270401T100000Z",
    `SUMMARY:${summary}`,
    "LOCATION:Room 4",
    "ORGANIZER:mailto:alice@example.com",
    ...attendees.map((a) => `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}`),
    "END:VEVENT",
  );

const unfold = (t: string) => t.replace(/\r?\n[ \t]/g, "");
const statusOf = (text: string, address: string) =>
  /SCHEDULE-STATUS=([0-9.]+)/.exec(
    unfold(text)
      .split(/\r?\n/)
      .find((l) => l.startsWith("ATTENDEE") && l.endsWith(address)) ?? "",
  )?.[1];
const partstatOf = (text: string, address: string) =>
  /PARTSTAT=([A-Z-]+)/.exec(
    unfold(text)
      .split(/\r?\n/)
      .find((l) => l.startsWith("ATTENDEE") && l.endsWith(address)) ?? "",
  )?.[1];

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cond(), what);
}

/** A reply as a mail program would send it: From the attendee, text/calendar METHOD:REPLY. */
function replyMail(uid: string, from: string, partstat: string, attendee = from) {
  const ics = vcalendar(
    "METHOD:REPLY",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20270102T000000Z",
    "DTSTART:20270401T090000Z",
    "ORGANIZER:mailto:alice@example.com",
    `ATTENDEE;PARTSTAT=${partstat}:mailto:${attendee}`,
    "END:VEVENT",
  );
  return Buffer.from(
    [
      `From: Dana <${from}>`,
      "To: calendar@dav.example.com",
      "Subject: Accepted: Board meeting",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Dana has accepted.",
      "--b1",
      "Content-Type: text/calendar; charset=utf-8; method=REPLY",
      "",
      ics,
      "--b1--",
      "",
    ].join("\r\n"),
  );
}

describe("iMIP (RFC 6047) through a real SMTP server", () => {
  it("RFC 6047 §2.4, RFC 6638 §3.2.9: an outside attendee gets a multipart/alternative invitation From the server, Reply-To the organizer, with text/calendar; method=REQUEST; their status is 1.1", async () => {
    const put = await alice.put("default", "board.ics", meeting("board-1", ["dana@outside.example"]));
    assert.equal(put.status, 201, put.body);
    await until(() => received.length === 1, "one message arrived");
    const m = received[0];
    assert.equal(m.from?.value[0].address, "calendar@dav.example.com");
    assert.equal(m.replyTo?.value[0].address, "alice@example.com");
    assert.deepEqual(
      (Array.isArray(m.to) ? m.to : [m.to]).flatMap((t) => t!.value.map((v) => v.address)),
      ["dana@outside.example"],
    );
    assert.match(m.subject ?? "", /Invitation: Board meeting/);
    assert.match(m.text ?? "", /alice@example\.com invites you to "Board meeting"/);
    assert.match(rawMessages[0].toString(), /Content-Type: multipart\/alternative/i);
    assert.match(rawMessages[0].toString(), /Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    const cal = m.attachments.find((a) => a.contentType === "text/calendar");
    assert.ok(cal, "a text/calendar part");
    const ics = cal.content.toString("utf8");
    assert.match(ics, /METHOD:REQUEST/);
    assert.match(ics, /UID:board-1/);
    assert.doesNotMatch(ics, /SCHEDULE-STATUS/, "the server's statuses are not sent");
    const stored = (await alice.get("default", "board.ics")).body;
    assert.equal(statusOf(stored, "mailto:dana@outside.example"), "1.1");
  });

  it("RFC 6047 §2.3: the attendee's e-mailed REPLY, fed to the inbound entry point, updates the organizer's copy", async () => {
    const result = await receiveMail(server.ctx, replyMail("board-1", "dana@outside.example", "ACCEPTED"));
    assert.deepEqual(result, { applied: true, organizer: "alice", uid: "board-1" });
    const stored = (await alice.get("default", "board.ics")).body;
    assert.equal(partstatOf(stored, "mailto:dana@outside.example"), "ACCEPTED");
    assert.equal(statusOf(stored, "mailto:dana@outside.example"), "2.0");
  });

  it("a reply answering no invitation, or from another sender than the attendee, changes nothing", async () => {
    const before = (await alice.get("default", "board.ics")).body;
    const forged = await receiveMail(
      server.ctx,
      replyMail("board-1", "mallory@evil.example", "DECLINED", "dana@outside.example"),
    );
    assert.equal(forged.applied, false);
    const uninvited = await receiveMail(server.ctx, replyMail("board-1", "erin@outside.example", "DECLINED"));
    assert.equal(uninvited.applied, false);
    const unknown = await receiveMail(
      server.ctx,
      replyMail("no-such-meeting", "dana@outside.example", "DECLINED"),
    );
    assert.equal(unknown.applied, false);
    const notCalendar = await receiveMail(
      server.ctx,
      Buffer.from("From: x@y.example\r\nSubject: hi\r\n\r\nhello\r\n"),
    );
    assert.equal(notCalendar.applied, false);
    assert.equal((await alice.get("default", "board.ics")).body, before);
  });

  it("the entry points: `npm run admin -- imip-receive FILE` and the SES → SNS function apply a reply; mail SES marks as spam is dropped unread", async () => {
    assert.equal(
      (await alice.put("default", "entry.ics", meeting("board-4", ["eve@outside.example"]))).status,
      201,
    );
    const file = join(mkdtempSync(join(tmpdir(), "imip-")), "reply.eml");
    writeFileSync(file, replyMail("board-4", "eve@outside.example", "TENTATIVE"));
    const out: string[] = [];
    const err: string[] = [];
    const env = { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT, TABLE_NAME: server.ctx.store.tableName };
    const code = await runAdmin(
      ["imip-receive", file],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      env,
    );
    assert.equal(code, 0, err.join("\n"));
    assert.match(out.join("\n"), /applied the reply to board-4 to alice/);
    assert.equal(
      partstatOf((await alice.get("default", "entry.ics")).body, "mailto:eve@outside.example"),
      "TENTATIVE",
    );

    const handler = createImipHandler(() => server.ctx);
    const sns = (reply: Buffer, receipt: Record<string, { status: string }>) =>
      ({
        Records: [{ Sns: { Message: JSON.stringify({ content: reply.toString("base64"), receipt }) } }],
      }) as unknown as SNSEvent;
    const spam = await handler(
      sns(replyMail("board-4", "eve@outside.example", "DECLINED"), { spamVerdict: { status: "FAIL" } }),
    );
    assert.deepEqual(spam, { applied: 0, dropped: 1 });
    assert.equal(
      partstatOf((await alice.get("default", "entry.ics")).body, "mailto:eve@outside.example"),
      "TENTATIVE",
    );
    // SPF passing for the envelope's domain proves nothing about the From header: DMARC must vouch.
    const spfOnly = await handler(
      sns(replyMail("board-4", "eve@outside.example", "DECLINED"), {
        spfVerdict: { status: "PASS" },
        dmarcVerdict: { status: "GRAY" },
      }),
    );
    assert.deepEqual(spfOnly, { applied: 0, dropped: 1 });
    const ok = await handler(
      sns(replyMail("board-4", "eve@outside.example", "ACCEPTED"), { dmarcVerdict: { status: "PASS" } }),
    );
    assert.deepEqual(ok, { applied: 1, dropped: 0 });
    assert.equal(
      partstatOf((await alice.get("default", "entry.ics")).body, "mailto:eve@outside.example"),
      "ACCEPTED",
    );
    // A file that is no reply: the CLI says why and exits 1.
    writeFileSync(file, "From: x@y.example\r\n\r\nhello\r\n");
    assert.equal(await runAdmin(["imip-receive", file], { out: () => {}, err: (l) => err.push(l) }, env), 1);
    assert.match(err.join("\n"), /not applied: the message has no text\/calendar part/);
  });

  it("sending is bounded per user and hour: past DAV_MAIL_PER_HOUR the attendees get 5.1 and no mail leaves", async () => {
    const sent = received.length;
    // perHour is 5 and one mail went out already: four more fit, the fifth and sixth do not.
    const put = await alice.put(
      "default",
      "many.ics",
      meeting("board-2", [
        "a1@outside.example",
        "a2@outside.example",
        "a3@outside.example",
        "a4@outside.example",
        "a5@outside.example",
      ]),
    );
    assert.equal(put.status, 201);
    const stored = (await alice.get("default", "many.ics")).body;
    assert.equal(statusOf(stored, "mailto:a1@outside.example"), "5.1");
    const small = await alice.put(
      "default",
      "few.ics",
      meeting("board-3", ["b1@outside.example", "b2@outside.example"]),
    );
    assert.equal(small.status, 201);
    assert.equal(statusOf((await alice.get("default", "few.ics")).body, "mailto:b1@outside.example"), "1.1");
    await until(() => received.length === sent + 2, "the two that fit arrived");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received.length, sent + 2, "nothing past the bound");
  });
});
