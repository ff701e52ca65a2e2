/**
 * Interop: three tsdav clients schedule a meeting through the server (RFC 6638 implicit
 * scheduling). The organizer's client stores an event with two attendees; each attendee's client
 * finds the invitation in their own calendar by an ordinary sync, answers it by storing their copy
 * with their PARTSTAT, and the organizer's client then reads both answers in its copy.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDAVClient, type DAVCalendar, type DAVCalendarObject } from "tsdav";
import { PASSWORDS, startTestServer } from "../helpers/server.js";

PASSWORDS.carol = "carol-pw";
const server = await startTestServer();

async function clientFor(user: string) {
  const client = await createDAVClient({
    serverUrl: `${server.url}/`,
    credentials: { username: user, password: PASSWORDS[user] },
    authMethod: "Basic",
    defaultAccountType: "caldav",
  });
  const calendars = await client.fetchCalendars();
  const calendar = calendars.find((c) => c.url.endsWith(`/calendars/${user}/default/`));
  assert.ok(calendar, `${user}'s default calendar among ${calendars.map((c) => c.url).join(" ")}`);
  return { client, calendar: calendar as DAVCalendar };
}

const unfold = (t: string) => t.replace(/\r?\n[ \t]/g, "");
const partstat = (ics: string, email: string) =>
  /PARTSTAT=([A-Z-]+)/.exec(
    unfold(ics)
      .split(/\r?\n/)
      .find((l) => l.startsWith("ATTENDEE") && l.endsWith(`:mailto:${email}`)) ?? "",
  )?.[1];

const UID = "tsdav-meeting-1";
const invitation = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//tsdav scheduling test//EN",
  "BEGIN:VEVENT",
  `UID:${UID}`,
  "DTSTAMP:20270101T000000Z",
  "DTSTART:20270510T090000Z",
  "DTEND:20270510T093000Z",
  "SUMMARY:Stand-up",
  "ORGANIZER:mailto:alice@example.com",
  "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com",
  "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.com",
  "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:carol@example.com",
  "END:VEVENT",
  "END:VCALENDAR",
  "",
].join("\r\n");

describe("interop: tsdav as organizer and attendees (RFC 6638)", () => {
  it("§3.2: alice invites bob and carol with tsdav; their tsdav clients see it, bob accepts, carol declines; alice's tsdav reads both answers", async () => {
    const alice = await clientFor("alice");
    const bob = await clientFor("bob");
    const carol = await clientFor("carol");

    const created = await alice.client.createCalendarObject({
      calendar: alice.calendar,
      filename: "standup.ics",
      iCalString: invitation,
    });
    assert.equal(created.status, 201);

    async function answer(
      who: { client: typeof alice.client; calendar: DAVCalendar },
      email: string,
      value: string,
    ) {
      const objects: DAVCalendarObject[] = await who.client.fetchCalendarObjects({ calendar: who.calendar });
      const copy = objects.find((o) => unfold(String(o.data)).includes(`UID:${UID}`));
      assert.ok(copy, `${email} sees the invitation in their calendar`);
      assert.equal(partstat(String(copy.data), email), "NEEDS-ACTION");
      const line = unfold(String(copy.data))
        .split(/\r?\n/)
        .find((l) => l.endsWith(`:mailto:${email}`))!;
      const res = await who.client.updateCalendarObject({
        calendarObject: {
          ...copy,
          data: unfold(String(copy.data)).replace(line, line.replace("NEEDS-ACTION", value)),
        },
      });
      assert.ok(res.ok, `${email}'s answer is stored: ${res.status}`);
    }
    await answer(bob, "bob@example.com", "ACCEPTED");
    await answer(carol, "carol@example.com", "DECLINED");

    const mine = (await alice.client.fetchCalendarObjects({ calendar: alice.calendar })).find((o) =>
      String(o.data).includes(`UID:${UID}`),
    );
    assert.ok(mine);
    assert.equal(partstat(String(mine.data), "bob@example.com"), "ACCEPTED");
    assert.equal(partstat(String(mine.data), "carol@example.com"), "DECLINED");
    // The inbox is not offered to tsdav as a calendar.
    const listed = await alice.client.fetchCalendars();
    assert.ok(!listed.some((c) => /\/(inbox|outbox)\/$/.test(c.url)), listed.map((c) => c.url).join(" "));
  });
});
