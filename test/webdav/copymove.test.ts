/**
 * COPY and MOVE (RFC 4918 §9.8, §9.9) against DynamoDB Local: members between and within
 * collections of one kind as one transaction, collections renamed within their home, every 409,
 * 412, 403 and 502 case, what sync-collection reports afterwards, and racing writers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CalClient, CALDAV, davError, event, todo } from "../helpers/ical.js";
import { startTestServer, type TestResponse } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";

const server = await startTestServer();
const c = new CalClient(server);
await c.req("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } });

const cal = (name: string) => `/calendars/alice/${name}/`;
const send = (method: "COPY" | "MOVE", from: string, to: string, headers: Record<string, string> = {}) =>
  c.req(method, from, { headers: { destination: to, ...headers } });
const status = (r: TestResponse) => r.status;

async function syncToken(url: string): Promise<string> {
  const res = await c.req("REPORT", url, {
    headers: { ...XML_HEADERS, depth: "1" },
    body: `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
  });
  return /<D:sync-token>([^<]+)</.exec(res.body)![1];
}

async function changesSince(url: string, token: string) {
  const res = await c.req("REPORT", url, {
    headers: { ...XML_HEADERS, depth: "1" },
    body: `<D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
  });
  assert.equal(res.status, 207, res.body);
  return parseMultistatus(res.body).map((r) => ({ href: r.href, status: r.status ?? 200 }));
}

describe("RFC 4918 §9.9 MOVE of a member", () => {
  it("§9.9.4: MOVE to another calendar → 201; the source is gone, the destination has the same bytes and ETag; sync-collection reports a 404 in the source and a new member in the destination (RFC 6578 §3.5)", async () => {
    await c.newCalendar("mv-a");
    await c.newCalendar("mv-b");
    const body = event("mv-1", "Moved");
    const put = await c.put("mv-a", "one.ics", body);
    const [ta, tb] = [await syncToken(cal("mv-a")), await syncToken(cal("mv-b"))];
    const res = await send("MOVE", `${cal("mv-a")}one.ics`, `${server.url}${cal("mv-b")}moved.ics`);
    assert.equal(res.status, 201, res.body);
    assert.equal((await c.get("mv-a", "one.ics")).status, 404);
    const got = await c.get("mv-b", "moved.ics");
    assert.equal(got.body, body);
    assert.equal(got.headers.get("etag"), put.headers.get("etag"));
    assert.deepEqual(await changesSince(cal("mv-a"), ta), [{ href: `${cal("mv-a")}one.ics`, status: 404 }]);
    assert.deepEqual(await changesSince(cal("mv-b"), tb), [{ href: `${cal("mv-b")}moved.ics`, status: 200 }]);
    // The UID moved with it: free in the source, held by the new name in the destination.
    assert.equal((await c.put("mv-a", "again.ics", event("mv-1", "Again"))).status, 201);
    const clash = await c.put("mv-b", "clash.ics", event("mv-1", "Clash"));
    assert.equal(clash.status, 409);
    assert.deepEqual(davError(clash).hrefs, [`${cal("mv-b")}moved.ics`]);
  });

  it("§9.9: MOVE within one calendar renames the member; its UID passes to the new name; the log has the delete and the put", async () => {
    await c.newCalendar("mv-same");
    await c.put("mv-same", "old.ics", event("mv-same-1"));
    const before = (await c.collection("mv-same"))!;
    const res = await send("MOVE", `${cal("mv-same")}old.ics`, `${cal("mv-same")}new.ics`);
    assert.equal(res.status, 201, res.body);
    assert.equal((await c.get("mv-same", "old.ics")).status, 404);
    assert.equal((await c.get("mv-same", "new.ics")).status, 200);
    assert.equal(await c.uidHolder(before.id, "mv-same-1"), "new.ics");
    const after = (await c.collection("mv-same"))!;
    assert.equal(after.seq, before.seq + 2, "one step for the delete, one for the put");
  });

  it("§9.9.3, §10.6: onto an existing member: Overwrite: T (the default) replaces it → 204; Overwrite: F → 412 and nothing changes", async () => {
    await c.newCalendar("mv-ow");
    await c.put("mv-ow", "a.ics", event("ow-a"));
    await c.put("mv-ow", "b.ics", event("ow-b"));
    const refused = await send("MOVE", `${cal("mv-ow")}a.ics`, `${cal("mv-ow")}b.ics`, { overwrite: "F" });
    assert.equal(refused.status, 412, refused.body);
    assert.equal((await c.get("mv-ow", "a.ics")).status, 200);
    const res = await send("MOVE", `${cal("mv-ow")}a.ics`, `${cal("mv-ow")}b.ics`);
    assert.equal(res.status, 204, res.body);
    assert.match((await c.get("mv-ow", "b.ics")).body, /UID:ow-a/);
    const col = (await c.collection("mv-ow"))!;
    assert.equal(await c.uidHolder(col.id, "ow-a"), "b.ics");
    assert.equal(await c.uidHolder(col.id, "ow-b"), undefined, "the replaced member's UID is released");
  });
});

describe("RFC 4918 §9.8 COPY of a member", () => {
  it("§9.8.5: COPY → 201, both exist; a copy within one calendar clashes with the source's UID → 409 no-uid-conflict naming it", async () => {
    await c.newCalendar("cp-a");
    await c.newCalendar("cp-b");
    await c.put("cp-a", "src.ics", event("cp-1"));
    const res = await send("COPY", `${cal("cp-a")}src.ics`, `${cal("cp-b")}dst.ics`);
    assert.equal(res.status, 201, res.body);
    assert.equal((await c.get("cp-a", "src.ics")).status, 200);
    assert.equal((await c.get("cp-b", "dst.ics")).status, 200);
    const same = await send("COPY", `${cal("cp-a")}src.ics`, `${cal("cp-a")}twin.ics`);
    assert.equal(same.status, 409, same.body);
    const err = davError(same);
    assert.equal(err.name, `{${CALDAV}}no-uid-conflict`);
    assert.deepEqual(err.hrefs, [`${cal("cp-a")}src.ics`]);
    assert.equal((await c.get("cp-a", "twin.ics")).status, 404);
  });

  it("RFC 4791 §5.3.2.1: a UID held by another member of the destination → 409 no-uid-conflict with the holder's href; the destination is unchanged", async () => {
    await c.newCalendar("cp-uid-a");
    await c.newCalendar("cp-uid-b");
    await c.put("cp-uid-a", "x.ics", event("shared-uid", "From A"));
    await c.put("cp-uid-b", "holder.ics", event("shared-uid", "Held in B"));
    const before = await c.snapshot("cp-uid-b", "holder.ics");
    for (const method of ["COPY", "MOVE"] as const) {
      const res = await send(method, `${cal("cp-uid-a")}x.ics`, `${cal("cp-uid-b")}other.ics`);
      assert.equal(res.status, 409, `${method}: ${res.body}`);
      assert.deepEqual(davError(res).hrefs, [`${cal("cp-uid-b")}holder.ics`]);
    }
    assert.deepEqual(await c.snapshot("cp-uid-b", "holder.ics"), before);
    assert.equal((await c.get("cp-uid-a", "x.ics")).status, 200, "the MOVE's source is still there");
  });

  it("the destination's rules apply as for a PUT: a VTODO into a VEVENT-only calendar → 403 supported-calendar-component; a vCard into a calendar → 403", async () => {
    await c.newCalendar("cp-todo");
    await c.put("cp-todo", "t.ics", todo("cp-todo-1"));
    await c.newCalendar(
      "cp-events",
      `<C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
    );
    const res = await send("COPY", `${cal("cp-todo")}t.ics`, `${cal("cp-events")}t.ics`);
    assert.equal(res.status, 403, res.body);
    assert.equal(davError(res).name, `{${CALDAV}}supported-calendar-component`);
    await server.request("PUT", "/addressbooks/alice/default/card.vcf", {
      body: "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cp-card\r\nN:Card;;;;\r\nFN:Card\r\nEND:VCARD\r\n",
      headers: { "content-type": "text/vcard" },
    });
    const card = await send("COPY", "/addressbooks/alice/default/card.vcf", `${cal("cp-events")}card.ics`);
    assert.ok([403, 409].includes(card.status), `${card.status}: ${card.body}`);
    assert.equal((await c.get("cp-events", "card.ics")).status, 404);
  });

  it("RFC 6352 §6.3.2.1: a vCard moved between address books keeps CARDDAV:no-uid-conflict in the destination", async () => {
    const mk = (name: string) =>
      server.request("MKCOL", `/addressbooks/alice/${name}/`, {
        headers: XML_HEADERS,
        body: `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
      });
    assert.equal((await mk("mv-book-a")).status, 201);
    assert.equal((await mk("mv-book-b")).status, 201);
    const vcard = (uid: string) => `BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uid}\r\nFN:${uid}\r\nEND:VCARD\r\n`;
    await server.request("PUT", "/addressbooks/alice/mv-book-a/1.vcf", { body: vcard("card-uid") });
    await server.request("PUT", "/addressbooks/alice/mv-book-b/held.vcf", { body: vcard("card-uid") });
    const res = await send(
      "MOVE",
      "/addressbooks/alice/mv-book-a/1.vcf",
      "/addressbooks/alice/mv-book-b/2.vcf",
    );
    assert.equal(res.status, 409, res.body);
    assert.equal(davError(res).name, "{urn:ietf:params:xml:ns:carddav}no-uid-conflict");
    assert.deepEqual(davError(res).hrefs, ["/addressbooks/alice/mv-book-b/held.vcf"]);
    const ok = await send(
      "MOVE",
      "/addressbooks/alice/mv-book-a/1.vcf",
      "/addressbooks/alice/mv-book-b/held.vcf",
    );
    assert.equal(ok.status, 204, ok.body);
  });
});

describe("RFC 4918 §9.8.5, §9.9.4: refusals", () => {
  it("409 when the destination's collection does not exist; 502 for another server; 400 without Destination or with a bad Overwrite; 403 onto itself or into another user's space", async () => {
    await c.newCalendar("rf");
    await c.put("rf", "a.ics", event("rf-1"));
    const src = `${cal("rf")}a.ics`;
    const missing = await send("MOVE", src, `${cal("no-such-calendar")}a.ics`);
    assert.equal(missing.status, 409, missing.body);
    assert.match(missing.body, /does not exist/);
    assert.equal(status(await send("COPY", src, "/calendars/alice/x/y/z/a.ics")), 409);
    assert.equal(status(await send("COPY", src, "http://elsewhere.example/calendars/alice/rf/b.ics")), 502);
    assert.equal(status(await c.req("COPY", src)), 400);
    assert.equal(status(await send("COPY", src, "mailto:someone@example.com")), 400);
    assert.equal(status(await send("COPY", src, "//elsewhere.example/calendars/alice/rf/b.ics")), 400);
    assert.equal(status(await send("COPY", src, `${cal("rf")}b.ics`, { overwrite: "maybe" })), 400);
    assert.equal(status(await send("MOVE", src, src)), 403);
    const other = await send("COPY", src, "/calendars/bob/default/a.ics");
    assert.equal(other.status, 403, other.body);
    assert.equal((await c.get("rf", "a.ics")).status, 200, "the source is untouched by every refusal");
    assert.equal(status(await send("MOVE", `${cal("rf")}none.ics`, `${cal("rf")}b.ics`)), 404);
  });
});

describe("RFC 4918 §9.9 MOVE and §9.8 COPY of a collection", () => {
  it("MOVE renames a calendar within its home: 201, members at the new URL, the old URL gone, a sync token of before still good there", async () => {
    await c.newCalendar("ren-old");
    await c.put("ren-old", "m.ics", event("ren-1"));
    const token = await syncToken(cal("ren-old"));
    const res = await send("MOVE", cal("ren-old"), cal("ren-new"));
    assert.equal(res.status, 201, res.body);
    assert.equal((await c.req("PROPFIND", cal("ren-old"), { headers: { depth: "0" } })).status, 404);
    assert.equal((await c.get("ren-new", "m.ics")).status, 200);
    await c.put("ren-new", "n.ics", event("ren-2"));
    assert.deepEqual(await changesSince(cal("ren-new"), token), [
      { href: `${cal("ren-new")}n.ics`, status: 200 },
    ]);
    const clash = await c.put("ren-new", "dup.ics", event("ren-1"));
    assert.equal(clash.status, 409, "the members' UID reservations moved with the calendar");
  });

  it("MOVE onto an existing calendar: Overwrite: F → 412; T → 204 and the replaced calendar's members are gone", async () => {
    await c.newCalendar("ren-a");
    await c.newCalendar("ren-b");
    await c.put("ren-a", "a.ics", event("ren-a-1"));
    await c.put("ren-b", "b.ics", event("ren-b-1"));
    assert.equal(status(await send("MOVE", cal("ren-a"), cal("ren-b"), { overwrite: "F" })), 412);
    const res = await send("MOVE", cal("ren-a"), cal("ren-b"));
    assert.equal(res.status, 204, res.body);
    assert.equal((await c.get("ren-b", "a.ics")).status, 200);
    assert.equal((await c.get("ren-b", "b.ics")).status, 404);
  });

  it("RFC 4918 §16 preserved-live-properties: a calendar moved into the address-book home → 409 naming it; a nested destination → 403", async () => {
    await c.newCalendar("ren-kind");
    const res = await send("MOVE", cal("ren-kind"), "/addressbooks/alice/ren-kind/");
    assert.equal(res.status, 409, res.body);
    assert.equal(davError(res).name, "{DAV:}preserved-live-properties");
    assert.equal(status(await send("MOVE", cal("ren-kind"), `${cal("default")}inner/`)), 403);
    assert.equal(status(await send("MOVE", cal("ren-kind"), cal("x2"), { depth: "0" })), 400);
  });

  it("COPY of a calendar: Depth 0 copies its properties only; Depth infinity its members too", async () => {
    await c.newCalendar(
      "cp-col",
      `<C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:set><D:prop><D:displayname>Team</D:displayname></D:prop></D:set></C:mkcalendar>`,
    );
    await c.put("cp-col", "a.ics", event("cp-col-1"));
    assert.equal(status(await send("COPY", cal("cp-col"), cal("cp-col-empty"), { depth: "0" })), 201);
    const empty = (await c.collection("cp-col-empty"))!;
    assert.equal(empty.props["{DAV:}displayname"], "Team");
    assert.equal((await c.get("cp-col-empty", "a.ics")).status, 404);
    assert.equal(status(await send("COPY", cal("cp-col"), cal("cp-col-full"))), 201);
    assert.equal((await c.get("cp-col-full", "a.ics")).body, (await c.get("cp-col", "a.ics")).body);
    assert.equal((await c.get("cp-col", "a.ics")).status, 200);
  });
});

describe("racing writers (DynamoDB conditions decide)", () => {
  it("a MOVE racing a PUT (If-None-Match: *) onto one destination: exactly one wins; the state matches the winner; the logs are exact", async () => {
    for (let round = 0; round < 5; round++) {
      const name = `race-mp-${round}`;
      await c.newCalendar(name);
      await c.put(name, "src.ics", event(`${name}-moved`, "Moved"));
      const before = (await c.collection(name))!;
      const [mv, put] = await Promise.all([
        send("MOVE", `${cal(name)}src.ics`, `${cal(name)}dst.ics`, { overwrite: "F" }),
        c.put(name, "dst.ics", event(`${name}-put`, "Put"), { "if-none-match": "*" }),
      ]);
      const won = [mv.status, put.status].filter((s) => s === 201).length;
      assert.equal(won, 1, `round ${round}: MOVE ${mv.status} ${mv.body} / PUT ${put.status} ${put.body}`);
      assert.equal((mv.status === 201 ? put : mv).status, 412);
      const dst = await c.get(name, "dst.ics");
      assert.match(dst.body, mv.status === 201 ? /SUMMARY:Moved/ : /SUMMARY:Put/);
      assert.equal((await c.get(name, "src.ics")).status, mv.status === 201 ? 404 : 200);
      const after = (await c.collection(name))!;
      const { changes, objects } = await c.items(after.id);
      assert.equal(after.seq, before.seq + (mv.status === 201 ? 2 : 1));
      assert.equal(changes.length, after.seq, "one log entry per step");
      assert.equal(objects.length, mv.status === 201 ? 1 : 2);
    }
  });

  it("two MOVEs of one source to two calendars: exactly one succeeds, the other finds no source; one copy exists", async () => {
    await c.newCalendar("race-src");
    await c.newCalendar("race-x");
    await c.newCalendar("race-y");
    for (let round = 0; round < 5; round++) {
      await c.put("race-src", `s${round}.ics`, event(`race-mm-${round}`));
      const [x, y] = await Promise.all([
        send("MOVE", `${cal("race-src")}s${round}.ics`, `${cal("race-x")}s${round}.ics`),
        send("MOVE", `${cal("race-src")}s${round}.ics`, `${cal("race-y")}s${round}.ics`),
      ]);
      assert.deepEqual([x.status, y.status].sort(), [201, 404], `round ${round}: ${x.body} ${y.body}`);
      const inX = (await c.get("race-x", `s${round}.ics`)).status === 200;
      const inY = (await c.get("race-y", `s${round}.ics`)).status === 200;
      assert.ok(inX !== inY, "exactly one copy");
      assert.equal(inX, x.status === 201);
      assert.equal((await c.get("race-src", `s${round}.ics`)).status, 404);
    }
    for (const name of ["race-src", "race-x", "race-y"]) {
      const col = (await c.collection(name))!;
      assert.equal((await c.items(col.id)).changes.length, col.seq, `${name}: the log is exact`);
    }
  });
});
