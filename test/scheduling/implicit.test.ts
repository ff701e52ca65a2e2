/**
 * Scheduling between users of one deployment (RFC 6638): the principal's scheduling properties,
 * implicit scheduling on PUT and DELETE (REQUEST, REPLY, CANCEL delivered into inboxes and the
 * attendees' calendars), schedule tags, the scheduling preconditions, and free-busy through the
 * outbox, all against DynamoDB Local with real HTTP requests.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cal, dav } from "../../lib/xml/names.js";
import { CalClient, davError, vcalendar } from "../helpers/ical.js";
import { PASSWORDS, startTestServer } from "../helpers/server.js";
import {
  childNames,
  hrefsIn,
  mustProp,
  parseMultistatus,
  propfindBody,
  responseFor,
} from "../helpers/xml.js";
import { parseXml, type XmlElement } from "../../lib/xml/parse.js";

// A third user, made with the others (alice@, bob@, carol@example.com).
PASSWORDS.carol = "carol-pw";
const server = await startTestServer();
const alice = new CalClient(server, "alice");
const bob = new CalClient(server, "bob");
const carol = new CalClient(server, "carol");
// Every user's first login provisions their default calendar, inbox and outbox.
for (const c of [alice, bob, carol])
  await c.req("PROPFIND", "/calendars/" + c.user + "/", { headers: { depth: "0" } });

/** A meeting organised by alice, with these attendees (address → PARTSTAT). */
function meeting(
  uid: string,
  attendees: Record<string, string>,
  o: { start?: string; summary?: string; extra?: string[] } = {},
) {
  const start = o.start ?? "20270301T100000Z";
  const end = start.replace(/T(\d\d)/, (_, h) => `T${String(Number(h) + 1).padStart(2, "0")}`);
  return vcalendar(
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20270101T000000Z",
    `DTSTART:${start}`,
    `DTEND:${end}`,
    `SUMMARY:${o.summary ?? "Planning"}`,
    "ORGANIZER;CN=Alice:mailto:alice@example.com",
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com",
    ...Object.entries(attendees).map(([a, p]) => `ATTENDEE;PARTSTAT=${p};RSVP=TRUE:${a}`),
    ...(o.extra ?? []),
    "END:VEVENT",
  );
}

const unfold = (text: string) => text.replace(/\r?\n[ \t]/g, "");

/** The ATTENDEE line of `address` in a body. */
function attendeeLine(text: string, address: string): string {
  const line = unfold(text)
    .split(/\r?\n/)
    .find((l) => l.startsWith("ATTENDEE") && l.toLowerCase().endsWith(`:${address.toLowerCase()}`));
  assert.ok(line, `an ATTENDEE ${address} in\n${text}`);
  return line;
}
const param = (line: string, name: string) => new RegExp(`;${name}=([^;:]+)`, "i").exec(line)?.[1];

/** Every member of a user's calendar, with its body (GET of each href from a PROPFIND Depth: 1). */
async function members(
  c: CalClient,
  calendar: string,
): Promise<{ href: string; body: string; stag: string | null }[]> {
  const res = await c.req("PROPFIND", c.calHref(calendar), {
    headers: { depth: "1", "content-type": "application/xml" },
    body: propfindBody([dav("getetag")]),
  });
  assert.equal(res.status, 207, res.body);
  const out = [];
  for (const r of parseMultistatus(res.body)) {
    if (r.href.endsWith("/")) continue;
    const got = await c.req("GET", r.href);
    out.push({ href: r.href, body: got.body, stag: got.headers.get("schedule-tag") });
  }
  return out;
}

/** The user's copy of meeting `uid` (in any of their calendars but the boxes). */
async function copyOf(c: CalClient, uid: string, calendar = "default") {
  const found = (await members(c, calendar)).filter((m) => unfold(m.body).includes(`\r\nUID:${uid}\r\n`));
  assert.ok(found.length <= 1, `one copy of ${uid}`);
  return found[0];
}

const inboxMessages = async (c: CalClient, uid: string) =>
  (await members(c, "inbox")).filter((m) => unfold(m.body).includes(`UID:${uid}\r\n`));
const methodOf = (text: string) => /^METHOD:(.*)\r?$/m.exec(text)?.[1];

