/**
 * Bulk import as a task, against DynamoDB Local: POST of a whole file to a calendar or address book
 * (202 and /tasks/<id>), one running task per collection (409 naming it), a worker that dies (its
 * lease runs out; the next import takes over and finishes idempotently), per-UID errors, cancel
 * (RFC 5789 PATCH with a JSON merge patch), and the real-world fixtures imported as one file.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { MODULES } from "../../lib/server.js";
import { getCollection } from "../../lib/store/collections.js";
import { getTask, startTask } from "../../lib/store/tasks.js";
import { getUser } from "../../lib/store/users.js";
import { memberName, runImport } from "../../lib/tasks/import.js";
import { Registry } from "../../lib/webdav/registry.js";
import { BERLIN_VTIMEZONE } from "../helpers/ical.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const CRLF = (lines: string[]) => lines.join("\r\n") + "\r\n";

/**
 * A calendar file of `uids` UIDs: every fourth a weekly series with one overridden instance (two
 * VEVENTs sharing the UID), all in Europe/Berlin, which one VTIMEZONE serves; the rest in UTC.
 */
function calendarFile(uids: number, prefix: string, broken: number[] = []): { text: string; events: number } {
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lambda-dav//import test//EN", "METHOD:PUBLISH"];
  lines.push(...BERLIN_VTIMEZONE);
  let events = 0;
  for (let i = 0; i < uids; i++) {
    const uid = `${prefix}-${i}@example.com`;
    const day = String(1 + (i % 28)).padStart(2, "0");
    if (broken.includes(i)) {
      // A DTSTART that is no date: refused as a PUT would refuse it, without harm to the rest of the file.
      lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z", "DTSTART:not-a-date");
      lines.push("SUMMARY:broken", "END:VEVENT");
      events++;
    } else if (i % 4 === 0) {
      lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z");
      lines.push(
        `DTSTART;TZID=Europe/Berlin:202603${day}T090000`,
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;COUNT=10",
      );
      lines.push(`SUMMARY:Series ${i}`, "END:VEVENT");
      lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z");
      lines.push(`RECURRENCE-ID;TZID=Europe/Berlin:202603${day}T090000`);
      lines.push(
        `DTSTART;TZID=Europe/Berlin:202603${day}T110000`,
        "DURATION:PT1H",
        `SUMMARY:Moved ${i}`,
        "END:VEVENT",
      );
      events += 2;
    } else {
      lines.push("BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `DTSTART:202603${day}T100000Z`);
      lines.push("DURATION:PT30M", `SUMMARY:Event ${i}`, "END:VEVENT");
      events++;
    }
  }
  lines.push("END:VCALENDAR");
  return { text: CRLF(lines), events };
}

async function post(server: TestServer, path: string, body: string, type = "text/calendar", query = "") {
  return server.request("POST", `${path}${query}`, { headers: { "content-type": type }, body });
}

/** Poll the task until it ended. */
async function settle(server: TestServer, location: string, user = "alice") {
  for (let i = 0; i < 1200; i++) {
    const res = await server.request("GET", location, { user });
    const task = JSON.parse(res.body);
    if (task.state !== "running") return task;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${location} did not end`);
}

/** UID → number of components with it, in a calendar's export (GET on the calendar). */
async function exported(server: TestServer, path: string): Promise<Map<string, number>> {
  const res = await server.request("GET", path);
  assert.equal(res.status, 200);
  const counts = new Map<string, number>();
  for (const m of res.body.matchAll(/^UID:(.*)\r$/gm)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  return counts;
}

describe("POST of a whole file: an import task (202, /tasks/<id>)", async () => {
  const server = await startTestServer();

  it("5,000 events (4,000 UIDs: series with overrides sharing their UID, one shared VTIMEZONE) land once per UID and export equal; a second import meanwhile → 409 naming the running task; importing again skips all", async () => {
    await server.request("MKCOL", "/calendars/alice/big/", {
      headers: { "content-type": "application/xml" },
      body: `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`,
    });
    const file = calendarFile(4000, "big");
    assert.equal(file.events, 5000);
    const started = await post(server, "/calendars/alice/big/", file.text);
    assert.equal(started.status, 202, started.body);
    const location = started.headers.get("location")!;
    assert.match(location, /^\/tasks\/[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(started.body).state, "running");
    const second = await post(server, "/calendars/alice/big/", file.text);
    assert.equal(second.status, 409);
    assert.match(second.headers.get("content-type") ?? "", /^application\/json/);
    const conflict = JSON.parse(second.body);
    assert.equal(conflict.code, "TaskConflict");
    assert.equal(conflict.task, "import");
    assert.equal(`/tasks/${conflict.runningTaskId}`, location);
    assert.equal(second.headers.get("location"), location);
    // Someone else's task does not exist for them.
    assert.equal((await server.request("GET", location, { user: "bob" })).status, 404);
    const task = await settle(server, location);
    assert.deepEqual(
      {
        state: task.state,
        created: task.created,
        failed: task.failed,
        total: task.total,
        errors: task.errors,
      },
      { state: "done", created: 4000, failed: 0, total: 4000, errors: [] },
    );
    const counts = await exported(server, "/calendars/alice/big/");
    assert.equal(counts.size, 4000);
    for (let i = 0; i < 4000; i++)
      assert.equal(counts.get(`big-${i}@example.com`), i % 4 === 0 ? 2 : 1, `UID ${i}`);
    const one = await server.request(
      "GET",
      `/calendars/alice/big/${memberName("big-0@example.com", ".ics")}`,
    );
    assert.equal(one.status, 200);
    assert.equal(one.body.match(/^BEGIN:VTIMEZONE/gm)?.length, 1);
    assert.doesNotMatch(one.body, /^METHOD:/m);
    const again = await settle(
      server,
      (await post(server, "/calendars/alice/big/", file.text)).headers.get("location")!,
    );
    assert.deepEqual([again.state, again.created, again.skipped], ["done", 0, 4000]);
  });

  it("objects that fail validation are reported by UID (the first 100) and the rest land; on-conflict=fail reports existing UIDs, replace rewrites them", async () => {
    const file = calendarFile(30, "mixed", [3, 7]);
    const task = await settle(
      server,
      (await post(server, "/calendars/alice/default/", file.text)).headers.get("location")!,
    );
    assert.equal(task.state, "done");
    assert.equal(task.created, 28);
    assert.equal(task.failed, 2);
    assert.deepEqual(
      task.errors.map((e: { uid: string }) => e.uid),
      ["mixed-3@example.com", "mixed-7@example.com"],
    );
    assert.ok(task.errors.every((e: { reason: string }) => e.reason.length > 10));
    const failing = await settle(
      server,
      (
        await post(server, "/calendars/alice/default/", file.text, "text/calendar", "?on-conflict=fail")
      ).headers.get("location")!,
    );
    assert.equal(failing.failed, 30);
    const changed = file.text.replaceAll("SUMMARY:Event 1\r", "SUMMARY:Event one\r");
    const replacing = await settle(
      server,
      (
        await post(server, "/calendars/alice/default/", changed, "text/calendar", "?on-conflict=replace")
      ).headers.get("location")!,
    );
    assert.equal(replacing.updated, 28);
    const got = await server.request(
      "GET",
      `/calendars/alice/default/${memberName("mixed-1@example.com", ".ics")}`,
    );
    assert.match(got.body, /SUMMARY:Event one/);
  });

  it("an address book imports a .vcf of many cards; a wrong media type → 415, a bad on-conflict → 400, a POST to a folder → 405 (JSON)", async () => {
    const cards = Array.from({ length: 12 }, (_, i) =>
      CRLF([
        "BEGIN:VCARD",
        "VERSION:3.0",
        `UID:card-${i}`,
        `FN:Person ${i}`,
        `N:${i};Person;;;`,
        "END:VCARD",
      ]),
    ).join("");
    const task = await settle(
      server,
      (await post(server, "/addressbooks/alice/default/", cards, "text/vcard")).headers.get("location")!,
    );
    assert.deepEqual([task.state, task.created, task.total], ["done", 12, 12]);
    assert.equal((await server.request("GET", "/addressbooks/alice/default/card-5.vcf")).status, 200);
    const wrong = await post(server, "/addressbooks/alice/default/", cards, "text/calendar");
    assert.equal(wrong.status, 415);
    assert.equal(JSON.parse(wrong.body).code, "UnsupportedMediaType");
    assert.equal(
      (await post(server, "/calendars/alice/default/", "x", "text/calendar", "?on-conflict=maybe")).status,
      400,
    );
    assert.equal((await post(server, "/files/alice/", "x", "text/calendar")).status, 405);
  });

  it("the real-world fixtures (test/fixtures/ical) imported as one file: the task ends done, every object is counted once, each refusal has a reason, and UIDs found in one fixture only land as their file's outcome says", async () => {
    await server.request("MKCALENDAR", "/calendars/alice/fixtures/");
    const dir = new URL("../fixtures/", import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8")) as {
      files: { file: string; expect: string }[];
    };
    const texts = readdirSync(new URL("ical/", dir))
      .filter((f) => f.endsWith(".ics"))
      .map((f) => ({ file: `ical/${f}`, text: readFileSync(new URL(`ical/${f}`, dir), "utf8") }));
    const task = await settle(
      server,
      (await post(server, "/calendars/alice/fixtures/", texts.map((t) => t.text).join("\r\n"))).headers.get(
        "location",
      )!,
    );
    assert.equal(task.state, "done", JSON.stringify(task.errors));
    assert.ok(task.total > 60, `total ${task.total}`);
    assert.equal(task.created + task.updated + task.skipped + task.failed, task.total);
    assert.ok(
      task.errors.every((e: { reason: string }) => !/internal/i.test(e.reason)),
      JSON.stringify(task.errors),
    );
    const uidsOf = (text: string) => new Set([...text.matchAll(/^UID:(.*?)\r?$/gm)].map((m) => m[1].trim()));
    const owners = new Map<string, string[]>();
    for (const t of texts)
      for (const uid of uidsOf(t.text)) owners.set(uid, [...(owners.get(uid) ?? []), t.file]);
    let checked = 0;
    for (const entry of manifest.files.filter((e) => e.expect === "accept" && e.file.startsWith("ical/"))) {
      const text = texts.find((t) => t.file === entry.file)?.text ?? "";
      const uids = [...uidsOf(text)].filter((u) => owners.get(u)?.length === 1 && !/[\s;,]/.test(u));
      for (const uid of uids) {
        const res = await server.request(
          "GET",
          `/calendars/alice/fixtures/${encodeURIComponent(memberName(uid, ".ics"))}`,
        );
        assert.equal(res.status, 200, `${entry.file}: UID ${uid}`);
        checked++;
      }
    }
    assert.ok(checked > 10, `checked ${checked}`);
  });
});

describe("RFC 5789 PATCH of a task: cancel", async () => {
  const server = await startTestServer();
  const patch = (location: string, body: string, headers: Record<string, string> = {}) =>
    server.request("PATCH", location, {
      headers: { "content-type": "application/merge-patch+json", ...headers },
      body,
    });

  it("cancel while running stops it after the object in flight (200, state cancelled; the collection is free again); after it ended → 409 TaskEnded naming the state; a stale If-Match → 412; another format → 415; bad JSON → 400; another change → 422", async () => {
    // A server of its own: the first login's calendar was made in another test's table, so make one here.
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/work/")).status, 201);
    const file = calendarFile(3000, "cancel");
    const started = await post(server, "/calendars/alice/work/", file.text);
    assert.equal(started.status, 202, started.body);
    const location = started.headers.get("location")!;
    assert.equal((await patch(location, "{", {})).status, 400);
    assert.equal((await patch(location, '{"state":"done"}')).status, 422);
    const json = await server.request("PATCH", location, {
      headers: { "content-type": "application/json" },
      body: '{"state":"cancelled"}',
    });
    assert.equal(json.status, 415);
    assert.equal(json.headers.get("accept-patch"), "application/merge-patch+json");
    assert.equal((await patch(location, '{"state":"cancelled"}', { "if-match": '"stale-1"' })).status, 412);
    const etag = (await server.request("GET", location)).headers.get("etag")!;
    const cancelled = await patch(location, '{"state":"cancelled"}', { "if-match": etag });
    // A progress write between the GET and the PATCH moves the ETag: then it is a 412, and a plain cancel follows.
    const answer = cancelled.status === 412 ? await patch(location, '{"state":"cancelled"}') : cancelled;
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).state, "cancelled");
    const ended = await settle(server, location);
    assert.equal(ended.state, "cancelled");
    // finished is set once the worker stopped; the lock is released then.
    for (
      let i = 0;
      i < 100 && !(await server.request("GET", location).then((r) => JSON.parse(r.body).finished));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    const final = JSON.parse((await server.request("GET", location)).body);
    assert.ok(final.finished, JSON.stringify(final));
    assert.ok(final.created < 3000, `created ${final.created}`);
    const after = await patch(location, '{"state":"cancelled"}');
    assert.equal(after.status, 409);
    assert.deepEqual(
      { code: JSON.parse(after.body).code, state: JSON.parse(after.body).state },
      { code: "TaskEnded", state: "cancelled" },
    );
    const next = await post(server, "/calendars/alice/work/", calendarFile(5, "after").text);
    assert.equal(next.status, 202);
    const done = await settle(server, next.headers.get("location")!);
    assert.equal(done.state, "done");
    const doneAgain = await patch(next.headers.get("location")!, '{"state":"cancelled"}');
    assert.equal(doneAgain.status, 409);
    assert.equal(JSON.parse(doneAgain.body).state, "done");
  });
});

describe("a worker that dies mid-task", async () => {
  const server = await startTestServer({ taskLeaseMs: 1500 });
  const registry = new Registry(MODULES);

  it("holds the collection only until its lease runs out: the next import gets 409 before, takes over after (the dead task is marked failed) and finishes idempotently; the dead worker can write no more", async () => {
    const store = server.ctx.store;
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/work/")).status, 201);
    const col = await getCollection(store, { kind: "calendar", owner: "alice", name: "work" });
    assert.ok(col, "alice's default calendar");
    const user = (await getUser(store, "alice"))!;
    const file = calendarFile(60, "crash");
    const dead = await startTask(store, {
      owner: "alice",
      kind: "import",
      col,
      onConflict: "skip",
      upload: Buffer.from(file.text),
      contentType: "text/calendar",
      leaseMs: 1500,
    });
    // The worker stops answering after 20 objects, as a crashed Lambda would; `resume` lets it go on later.
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let reached!: () => void;
    const atCrash = new Promise<void>((r) => (reached = r));
    const worker = runImport(server.ctx, registry, user, dead, {
      afterObject: async (i) => {
        if (i === 19) {
          reached();
          await paused;
        }
      },
    });
    await atCrash;
    const blocked = await post(server, "/calendars/alice/work/", file.text);
    assert.equal(blocked.status, 409);
    assert.equal(JSON.parse(blocked.body).runningTaskId, dead.id);
    await new Promise((r) => setTimeout(r, 1700));
    const taken = await post(server, "/calendars/alice/work/", file.text);
    assert.equal(taken.status, 202, taken.body);
    const task = await settle(server, taken.headers.get("location")!);
    assert.deepEqual([task.state, task.created + task.skipped, task.failed], ["done", 60, 0]);
    assert.equal(task.skipped, 20);
    const old = await getTask(store, "alice", dead.id);
    assert.equal(old?.state, "failed");
    // The dead worker wakes up: its next write fails the task guard, and it stops without a trace.
    resume();
    await worker;
    const counts = await exported(server, "/calendars/alice/work/");
    for (let i = 0; i < 60; i++) assert.equal(counts.get(`crash-${i}@example.com`), i % 4 === 0 ? 2 : 1);
    assert.equal((await getTask(store, "alice", dead.id))?.state, "failed");
  });
});

describe("review: imports that meet a deleted collection, long UIDs, odd files", async () => {
  const server = await startTestServer();

  it("the calendar deleted while its import runs: the task ends failed with the reason (never stuck running), and the name's new calendar gets nothing", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/gone/")).status, 201);
    const started = await post(server, "/calendars/alice/gone/", calendarFile(2000, "gone").text);
    assert.equal(started.status, 202);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await server.request("DELETE", "/calendars/alice/gone/")).status, 204);
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/gone/")).status, 201);
    const task = await settle(server, started.headers.get("location")!);
    assert.equal(task.state, "failed");
    assert.match(task.errors.at(-1).reason, /deleted or moved/);
    const listing = await server.request("PROPFIND", "/calendars/alice/gone/", { headers: { depth: "1" } });
    assert.equal(listing.body.match(/<D:response>/g)?.length, 1, "the new calendar is empty");
  });

  it("refused objects with huge UIDs are reported clipped, so the task record stays one item and the task ends", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/long/")).status, 201);
    const huge = (n: number) =>
      [
        "BEGIN:VEVENT",
        `UID:${String(n).repeat(60_000)}`,
        "DTSTAMP:20260101T000000Z",
        "DTSTART:not-a-date",
        "END:VEVENT",
      ].join("\r\n");
    const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n${[1, 2, 3].map(huge).join("\r\n")}\r\nEND:VCALENDAR\r\n`;
    const task = await settle(
      server,
      (await post(server, "/calendars/alice/long/", text)).headers.get("location")!,
    );
    assert.deepEqual([task.state, task.failed], ["done", 3]);
    assert.ok(task.errors.every((e: { uid: string }) => e.uid.length <= 260));
  });

  it("a VTIMEZONE with a folded TZID goes with the events that use it; one too large for an object is reported per UID, not copied into each", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/tz/")).status, 201);
    // The STANDARD block of Europe/Berlin, under other TZIDs.
    const standard = BERLIN_VTIMEZONE.slice(2, -1);
    const folded = [
      "BEGIN:VTIMEZONE",
      "TZID:Customized Time Zone For",
      // Unfolding drops the first blank of the continuation (RFC 5545 §3.1): the name keeps one.
      "  Somewhere",
      ...standard,
      "END:VTIMEZONE",
    ];
    const big = [
      "BEGIN:VTIMEZONE",
      "TZID:Big/Zone",
      ...Array.from({ length: 3000 }, (_, i) => `X-FILL-${i}:${"x".repeat(100)}`),
      ...standard,
      "END:VTIMEZONE",
    ];
    const ev = (uid: string, tz: string) => [
      "BEGIN:VEVENT",
      `UID:${uid}`,
      "DTSTAMP:20260101T000000Z",
      `DTSTART;TZID="${tz}":20260301T100000`,
      "DURATION:PT1H",
      "END:VEVENT",
    ];
    const text = CRLF([
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//t//t//EN",
      ...folded,
      ...big,
      ...ev("f1", "Customized Time Zone For Somewhere"),
      ...ev("b1", "Big/Zone"),
      ...ev("b2", "Big/Zone"),
      "END:VCALENDAR",
    ]);
    const task = await settle(
      server,
      (await post(server, "/calendars/alice/tz/", text)).headers.get("location")!,
    );
    assert.deepEqual([task.created, task.failed], [1, 2], JSON.stringify(task.errors));
    assert.deepEqual(task.errors.map((e: { uid: string }) => e.uid).sort(), ["b1", "b2"]);
    const f1 = await server.request("GET", "/calendars/alice/tz/f1.ics");
    assert.match(f1.body, /TZID:Customized Time Zone For\r\n {2}Somewhere/);
  });

  it("a .vcf whose card lacks END:VCARD: that card is refused by itself and the next one still lands", async () => {
    const cards = [
      CRLF(["BEGIN:VCARD", "VERSION:3.0", "UID:open-1", "FN:Open", "N:Open;;;;"]),
      CRLF(["BEGIN:VCARD", "VERSION:3.0", "UID:closed-2", "FN:Closed", "N:Closed;;;;", "END:VCARD"]),
    ].join("");
    const made = await server.request("MKCOL", "/addressbooks/alice/book/", {
      headers: { "content-type": "application/xml" },
      body: `<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
    });
    assert.equal(made.status, 201, made.body);
    const task = await settle(
      server,
      (await post(server, "/addressbooks/alice/book/", cards, "text/vcard")).headers.get("location")!,
    );
    assert.deepEqual([task.total, task.created, task.failed], [2, 1, 1]);
    assert.equal((await server.request("GET", "/addressbooks/alice/book/closed-2.vcf")).status, 200);
  });
});

describe("review: the task endpoint's edges", async () => {
  const server = await startTestServer();

  it("OPTIONS on a task names its methods and Accept-Patch (RFC 5789 §3.1) without a login; an empty merge patch changes nothing (RFC 7396); a file with nothing to import → 400 before any task", async () => {
    const options = await server.request("OPTIONS", "/tasks/00000000-0000-0000-0000-000000000000", {
      user: null,
    });
    assert.equal(options.status, 200);
    assert.equal(options.headers.get("allow"), "OPTIONS, GET, HEAD, PATCH");
    assert.equal(options.headers.get("accept-patch"), "application/merge-patch+json");
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/edges/")).status, 201);
    const nothing = await post(server, "/calendars/alice/edges/", "this is not a calendar\r\n");
    assert.equal(nothing.status, 400);
    assert.equal(JSON.parse(nothing.body).code, "UnreadableFile");
    const started = await post(server, "/calendars/alice/edges/", calendarFile(3, "edges").text);
    const location = started.headers.get("location")!;
    const done = await settle(server, location);
    const empty = await server.request("PATCH", location, {
      headers: { "content-type": "application/merge-patch+json" },
      body: "{}",
    });
    assert.equal(empty.status, 200);
    assert.equal(JSON.parse(empty.body).state, done.state);
  });
});

describe("an export task (POST ?task=export), for a collection larger than one GET answers", async () => {
  const server = await startTestServer({ maxResponseBytes: 20_000 });

  it("the GET is refused (507), the export task writes the calendar in parts that join into the whole file; while it or an import runs the other is refused (409)", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/out/")).status, 201);
    const file = calendarFile(2500, "out");
    const imported = await settle(
      server,
      (await post(server, "/calendars/alice/out/", file.text)).headers.get("location")!,
    );
    assert.equal(imported.created, 2500);
    assert.equal((await server.request("GET", "/calendars/alice/out/")).status, 507);
    const started = await server.request("POST", "/calendars/alice/out/?task=export");
    assert.equal(started.status, 202, started.body);
    const blocked = await post(server, "/calendars/alice/out/", file.text);
    assert.equal(blocked.status, 409);
    assert.equal(JSON.parse(blocked.body).task, "export");
    const task = await settle(server, started.headers.get("location")!);
    assert.equal(task.state, "done");
    assert.equal(task.kind, "export");
    assert.ok(task.result.length >= 2, `${task.result.length} parts`);
    const parts = [];
    for (const href of task.result) {
      const res = await server.request("GET", href);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/calendar/);
      parts.push(res.body);
    }
    const whole = parts.join("");
    assert.equal(whole.match(/^BEGIN:VCALENDAR\r$/gm)?.length, 1);
    assert.equal(whole.match(/^END:VCALENDAR\r$/gm)?.length, 1);
    assert.equal(whole.match(/^BEGIN:VEVENT\r$/gm)?.length, file.events);
    assert.equal(whole.match(/^BEGIN:VTIMEZONE\r$/gm)?.length, 1);
    assert.equal(
      (await server.request("GET", `${started.headers.get("location")}/result/${task.result.length}`)).status,
      404,
    );
    assert.equal((await server.request("GET", task.result[0], { user: "bob" })).status, 404);
  });
});

describe("review: export parts stay one item each", async () => {
  const server = await startTestServer();

  it("an address book of large cards is exported in parts of at most 300 KB or one card", async () => {
    const made = await server.request("MKCOL", "/addressbooks/alice/photos/", {
      headers: { "content-type": "application/xml" },
      body: `<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
    });
    assert.equal(made.status, 201);
    const photo = "A".repeat(150_000);
    for (let i = 0; i < 5; i++) {
      const card = CRLF([
        "BEGIN:VCARD",
        "VERSION:3.0",
        `UID:photo-${i}`,
        `FN:P ${i}`,
        `N:${i};P;;;`,
        `NOTE:${photo}`,
        "END:VCARD",
      ]);
      assert.equal(
        (
          await server.request("PUT", `/addressbooks/alice/photos/${i}.vcf`, {
            headers: { "content-type": "text/vcard" },
            body: card,
          })
        ).status,
        201,
      );
    }
    const task = await settle(
      server,
      (await server.request("POST", "/addressbooks/alice/photos/?task=export")).headers.get("location")!,
    );
    assert.equal(task.state, "done", JSON.stringify(task.errors));
    let cards = 0;
    for (const href of task.result) {
      const part = await server.request("GET", href);
      const inPart = part.body.match(/^BEGIN:VCARD\r$/gm)?.length ?? 0;
      assert.ok(part.raw.length <= 300 * 1024 || inPart === 1, `${part.raw.length} bytes, ${inPart} cards`);
      cards += inPart;
    }
    assert.equal(cards, 5);
  });
});
