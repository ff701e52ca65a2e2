/**
 * How copies of a meeting evolve (RFC 6638 §3.2, RFC 5546): alarms stay each user's own,
 * single-instance answers survive updates and reach the organizer, representations a client
 * rewrites (DTEND as DURATION) are not taken for changes, answers are never undone by a stale
 * organizer copy, a move asks everyone again, concurrent replies all land, and hostile addresses
 * get a status instead of a 500.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cal } from "../../lib/xml/names.js";
import { CalClient, davError, vcalendar } from "../helpers/ical.js";
import { PASSWORDS, startTestServer } from "../helpers/server.js";
import { propfindBody, parseMultistatus } from "../helpers/xml.js";
import { dav } from "../../lib/xml/names.js";

const GUESTS = ["bob", "carol", "dave", "erin", "frank"];
for (const g of GUESTS.slice(1)) PASSWORDS[g] = `${g}-pw`;
const server = await startTestServer();
const alice = new CalClient(server, "alice");
const clients = Object.fromEntries(GUESTS.map((g) => [g, new CalClient(server, g)]));
for (const c of [alice, ...Object.values(clients)])
  await c.req("PROPFIND", `/calendars/${c.user}/`, { headers: { depth: "0" } });
const bob = clients.bob;

const unfold = (t: string) => t.replace(/\r?\n[ \t]/g, "");
const lines = (t: string) => unfold(t).split(/\r?\n/);

function weekly(
  uid: string,
  attendees: string[],
  o: { extra?: string[]; start?: string; description?: string } = {},
) {
  return vcalendar(
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20270101T000000Z",
    `DTSTART:${o.start ?? "20270104T100000Z"}`,
    "DTEND:20270104T110000Z",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "SUMMARY:Weekly",
    ...(o.description ? [`DESCRIPTION:${o.description}`] : []),
    "ORGANIZER:mailto:alice@example.com",
    ...attendees.map((a) => `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a}@example.com`),
    ...(o.extra ?? []),
    "END:VEVENT",
  );
}

async function copyOf(c: CalClient, uid: string) {
  const res = await c.req("PROPFIND", c.calHref("default"), {
    headers: { depth: "1", "content-type": "application/xml" },
    body: propfindBody([dav("getetag")]),
  });
  for (const r of parseMultistatus(res.body)) {
    if (r.href.endsWith("/")) continue;
    const got = await c.req("GET", r.href);
    if (unfold(got.body).includes(`\r\nUID:${uid}\r\n`))
      return { href: r.href, body: got.body, stag: got.headers.get("schedule-tag") };
  }
  return undefined;
}

/** The attendee's line, edited: PARTSTAT set. */
function withAnswer(text: string, email: string, partstat: string) {
  return lines(text)
    .map((l) =>
      l.startsWith("ATTENDEE") && l.endsWith(`:mailto:${email}`)
        ? l.replace(/PARTSTAT=[A-Z-]+/, `PARTSTAT=${partstat}`)
        : l,
    )
    .join("\r\n");
}
const answerIn = (text: string, email: string, rid?: string) => {
  const blocks = unfold(text).split("BEGIN:VEVENT").slice(1);
  const block = blocks.find((b) => (rid ? b.includes(`RECURRENCE-ID:${rid}`) : !b.includes("RECURRENCE-ID")));
  const line = block?.split(/\r?\n/).find((l) => l.startsWith("ATTENDEE") && l.endsWith(`:mailto:${email}`));
  return line ? /PARTSTAT=([A-Z-]+)/.exec(line)?.[1] : undefined;
};