/** Answer as attendee: PARTSTAT set on their own line, the rest as the copy had it. */
function answer(copy: string, address: string, partstat: string): string {
  const line = attendeeLine(copy, address);
  const replaced = line
    .replace(/;PARTSTAT=[^;:]+/i, "")
    .replace(/^ATTENDEE/, `ATTENDEE;PARTSTAT=${partstat}`);
  return unfold(copy).replace(line, replaced);
}

describe("RFC 6638 §2: scheduling collections and principal properties", () => {
  it("§2.1, §2.2, §2.4.1: the principal names its inbox, outbox, addresses (mailto and the absolute principal URL) and type", async () => {
    const res = await alice.req("PROPFIND", "/principals/alice/", {
      headers: { depth: "0", "content-type": "application/xml" },
      body: propfindBody([
        cal("schedule-inbox-URL"),
        cal("schedule-outbox-URL"),
        cal("calendar-user-address-set"),
        cal("calendar-user-type"),
        cal("schedule-default-calendar-URL"),
      ]),
    });
    const [p] = parseMultistatus(res.body);
    assert.deepEqual(hrefsIn(mustProp(p, cal("schedule-inbox-URL"))), ["/calendars/alice/inbox/"]);
    assert.deepEqual(hrefsIn(mustProp(p, cal("schedule-outbox-URL"))), ["/calendars/alice/outbox/"]);
    const addresses = hrefsIn(mustProp(p, cal("calendar-user-address-set")));
    assert.equal(addresses[0], "mailto:alice@example.com");
    assert.ok(addresses.includes(`${server.url}/principals/alice/`), addresses.join(" "));
    assert.equal(mustProp(p, cal("calendar-user-type")).text, "INDIVIDUAL");
    assert.deepEqual(hrefsIn(mustProp(p, cal("schedule-default-calendar-URL"))), [
      "/calendars/alice/default/",
    ]);
  });

  it("§2.2, §2.3: the inbox and outbox are in the calendar home with their resource types; calendar-auto-schedule is announced", async () => {
    const res = await alice.req("PROPFIND", "/calendars/alice/", {
      headers: { depth: "1", "content-type": "application/xml" },
      body: propfindBody([dav("resourcetype"), cal("schedule-calendar-transp")]),
    });
    const all = parseMultistatus(res.body);
    const types = (href: string) => childNames(mustProp(responseFor(all, href), dav("resourcetype")));
    assert.ok(types("/calendars/alice/inbox/").includes(cal("schedule-inbox")));
    assert.ok(
      !types("/calendars/alice/inbox/").includes(cal("calendar")),
      "clients do not list the inbox as a calendar",
    );
    assert.ok(types("/calendars/alice/outbox/").includes(cal("schedule-outbox")));
    assert.ok(types("/calendars/alice/default/").includes(cal("calendar")));
    assert.deepEqual(
      childNames(mustProp(responseFor(all, "/calendars/alice/default/"), cal("schedule-calendar-transp"))),
      [cal("opaque")],
    );
    const options = await alice.req("OPTIONS", "/calendars/alice/default/");
    assert.match(options.headers.get("dav") ?? "", /calendar-auto-schedule/);
  });

  it("§2.2: nothing but the server writes into an inbox or outbox, and neither can be deleted", async () => {
    const put = await alice.put("inbox", "x.ics", meeting("box-1", {}));
    assert.equal(put.status, 403);
    assert.equal(davError(put).name, cal("valid-scheduling-message"));
    assert.equal((await alice.put("outbox", "x.ics", meeting("box-2", {}))).status, 403);
    assert.equal((await alice.delete("/calendars/alice/inbox/")).status, 403);
    assert.equal((await alice.delete("/calendars/alice/outbox/")).status, 403);
    assert.ok(await alice.collection("inbox"));
  });
});