describe("copies of a meeting over its life", () => {
  it("RFC 5546 §3.2.2: the organizer's alarms are not put on attendees' devices; an attendee's own alarm survives updates, once", async () => {
    const alarm = [
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "DESCRIPTION:Organizer's reminder",
      "TRIGGER:-PT15M",
      "END:VALARM",
    ];
    const body = weekly("al-1", ["bob"], { extra: alarm });
    assert.equal((await alice.put("default", "al.ics", body)).status, 201);
    let copy = (await copyOf(bob, "al-1"))!;
    assert.doesNotMatch(copy.body, /Organizer's reminder/);
    // bob adds his own alarm.
    const mine = unfold(copy.body).replace(
      "END:VEVENT",
      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Bob's\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT",
    );
    assert.equal(
      (await bob.req("PUT", copy.href, { body: mine, headers: { "content-type": "text/calendar" } })).status,
      204,
    );
    for (const d of ["first", "second"]) {
      assert.equal(
        (await alice.put("default", "al.ics", weekly("al-1", ["bob"], { extra: alarm, description: d })))
          .status,
        204,
      );
    }
    copy = (await copyOf(bob, "al-1"))!;
    assert.match(copy.body, /DESCRIPTION:second/);
    assert.equal(unfold(copy.body).match(/BEGIN:VALARM/g)?.length, 1, copy.body);
    assert.match(copy.body, /DESCRIPTION:Bob's/);
  });

  it("§3.2.2.1, §3.2.2.3: an attendee may decline one instance by an EXDATE or an override; the organizer's copy shows that instance declined, and the attendee's override survives the organizer's next update", async () => {
    assert.equal((await alice.put("default", "ex.ics", weekly("ex-1", ["bob", "carol"]))).status, 201);
    // bob: EXDATE on the second week (Thunderbird and Apple do this when one occurrence is deleted).
    const b = (await copyOf(bob, "ex-1"))!;
    const exdated = withAnswer(b.body, "bob@example.com", "ACCEPTED").replace(
      "RRULE:FREQ=WEEKLY;COUNT=4",
      "RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE:20270111T100000Z",
    );
    const r1 = await bob.req("PUT", b.href, { body: exdated, headers: { "content-type": "text/calendar" } });
    assert.equal(r1.status, 204, r1.body);
    let org = (await alice.get("default", "ex.ics")).body;
    assert.equal(answerIn(org, "bob@example.com"), "ACCEPTED");
    assert.equal(answerIn(org, "bob@example.com", "20270111T100000Z"), "DECLINED");
    // carol: an override of the third week, declined.
    const c = (await copyOf(clients.carol, "ex-1"))!;
    const override = [
      "BEGIN:VEVENT",
      "UID:ex-1",
      "DTSTAMP:20270101T000000Z",
      "RECURRENCE-ID:20270118T100000Z",
      "DTSTART:20270118T100000Z",
      "DTEND:20270118T110000Z",
      "SUMMARY:Weekly",
      "ORGANIZER:mailto:alice@example.com",
      "ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.com",
      "END:VEVENT",
    ].join("\r\n");
    const withOverride = unfold(c.body).replace("END:VCALENDAR", `${override}\r\nEND:VCALENDAR`);
    assert.equal(
      (
        await clients.carol.req("PUT", c.href, {
          body: withOverride,
          headers: { "content-type": "text/calendar" },
        })
      ).status,
      204,
    );
    org = (await alice.get("default", "ex.ics")).body;
    assert.equal(answerIn(org, "carol@example.com", "20270118T100000Z"), "DECLINED");
    assert.equal(answerIn(org, "carol@example.com"), "NEEDS-ACTION");
    // The organizer changes the description (not the time): carol's override stays in her copy.
    assert.equal(
      (await alice.put("default", "ex.ics", weekly("ex-1", ["bob", "carol"], { description: "agenda" })))
        .status,
      204,
    );
    const after = (await copyOf(clients.carol, "ex-1"))!.body;
    assert.match(after, /DESCRIPTION:agenda/);
    assert.equal(answerIn(after, "carol@example.com", "20270118T100000Z"), "DECLINED");
  });

  it("§3.2.2.1: DTEND written as DURATION by the attendee's client is the same meeting, not a change of the organizer's", async () => {
    assert.equal((await alice.put("default", "du.ics", weekly("du-1", ["bob"]))).status, 201);
    const b = (await copyOf(bob, "du-1"))!;
    const rewritten = withAnswer(b.body, "bob@example.com", "TENTATIVE").replace(
      "DTEND:20270104T110000Z",
      "DURATION:PT1H",
    );
    const res = await bob.req("PUT", b.href, {
      body: rewritten,
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(res.status, 204, res.body);
    assert.equal(answerIn((await alice.get("default", "du.ics")).body, "bob@example.com"), "TENTATIVE");
    const moved = withAnswer(b.body, "bob@example.com", "TENTATIVE").replace(
      "DTEND:20270104T110000Z",
      "DURATION:PT2H",
    );
    const refused = await bob.req("PUT", b.href, {
      body: moved,
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(refused.status, 403);
    assert.equal(davError(refused).name, cal("allowed-attendee-scheduling-object-change"));
  });

  it("§3.2.10: an organizer's client storing the copy it read before a reply does not undo the reply; moving the meeting asks everyone again", async () => {
    const first = weekly("st-1", ["bob"]);
    assert.equal((await alice.put("default", "st.ics", first)).status, 201);
    const b = (await copyOf(bob, "st-1"))!;
    assert.equal(
      (
        await bob.req("PUT", b.href, {
          body: withAnswer(b.body, "bob@example.com", "ACCEPTED"),
          headers: { "content-type": "text/calendar" },
        })
      ).status,
      204,
    );
    // alice's client still has the version from before bob's answer, and changes the description.
    assert.equal(
      (await alice.put("default", "st.ics", weekly("st-1", ["bob"], { description: "room 2" }))).status,
      204,
    );
    let org = (await alice.get("default", "st.ics")).body;
    assert.match(org, /DESCRIPTION:room 2/);
    assert.equal(answerIn(org, "bob@example.com"), "ACCEPTED", "bob's answer stands");
    // Moving the meeting: bob must answer again, in both copies.
    assert.equal(
      (await alice.put("default", "st.ics", weekly("st-1", ["bob"], { start: "20270105T100000Z" }))).status,
      204,
    );
    org = (await alice.get("default", "st.ics")).body;
    assert.equal(answerIn(org, "bob@example.com"), "NEEDS-ACTION");
    assert.equal(answerIn((await copyOf(bob, "st-1"))!.body, "bob@example.com"), "NEEDS-ACTION");
  });

  it("§3.2.2: five attendees answering at the same moment all reach the organizer's copy", async () => {
    assert.equal((await alice.put("default", "many.ics", weekly("many-1", GUESTS))).status, 201);
    const copies = await Promise.all(
      GUESTS.map(async (g) => ({ g, copy: (await copyOf(clients[g], "many-1"))! })),
    );
    const res = await Promise.all(
      copies.map(({ g, copy }) =>
        clients[g].req("PUT", copy.href, {
          body: withAnswer(copy.body, `${g}@example.com`, "ACCEPTED"),
          headers: { "content-type": "text/calendar" },
        }),
      ),
    );
    assert.deepEqual(
      res.map((r) => r.status),
      GUESTS.map(() => 204),
    );
    const org = (await alice.get("default", "many.ics")).body;
    for (const g of GUESTS) assert.equal(answerIn(org, `${g}@example.com`), "ACCEPTED", g);
  });

  it("hostile addresses: a 2 KB mailto, an address list and an empty value get a status, never a 500, and no delivery", async () => {
    const long = `mailto:${"a".repeat(2000)}@example.com`;
    const body = vcalendar(
      "BEGIN:VEVENT",
      "UID:hostile-1",
      "DTSTAMP:20270101T000000Z",
      "DTSTART:20270301T100000Z",
      "DTEND:20270301T110000Z",
      "ORGANIZER:mailto:alice@example.com",
      `ATTENDEE:${long}`,
      "ATTENDEE:mailto:bob@example.com,carol@example.com",
      "ATTENDEE:mailto:",
      "END:VEVENT",
    );
    const res = await alice.put("default", "hostile.ics", body);
    assert.equal(res.status, 201, res.body);
    const stored = unfold((await alice.get("default", "hostile.ics")).body);
    for (const l of lines(stored).filter((x) => x.startsWith("ATTENDEE")))
      assert.match(l, /SCHEDULE-STATUS=3\.7/, l);
    assert.equal(await copyOf(clients.carol, "hostile-1"), undefined);
    // A long ORGANIZER is no one's: stored as a plain event, nothing scheduled.
    const r2 = await alice.put(
      "default",
      "hostile2.ics",
      body
        .replace("ORGANIZER:mailto:alice@example.com", `ORGANIZER:${long}`)
        .replace("UID:hostile-1", "UID:hostile-2"),
    );
    assert.equal(r2.status, 201, r2.body);
    // Free-busy over more than a year is refused with the reason.
    const fb = vcalendar(
      "METHOD:REQUEST",
      "BEGIN:VFREEBUSY",
      "UID:fb-long",
      "DTSTAMP:20270101T000000Z",
      "DTSTART:20270101T000000Z",
      "DTEND:20290101T000000Z",
      "ORGANIZER:mailto:alice@example.com",
      "ATTENDEE:mailto:bob@example.com",
      "END:VFREEBUSY",
    );
    const post = await alice.req("POST", "/calendars/alice/outbox/", {
      body: fb,
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(post.status, 403);
    assert.equal(davError(post).name, cal("valid-scheduling-message"));
  });
});