describe("RFC 6638 §3: implicit scheduling between users here", () => {
  it("§3.2.1, §4: inviting two users delivers a REQUEST to each inbox and a NEEDS-ACTION copy to each default calendar; one accepts, one declines, and the organizer's copy shows both", async () => {
    const uid = "meet-two";
    const bobSeq = (await bob.collection("default"))!.seq;
    const put = await alice.put(
      "default",
      "m.ics",
      meeting(uid, { "mailto:bob@example.com": "NEEDS-ACTION", "mailto:carol@example.com": "NEEDS-ACTION" }),
    );
    assert.equal(put.status, 201, put.body);
    // §3.2.10 and RFC 4791 §5.3.4: the stored body gained SCHEDULE-STATUS, so no ETag; a schedule tag.
    assert.equal(put.headers.get("etag"), null);
    assert.ok(put.headers.get("schedule-tag"));
    const organizer = (await alice.get("default", "m.ics")).body;
    assert.equal(param(attendeeLine(organizer, "mailto:bob@example.com"), "SCHEDULE-STATUS"), "1.2");
    assert.equal(param(attendeeLine(organizer, "mailto:carol@example.com"), "SCHEDULE-STATUS"), "1.2");

    for (const [c, address] of [
      [bob, "mailto:bob@example.com"],
      [carol, "mailto:carol@example.com"],
    ] as const) {
      const [msg] = await inboxMessages(c, uid);
      assert.ok(msg, `${c.user} has the REQUEST in the inbox`);
      assert.equal(methodOf(msg.body), "REQUEST");
      const copy = await copyOf(c, uid);
      assert.ok(copy, `${c.user} has a copy in the default calendar`);
      assert.equal(param(attendeeLine(copy.body, address), "PARTSTAT"), "NEEDS-ACTION");
      assert.doesNotMatch(copy.body, /SCHEDULE-STATUS/, "the server's statuses stay in the organizer's copy");
      assert.ok(copy.stag, "the attendee's copy has a schedule tag");
    }
    assert.equal(
      (await bob.collection("default"))!.seq,
      bobSeq + 1,
      "bob's change log advanced once: his clients see it on the next sync",
    );

    // §3.2.2: the attendees answer by storing their copy with their PARTSTAT changed.
    const bobCopy = (await copyOf(bob, uid))!;
    const accept = await bob.req("PUT", bobCopy.href, {
      body: answer(bobCopy.body, "mailto:bob@example.com", "ACCEPTED"),
      headers: { "content-type": "text/calendar", "if-schedule-tag-match": bobCopy.stag! },
    });
    assert.equal(accept.status, 204, accept.body);
    assert.equal(
      accept.headers.get("schedule-tag"),
      bobCopy.stag,
      "§3.2.10: an attendee's own change keeps the tag",
    );
    const carolCopy = (await copyOf(carol, uid))!;
    const decline = await carol.req("PUT", carolCopy.href, {
      body: answer(carolCopy.body, "mailto:carol@example.com", "DECLINED"),
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(decline.status, 204, decline.body);

    const after = await alice.get("default", "m.ics");
    assert.equal(param(attendeeLine(after.body, "mailto:bob@example.com"), "PARTSTAT"), "ACCEPTED");
    assert.equal(param(attendeeLine(after.body, "mailto:carol@example.com"), "PARTSTAT"), "DECLINED");
    assert.equal(param(attendeeLine(after.body, "mailto:bob@example.com"), "SCHEDULE-STATUS"), "2.0");
    assert.equal(
      after.headers.get("schedule-tag"),
      put.headers.get("schedule-tag"),
      "§3.2.10: replies do not change the organizer's tag",
    );
    const replies = await inboxMessages(alice, uid);
    assert.deepEqual(
      replies.map((r) => methodOf(r.body)),
      ["REPLY", "REPLY"],
    );
  });

  it("§3.2.10, §8.3: an attendee's reply made on a copy the organizer has since moved fails with 412, and nothing is lost", async () => {
    const uid = "meet-moved";
    assert.equal(
      (await alice.put("default", "moved.ics", meeting(uid, { "mailto:bob@example.com": "NEEDS-ACTION" })))
        .status,
      201,
    );
    const stale = (await copyOf(bob, uid))!;
    // The organizer moves the meeting: bob's copy is updated with a new schedule tag.
    const moved = meeting(uid, { "mailto:bob@example.com": "NEEDS-ACTION" }, { start: "20270302T140000Z" });
    assert.equal((await alice.put("default", "moved.ics", moved)).status, 204);
    const fresh = (await copyOf(bob, uid))!;
    assert.notEqual(fresh.stag, stale.stag);
    assert.match(fresh.body, /DTSTART:20270302T140000Z/);
    // bob's client answers on what it had read before the move.
    const late = await bob.req("PUT", stale.href, {
      body: answer(stale.body, "mailto:bob@example.com", "ACCEPTED"),
      headers: { "content-type": "text/calendar", "if-schedule-tag-match": stale.stag! },
    });
    assert.equal(late.status, 412, late.body);
    const kept = (await copyOf(bob, uid))!;
    assert.equal(kept.body, fresh.body, "bob's copy still has the organizer's move");
    const org = await alice.get("default", "moved.ics");
    assert.equal(
      param(attendeeLine(org.body, "mailto:bob@example.com"), "PARTSTAT"),
      "NEEDS-ACTION",
      "no stale answer reached the organizer",
    );
    assert.match(org.body, /DTSTART:20270302T140000Z/);
  });

  it("§3.2.1.2, §3.2.2.3: removing an attendee cancels their copy; deleting the meeting cancels everyone's; an attendee's delete declines", async () => {
    const uid = "meet-cancel";
    const both = { "mailto:bob@example.com": "NEEDS-ACTION", "mailto:carol@example.com": "NEEDS-ACTION" };
    assert.equal((await alice.put("default", "c.ics", meeting(uid, both))).status, 201);
    assert.equal(
      (await alice.put("default", "c.ics", meeting(uid, { "mailto:bob@example.com": "NEEDS-ACTION" })))
        .status,
      204,
    );
    assert.match((await copyOf(carol, uid))!.body, /STATUS:CANCELLED/);
    assert.deepEqual((await inboxMessages(carol, uid)).map((m) => methodOf(m.body)).sort(), [
      "CANCEL",
      "REQUEST",
    ]);
    assert.doesNotMatch((await copyOf(bob, uid))!.body, /STATUS:CANCELLED/);
    assert.equal((await alice.delete("/calendars/alice/default/c.ics")).status, 204);
    assert.match((await copyOf(bob, uid))!.body, /STATUS:CANCELLED/);

    const uid2 = "meet-decline-by-delete";
    assert.equal(
      (await alice.put("default", "d.ics", meeting(uid2, { "mailto:bob@example.com": "NEEDS-ACTION" })))
        .status,
      201,
    );
    const copy = (await copyOf(bob, uid2))!;
    assert.equal((await bob.delete(copy.href)).status, 204);
    const org = await alice.get("default", "d.ics");
    assert.equal(param(attendeeLine(org.body, "mailto:bob@example.com"), "PARTSTAT"), "DECLINED");
  });

  it("§3.2.4.3: a UID already scheduled in another of the user's calendars is refused with 403 unique-scheduling-object-resource naming it; of two racing PUTs one wins", async () => {
    await alice.newCalendar("work");
    assert.equal((await alice.put("default", "u.ics", meeting("meet-unique", {}))).status, 201);
    const again = await alice.put("work", "u.ics", meeting("meet-unique", {}));
    assert.equal(again.status, 403, again.body);
    const err = davError(again);
    assert.equal(err.name, cal("unique-scheduling-object-resource"));
    assert.deepEqual(err.hrefs, ["/calendars/alice/default/u.ics"]);
    // Once the first is deleted, its UID may be scheduled elsewhere.
    assert.equal((await alice.delete("/calendars/alice/default/u.ics")).status, 204);
    assert.equal((await alice.put("work", "u.ics", meeting("meet-unique", {}))).status, 201);

    await alice.newCalendar("home");
    const race = await Promise.all(
      ["default", "home"].map((c) =>
        alice.put(c, "race.ics", meeting("meet-race", { "mailto:bob@example.com": "NEEDS-ACTION" })),
      ),
    );
    assert.deepEqual(race.map((r) => r.status).sort(), [201, 403], race.map((r) => r.body).join("\n"));
    assert.equal((await inboxMessages(bob, "meet-race")).length, 1, "only the winner invited bob");
  });

  it("§3.2.4.1, §3.2.2.1: mixed organizers, a non-URI organizer and an attendee changing the organizer's properties are refused with their preconditions", async () => {
    const mixed = vcalendar(
      "BEGIN:VEVENT",
      "UID:mixed",
      "DTSTAMP:20270101T000000Z",
      "DTSTART:20270301T100000Z",
      "RRULE:FREQ=DAILY;COUNT=3",
      "ORGANIZER:mailto:alice@example.com",
      "ATTENDEE:mailto:bob@example.com",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:mixed",
      "DTSTAMP:20270101T000000Z",
      "RECURRENCE-ID:20270302T100000Z",
      "DTSTART:20270302T120000Z",
      "ORGANIZER:mailto:mallory@example.com",
      "ATTENDEE:mailto:bob@example.com",
      "END:VEVENT",
    );
    const r1 = await alice.put("default", "mixed.ics", mixed);
    assert.equal(r1.status, 403);
    assert.equal(davError(r1).name, cal("same-organizer-in-all-components"));
    const r2 = await alice.put(
      "default",
      "bad-org.ics",
      meeting("bad-org", {}).replace("ORGANIZER;CN=Alice:mailto:alice@example.com", "ORGANIZER:alice"),
    );
    assert.equal(r2.status, 403);
    assert.equal(davError(r2).name, cal("valid-organizer"));

    assert.equal(
      (
        await alice.put(
          "default",
          "own.ics",
          meeting("meet-own", { "mailto:bob@example.com": "NEEDS-ACTION" }),
        )
      ).status,
      201,
    );
    const copy = (await copyOf(bob, "meet-own"))!;
    const r3 = await bob.req("PUT", copy.href, {
      body: unfold(copy.body).replace("SUMMARY:Planning", "SUMMARY:Bob's party"),
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(r3.status, 403);
    assert.equal(davError(r3).name, cal("allowed-attendee-scheduling-object-change"));
    assert.match(
      (await copyOf(bob, "meet-own"))!.body,
      /SUMMARY:Planning/,
      "the refused change left the copy alone",
    );

    // RFC 4791 §5.2.9: the bound is announced and applied.
    const many = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [`mailto:guest${i}@outside.example`, "NEEDS-ACTION"]),
    );
    const r4 = await alice.put("default", "crowd.ics", meeting("meet-crowd", many));
    assert.equal(r4.status, 403);
    assert.equal(davError(r4).name, cal("max-attendees-per-instance"));
    const props = await alice.req("PROPFIND", alice.calHref("default"), {
      headers: { depth: "0", "content-type": "application/xml" },
      body: propfindBody([cal("max-attendees-per-instance")]),
    });
    assert.equal(mustProp(parseMultistatus(props.body)[0], cal("max-attendees-per-instance")).text, "100");
  });

  it("§3.2.9, §7.1, §7.3: statuses for an unknown principal URL (3.7), e-mail without a sender (5.1), SCHEDULE-AGENT=CLIENT left alone, a principal-URL address delivered, SCHEDULE-FORCE-SEND resends", async () => {
    const uid = "meet-statuses";
    const body = meeting(
      uid,
      {
        [`${server.url}/principals/nobody/`]: "NEEDS-ACTION",
        "mailto:outsider@example.org": "NEEDS-ACTION",
        [`${server.url}/principals/carol/`]: "NEEDS-ACTION",
      },
      { extra: ["ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:bob@example.com"] },
    );
    assert.equal((await alice.put("default", "s.ics", body)).status, 201);
    const stored = (await alice.get("default", "s.ics")).body;
    assert.equal(param(attendeeLine(stored, `${server.url}/principals/nobody/`), "SCHEDULE-STATUS"), "3.7");
    assert.equal(param(attendeeLine(stored, "mailto:outsider@example.org"), "SCHEDULE-STATUS"), "5.1");
    assert.equal(param(attendeeLine(stored, `${server.url}/principals/carol/`), "SCHEDULE-STATUS"), "1.2");
    assert.equal(param(attendeeLine(stored, "mailto:bob@example.com"), "SCHEDULE-STATUS"), undefined);
    assert.equal(await copyOf(bob, uid), undefined, "SCHEDULE-AGENT=CLIENT: the client schedules bob");
    assert.ok(await copyOf(carol, uid), "carol, addressed by her principal URL, got it");

    // Stored again unchanged: nothing is sent; with SCHEDULE-FORCE-SEND=REQUEST it is sent again.
    const before = (await inboxMessages(carol, uid)).length;
    assert.equal((await alice.put("default", "s.ics", body)).status, 204);
    assert.equal((await inboxMessages(carol, uid)).length, before);
    const forced = body.replace(
      `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:${server.url}/principals/carol/`,
      `ATTENDEE;PARTSTAT=NEEDS-ACTION;SCHEDULE-FORCE-SEND=REQUEST:${server.url}/principals/carol/`,
    );
    assert.notEqual(forced, body);
    assert.equal(
      (
        await alice.put(
          "default",
          "s.ics",
          forced.replace("DTSTAMP:20270101T000000Z", "DTSTAMP:20270101T000001Z"),
        )
      ).status,
      204,
    );
    assert.doesNotMatch(
      (await alice.get("default", "s.ics")).body,
      /SCHEDULE-FORCE-SEND/,
      "§7.3: the parameter is not stored",
    );
  });

  it("§3.2.4.2: the organizer of a scheduled meeting cannot be changed by the organizer's PUT (allowed-organizer-scheduling-object-change)", async () => {
    assert.equal(
      (
        await alice.put(
          "default",
          "org.ics",
          meeting("meet-org", { "mailto:bob@example.com": "NEEDS-ACTION" }),
        )
      ).status,
      201,
    );
    const other = meeting("meet-org", { "mailto:bob@example.com": "NEEDS-ACTION" }).replace(
      "ORGANIZER;CN=Alice:mailto:alice@example.com",
      `ORGANIZER:${server.url}/principals/bob/`,
    );
    const res = await alice.put("default", "org.ics", other);
    assert.equal(res.status, 403, res.body);
    assert.equal(davError(res).name, cal("allowed-organizer-scheduling-object-change"));
    assert.match(
      (await alice.get("default", "org.ics")).body,
      /ORGANIZER;CN=Alice:mailto:alice@example\.com/,
    );
  });

  it("§3.2.9: a delivery that fails does not undo the organizer's write; the attendee's SCHEDULE-STATUS says why (5.3: no calendar takes it)", async () => {
    // carol has no calendar for events any more.
    assert.equal((await carol.delete("/calendars/carol/default/")).status, 204);
    const res = await alice.put(
      "default",
      "nocal.ics",
      meeting("meet-nocal", {
        "mailto:carol@example.com": "NEEDS-ACTION",
        "mailto:bob@example.com": "NEEDS-ACTION",
      }),
    );
    assert.equal(res.status, 201, res.body);
    const stored = (await alice.get("default", "nocal.ics")).body;
    assert.equal(param(attendeeLine(stored, "mailto:carol@example.com"), "SCHEDULE-STATUS"), "5.3");
    assert.equal(param(attendeeLine(stored, "mailto:bob@example.com"), "SCHEDULE-STATUS"), "1.2");
    assert.ok(await copyOf(bob, "meet-nocal"), "bob's delivery went through");
    await carol.newCalendar("default");
  });

  it("§3.2.1: a retried PUT (the same body again) delivers once: one inbox message, one change to the attendee's calendar", async () => {
    const uid = "meet-retry";
    const body = meeting(uid, { "mailto:bob@example.com": "NEEDS-ACTION" });
    const seq = (await bob.collection("default"))!.seq;
    const inboxSeq = (await bob.collection("inbox"))!.seq;
    const [first, second] = [
      await alice.put("default", "r.ics", body),
      await alice.put("default", "r.ics", body),
    ];
    assert.deepEqual([first.status, second.status], [201, 204]);
    // And the same PUT twice at once.
    await Promise.all([
      alice.put("default", "r2.ics", meeting("meet-retry-2", { "mailto:bob@example.com": "NEEDS-ACTION" })),
      alice.put("default", "r2.ics", meeting("meet-retry-2", { "mailto:bob@example.com": "NEEDS-ACTION" })),
    ]);
    assert.equal((await inboxMessages(bob, uid)).length, 1);
    assert.equal((await inboxMessages(bob, "meet-retry-2")).length, 1);
    assert.equal((await bob.collection("default"))!.seq, seq + 2, "one change per meeting in bob's calendar");
    assert.equal((await bob.collection("inbox"))!.seq, inboxSeq + 2);
  });
});

describe("RFC 6638 §5: free-busy through the outbox", () => {
  it("§5.1: a VFREEBUSY REQUEST answers each user's busy time (opaque calendars, not TRANSPARENT events) and 3.7 for an unknown address", async () => {
    const day = (h: number) => `20270601T${String(h).padStart(2, "0")}0000Z`;
    const ev = (uid: string, s: number, e: number, extra: string[] = []) =>
      vcalendar(
        "BEGIN:VEVENT",
        `UID:${uid}`,
        "DTSTAMP:20270101T000000Z",
        `DTSTART:${day(s)}`,
        `DTEND:${day(e)}`,
        ...extra,
        "END:VEVENT",
      );
    assert.equal((await alice.put("default", "fb-a.ics", ev("fb-a", 8, 9))).status, 201);
    assert.equal((await bob.put("default", "fb-b.ics", ev("fb-b", 10, 11))).status, 201);
    assert.equal(
      (await bob.put("default", "fb-b2.ics", ev("fb-b2", 12, 13, ["TRANSP:TRANSPARENT"]))).status,
      201,
    );
    await carol.newCalendar("holidays");
    const transp = await carol.req("PROPPATCH", carol.calHref("holidays"), {
      headers: { "content-type": "application/xml" },
      body: `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>`,
    });
    assert.equal(transp.status, 207);
    assert.equal((await carol.put("holidays", "fb-c.ics", ev("fb-c", 0, 23))).status, 201);
    assert.equal(
      (await carol.put("default", "fb-c2.ics", ev("fb-c2", 14, 16, ["STATUS:TENTATIVE"]))).status,
      201,
    );

    const request = vcalendar(
      "METHOD:REQUEST",
      "BEGIN:VFREEBUSY",
      "UID:fb-req-1",
      "DTSTAMP:20270101T000000Z",
      `DTSTART:${day(0)}`,
      "DTEND:20270602T000000Z",
      "ORGANIZER:mailto:alice@example.com",
      "ATTENDEE:mailto:alice@example.com",
      "ATTENDEE:mailto:bob@example.com",
      "ATTENDEE:mailto:carol@example.com",
      "ATTENDEE:mailto:stranger@example.org",
      "END:VFREEBUSY",
    );
    const res = await alice.req("POST", "/calendars/alice/outbox/", {
      body: request,
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(res.status, 200, res.body);
    const root = parseXml(res.body);
    assert.equal(root.name, cal("schedule-response"));
    const byRecipient = new Map<string, XmlElement>();
    for (const r of root.children.filter((c) => c.name === cal("response"))) {
      byRecipient.set(hrefsIn(r.children.find((c) => c.name === cal("recipient"))!)[0], r);
    }
    const reply = (a: string) => {
      const r = byRecipient.get(a)!;
      assert.match(r.children.find((c) => c.name === cal("request-status"))!.text, /^2\.0/);
      return r.children.find((c) => c.name === cal("calendar-data"))!.text;
    };
    assert.match(
      reply("mailto:alice@example.com"),
      /FREEBUSY;FBTYPE=BUSY:20270601T080000Z\/20270601T090000Z/,
    );
    const b = reply("mailto:bob@example.com");
    assert.match(b, /METHOD:REPLY/);
    assert.match(b, /FREEBUSY;FBTYPE=BUSY:20270601T100000Z\/20270601T110000Z/);
    assert.doesNotMatch(b, /T120000Z/, "a TRANSPARENT event is free time");
    const c = reply("mailto:carol@example.com");
    assert.match(c, /FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270601T140000Z\/20270601T160000Z/);
    assert.doesNotMatch(c, /T000000Z\/20270601T230000Z/, "a transparent calendar is free time");
    assert.match(
      byRecipient.get("mailto:stranger@example.org")!.children.find((x) => x.name === cal("request-status"))!
        .text,
      /^3\.7/,
    );

    const notMine = await bob.req("POST", "/calendars/bob/outbox/", {
      body: request,
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(notMine.status, 403);
    assert.equal(davError(notMine).name, cal("organizer-allowed"));
    const bad = await alice.req("POST", "/calendars/alice/outbox/", {
      body: "BEGIN:VCALENDAR\r\nnot\r\n",
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(bad.status, 403);
    const other = await bob.req("POST", "/calendars/alice/outbox/", {
      body: request,
      headers: { "content-type": "text/calendar" },
    });
    assert.ok([403, 404].includes(other.status), `another user's outbox: ${other.status}`);
  });
});
