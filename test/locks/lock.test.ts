/**
 * LOCK and UNLOCK (RFC 4918 §9.10, §9.11) against DynamoDB Local: what a lock forbids and what its
 * token permits, with the lock checked inside each write's own transaction; conflicts (423),
 * UNLOCK with a foreign token (409), refresh, expiry, and two LOCKs racing for one resource.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CalClient, event } from "../helpers/ical.js";
import { startTestServer, type TestResponse } from "../helpers/server.js";
import { errorConditions, XML_HEADERS } from "../helpers/xml.js";
import { parseXml } from "../../lib/xml/parse.js";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { collectionKey } from "../../lib/store/keys.js";

const server = await startTestServer();
const c = new CalClient(server);
await c.req("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } });
const cal = (name: string) => `/calendars/alice/${name}/`;

const lockinfo = (
  scope: "exclusive" | "shared" = "exclusive",
  owner = "<D:href>mailto:alice@example.com</D:href>",
) =>
  `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:${scope}/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>${owner}</D:owner></D:lockinfo>`;

async function lock(
  url: string,
  headers: Record<string, string> = {},
  scope: "exclusive" | "shared" = "exclusive",
) {
  return c.req("LOCK", url, {
    headers: { ...XML_HEADERS, timeout: "Second-600", ...headers },
    body: lockinfo(scope),
  });
}
const tokenOf = (res: TestResponse) =>
  /^<(urn:uuid:[0-9a-f-]+)>$/.exec(res.headers.get("lock-token") ?? "")?.[1];
const ifToken = (token: string) => ({ if: `(<${token}>)` });
const error = (res: TestResponse) => {
  const root = parseXml(res.body);
  const first = root.children[0];
  return {
    name: first?.name,
    hrefs: first?.children.filter((h) => h.name === "{DAV:}href").map((h) => h.text),
  };
};

describe("RFC 4918 §9.10 LOCK", () => {
  it("§9.10.1: an exclusive lock on a member → 200 with Lock-Token and DAV:lockdiscovery (scope, depth, owner, timeout, token, root)", async () => {
    await c.newCalendar("lk");
    await c.put("lk", "a.ics", event("lk-a"));
    const res = await lock(`${cal("lk")}a.ics`);
    assert.equal(res.status, 200, res.body);
    const token = tokenOf(res);
    assert.ok(token, res.headers.get("lock-token") ?? "no Lock-Token");
    assert.match(res.body, /<D:lockscope><D:exclusive\/><\/D:lockscope>/);
    assert.match(res.body, /<D:depth>0<\/D:depth>/, "a member's lock has depth 0");
    assert.match(res.body, /<D:owner><D:href>mailto:alice@example.com<\/D:href><\/D:owner>/);
    assert.match(res.body, new RegExp(`<D:locktoken><D:href>${token}</D:href></D:locktoken>`));
    assert.match(res.body, new RegExp(`<D:lockroot><D:href>${cal("lk")}a.ics</D:href></D:lockroot>`));
    const seconds = Number(/Second-(\d+)/.exec(res.body)?.[1]);
    assert.ok(seconds > 590 && seconds <= 600, `timeout ${seconds}`);
  });

  it("§7, §10.4.1: a locked member refuses PUT and DELETE without its token (423 lock-token-submitted naming it) and takes them with it; the write's own transaction checks the lock", async () => {
    await c.newCalendar("lk-w");
    const put = await c.put("lk-w", "a.ics", event("lk-w-a"));
    const href = `${cal("lk-w")}a.ics`;
    const token = tokenOf(await lock(href))!;
    const refused = await c.put("lk-w", "a.ics", event("lk-w-a", "Changed"));
    assert.equal(refused.status, 423, refused.body);
    assert.deepEqual(error(refused), { name: "{DAV:}lock-token-submitted", hrefs: [href] });
    assert.equal((await c.get("lk-w", "a.ics")).headers.get("etag"), put.headers.get("etag"), "unchanged");
    assert.equal((await c.delete(href)).status, 423);
    const ok = await c.put("lk-w", "a.ics", event("lk-w-a", "Changed"), ifToken(token));
    assert.equal(ok.status, 204, ok.body);
    const wrong = await c.put("lk-w", "a.ics", event("lk-w-a", "Again"), {
      if: "(<urn:uuid:00000000-0000-0000-0000-000000000000>)",
    });
    assert.equal(wrong.status, 412, "a token that is no lock of the resource fails the If header");
    assert.equal((await c.delete(href, ifToken(token))).status, 204);
  });

  it("§6.1, §9.10.6: a second exclusive lock → 423 no-conflicting-lock; shared locks share; shared and exclusive conflict", async () => {
    await c.newCalendar("lk-c");
    await c.put("lk-c", "x.ics", event("lk-c-x"));
    await c.put("lk-c", "y.ics", event("lk-c-y"));
    const x = `${cal("lk-c")}x.ics`;
    assert.equal((await lock(x)).status, 200);
    const second = await lock(x);
    assert.equal(second.status, 423, second.body);
    assert.equal(error(second).name, "{DAV:}no-conflicting-lock");
    const y = `${cal("lk-c")}y.ics`;
    const s1 = await lock(y, {}, "shared");
    const s2 = await lock(y, {}, "shared");
    assert.deepEqual([s1.status, s2.status], [200, 200]);
    assert.notEqual(tokenOf(s1), tokenOf(s2));
    assert.equal((await lock(y)).status, 423, "an exclusive lock over shared ones");
    // Either shared token lets its holder write.
    assert.equal((await c.put("lk-c", "y.ics", event("lk-c-y", "By s2"), ifToken(tokenOf(s2)!))).status, 204);
  });

  it("§7.4, §7.5: a depth-infinity lock on a calendar covers its members; a depth-0 lock protects its membership but not its members' content", async () => {
    await c.newCalendar("lk-deep");
    await c.put("lk-deep", "old.ics", event("lk-deep-old"));
    const token = tokenOf(await lock(cal("lk-deep")))!;
    const refused = await c.put("lk-deep", "new.ics", event("lk-deep-new"));
    assert.equal(refused.status, 423);
    assert.deepEqual(error(refused).hrefs, [cal("lk-deep")], "the lock's root is named");
    assert.equal((await c.put("lk-deep", "old.ics", event("lk-deep-old", "x"))).status, 423);
    assert.equal((await c.put("lk-deep", "new.ics", event("lk-deep-new"), ifToken(token))).status, 201);
    // A member inside can't get a lock of its own that conflicts with the collection's.
    assert.equal((await lock(`${cal("lk-deep")}old.ics`)).status, 423);

    await c.newCalendar("lk-flat");
    await c.put("lk-flat", "m.ics", event("lk-flat-m"));
    const flat = tokenOf(await lock(cal("lk-flat"), { depth: "0" }))!;
    assert.equal(
      (await c.put("lk-flat", "m.ics", event("lk-flat-m", "edit"))).status,
      204,
      "content of a member",
    );
    assert.equal((await c.put("lk-flat", "n.ics", event("lk-flat-n"))).status, 423, "a new member");
    assert.equal((await c.delete(`${cal("lk-flat")}m.ics`)).status, 423, "a removed member");
    assert.equal((await c.put("lk-flat", "n.ics", event("lk-flat-n"), ifToken(flat))).status, 201);
  });

  it("§9.10.4: LOCK on an unmapped URL in a calendar → 201 and the URL is reserved for the token; with no parent collection → 409", async () => {
    await c.newCalendar("lk-new");
    const res = await lock(`${cal("lk-new")}reserved.ics`);
    assert.equal(res.status, 201, res.body);
    const token = tokenOf(res)!;
    assert.equal((await c.put("lk-new", "reserved.ics", event("lk-new-r"))).status, 423);
    assert.equal((await c.put("lk-new", "reserved.ics", event("lk-new-r"), ifToken(token))).status, 201);
    const orphan = await lock(`${cal("no-such-calendar")}x.ics`);
    assert.equal(orphan.status, 409, orphan.body);
  });

  it("§9.10.2: LOCK without a body refreshes the lock its If header names (new timeout); naming none → 412", async () => {
    await c.newCalendar("lk-ref");
    await c.put("lk-ref", "a.ics", event("lk-ref-a"));
    const href = `${cal("lk-ref")}a.ics`;
    const token = tokenOf(await lock(href, { timeout: "Second-100" }))!;
    const refreshed = await c.req("LOCK", href, { headers: { ...ifToken(token), timeout: "Second-5000" } });
    assert.equal(refreshed.status, 200, refreshed.body);
    assert.ok(Number(/Second-(\d+)/.exec(refreshed.body)?.[1]) > 4900, refreshed.body);
    assert.match(refreshed.body, new RegExp(token));
    assert.equal((await c.req("LOCK", href, { headers: { timeout: "Second-5" } })).status, 412);
  });

  it("§10.7: timeouts are bounded (Infinite and huge values get a week); a lock that expires while held stops blocking", async () => {
    await c.newCalendar("lk-t");
    await c.put("lk-t", "a.ics", event("lk-t-a"));
    await c.put("lk-t", "b.ics", event("lk-t-b"));
    const inf = await lock(`${cal("lk-t")}a.ics`, { timeout: "Infinite, Second-4100000000" });
    assert.equal(Number(/Second-(\d+)/.exec(inf.body)?.[1]), 7 * 24 * 3600);
    const short = await lock(`${cal("lk-t")}b.ics`, { timeout: "Second-1" });
    assert.equal(short.status, 200);
    assert.equal((await c.put("lk-t", "b.ics", event("lk-t-b", "early"))).status, 423);
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(
      (await c.put("lk-t", "b.ics", event("lk-t-b", "late"))).status,
      204,
      "the expired lock blocks nothing",
    );
    assert.equal((await lock(`${cal("lk-t")}b.ics`)).status, 200, "and conflicts with nothing");
  });

  it("two exclusive LOCKs racing for one member: exactly one is granted, the other → 423", async () => {
    await c.newCalendar("lk-race");
    for (let round = 0; round < 5; round++) {
      await c.put("lk-race", `r${round}.ics`, event(`lk-race-${round}`));
      const href = `${cal("lk-race")}r${round}.ics`;
      const rs = await Promise.all([lock(href), lock(href), lock(href)]);
      assert.deepEqual(rs.map((r) => r.status).sort(), [200, 423, 423], rs.map((r) => r.body).join("\n"));
    }
  });

  it("a locked member can be neither moved nor overwritten by a COPY without the token", async () => {
    await c.newCalendar("lk-mv");
    await c.put("lk-mv", "src.ics", event("lk-mv-src"));
    await c.put("lk-mv", "dst.ics", event("lk-mv-dst"));
    const token = tokenOf(await lock(`${cal("lk-mv")}src.ics`))!;
    const move = await c.req("MOVE", `${cal("lk-mv")}src.ics`, {
      headers: { destination: `${cal("lk-mv")}moved.ics` },
    });
    assert.equal(move.status, 423, move.body);
    const dstLock = tokenOf(await lock(`${cal("lk-mv")}dst.ics`))!;
    const over = await c.req("COPY", `${cal("lk-mv")}src.ics`, {
      headers: { destination: `${cal("lk-mv")}dst.ics` },
    });
    assert.equal(over.status, 423, over.body);
    assert.ok(dstLock);
    const moved = await c.req("MOVE", `${cal("lk-mv")}src.ics`, {
      headers: { destination: `${cal("lk-mv")}moved.ics`, ...ifToken(token) },
    });
    assert.equal(moved.status, 201, moved.body);
  });
});

describe("RFC 4918 §7: locks on collection writes (checked in the write's transaction)", () => {
  it("a depth-infinity lock on the calendar home: MKCALENDAR inside it → 423 without the token, 201 with it", async () => {
    const server2 = await startTestServer();
    const bob = new CalClient(server2, "bob");
    await bob.req("PROPFIND", "/calendars/bob/", { headers: { depth: "0" } });
    const res = await bob.req("LOCK", "/calendars/bob/", {
      headers: { ...XML_HEADERS, timeout: "Second-600" },
      body: lockinfo(),
    });
    assert.equal(res.status, 200, res.body);
    const token = tokenOf(res)!;
    const refused = await bob.mkcalendar("inside");
    assert.equal(refused.status, 423, refused.body);
    assert.deepEqual(error(refused).hrefs, ["/calendars/bob/"]);
    assert.equal(
      (await bob.req("MKCALENDAR", "/calendars/bob/inside/", { headers: ifToken(token) })).status,
      201,
    );
    const gone = await bob.req("DELETE", "/calendars/bob/inside/");
    assert.equal(gone.status, 423, "a collection removed from a locked home needs the token too");
    assert.equal(
      (await bob.req("DELETE", "/calendars/bob/inside/", { headers: ifToken(token) })).status,
      204,
    );
  });

  it("PROPPATCH of a locked calendar → 423 without the token, 207 with it", async () => {
    await c.newCalendar("lk-pp");
    const token = tokenOf(await lock(cal("lk-pp"), { depth: "0" }))!;
    const body = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>`;
    const refused = await c.req("PROPPATCH", cal("lk-pp"), { headers: XML_HEADERS, body });
    assert.equal(refused.status, 423, refused.body);
    assert.notEqual((await c.collection("lk-pp"))!.props["{DAV:}displayname"], "Renamed");
    const ok = await c.req("PROPPATCH", cal("lk-pp"), {
      headers: { ...XML_HEADERS, ...ifToken(token) },
      body,
    });
    assert.equal(ok.status, 207, ok.body);
    assert.equal((await c.collection("lk-pp"))!.props["{DAV:}displayname"], "Renamed");
  });

  it("a calendar holding a locked member can be neither deleted nor moved without that member's token", async () => {
    await c.newCalendar("lk-del");
    await c.put("lk-del", "m.ics", event("lk-del-m"));
    const token = tokenOf(await lock(`${cal("lk-del")}m.ics`))!;
    const del = await c.delete(cal("lk-del"));
    assert.equal(del.status, 423, del.body);
    assert.deepEqual(error(del).hrefs, [`${cal("lk-del")}m.ics`]);
    const mv = await c.req("MOVE", cal("lk-del"), { headers: { destination: cal("lk-del-moved") } });
    assert.equal(mv.status, 423, mv.body);
    assert.equal((await c.get("lk-del", "m.ics")).status, 200, "nothing was removed");
    assert.equal((await c.delete(cal("lk-del"), { if: `<${cal("lk-del")}m.ics> (<${token}>)` })).status, 204);
  });
});

describe("RFC 4918 §15.8, §15.10: lockdiscovery and supportedlock in PROPFIND", () => {
  it("a locked calendar and its members list the lock (its root is the calendar); an unlocked one lists none; supportedlock names exclusive and shared", async () => {
    await c.newCalendar("ld");
    await c.put("ld", "m.ics", event("ld-m"));
    await c.newCalendar("ld-free");
    const token = tokenOf(await lock(cal("ld")))!;
    const res = await c.req("PROPFIND", cal("ld"), {
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/><D:supportedlock/></D:prop></D:propfind>`,
    });
    assert.equal(res.status, 207, res.body);
    const parts = res.body.split("<D:response>").slice(1);
    assert.equal(parts.length, 2);
    for (const part of parts) {
      assert.match(part, new RegExp(`<D:locktoken><D:href>${token}</D:href>`), part);
      assert.match(part, new RegExp(`<D:lockroot><D:href>${cal("ld")}</D:href>`), part);
      assert.match(part, /<D:lockentry><D:lockscope><D:exclusive\/><\/D:lockscope>/);
      assert.match(part, /<D:lockentry><D:lockscope><D:shared\/><\/D:lockscope>/);
    }
    const free = await c.req("PROPFIND", cal("ld-free"), {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
    });
    assert.match(free.body, /<D:lockdiscovery\/>/, "allprop lists an empty lockdiscovery");
  });
});

describe("RFC 4918 §9.11 UNLOCK", () => {
  it("§9.11.1: a token that names no lock on the request URI → 409 lock-token-matches-request-uri; the right one → 204 and writes are free again", async () => {
    await c.newCalendar("ul");
    await c.put("ul", "a.ics", event("ul-a"));
    await c.put("ul", "b.ics", event("ul-b"));
    const a = `${cal("ul")}a.ics`;
    const ta = tokenOf(await lock(a))!;
    const tb = tokenOf(await lock(`${cal("ul")}b.ics`))!;
    const wrong = await c.req("UNLOCK", a, { headers: { "lock-token": `<${tb}>` } });
    assert.equal(wrong.status, 409, wrong.body);
    assert.equal(errorConditions(wrong.body)[0], "{DAV:}lock-token-matches-request-uri");
    assert.equal((await c.req("UNLOCK", a)).status, 400, "no Lock-Token header");
    assert.equal((await c.req("UNLOCK", a, { headers: { "lock-token": `<${ta}>` } })).status, 204);
    assert.equal((await c.put("ul", "a.ics", event("ul-a", "free"))).status, 204);
    assert.equal((await c.req("UNLOCK", a, { headers: { "lock-token": `<${ta}>` } })).status, 409, "gone");
  });

  it("§9.11: a collection's depth-infinity lock can be removed through a member it covers", async () => {
    await c.newCalendar("ul-deep");
    await c.put("ul-deep", "m.ics", event("ul-deep-m"));
    const token = tokenOf(await lock(cal("ul-deep")))!;
    assert.equal(
      (await c.req("UNLOCK", `${cal("ul-deep")}m.ics`, { headers: { "lock-token": `<${token}>` } })).status,
      204,
    );
    assert.equal((await c.put("ul-deep", "n.ics", event("ul-deep-n"))).status, 201);
  });

  it("RFC 4918 §18.2: the server claims DAV class 2 with the locks module; LOCK is listed in Allow", async () => {
    const res = await c.req("OPTIONS", "/calendars/alice/");
    assert.match(res.headers.get("dav") ?? "", /^1, 2, 3(,|$)/);
    assert.match(res.headers.get("allow") ?? "", /LOCK/);
  });
});

describe("review: lock lifetimes, races and limits", () => {
  it("a LOCK of a calendar (depth infinity) racing a LOCK of its member: exactly one is granted", async () => {
    for (let round = 0; round < 8; round++) {
      const name = `lk-tree-${round}`;
      await c.newCalendar(name);
      await c.put(name, "m.ics", event(`${name}-m`));
      const [col, member] = await Promise.all([lock(cal(name)), lock(`${cal(name)}m.ics`)]);
      assert.deepEqual(
        [col.status, member.status].sort(),
        [200, 423],
        `round ${round}: ${col.body} ${member.body}`,
      );
    }
  });

  it("RFC 4918 §7: a lock goes with its resource — after a DELETE or a MOVE with the token, the URL is free; UNLOCK frees a reserved URL", async () => {
    await c.newCalendar("lk-life");
    await c.put("lk-life", "d.ics", event("lk-life-d"));
    await c.put("lk-life", "m.ics", event("lk-life-m"));
    const td = tokenOf(await lock(`${cal("lk-life")}d.ics`))!;
    assert.equal((await c.delete(`${cal("lk-life")}d.ics`, ifToken(td))).status, 204);
    assert.equal(
      (await c.put("lk-life", "d.ics", event("lk-life-d"))).status,
      201,
      "no lock outlives the deleted member",
    );
    const tm = tokenOf(await lock(`${cal("lk-life")}m.ics`))!;
    const mv = await c.req("MOVE", `${cal("lk-life")}m.ics`, {
      headers: { destination: `${cal("lk-life")}n.ics`, ...ifToken(tm) },
    });
    assert.equal(mv.status, 201, mv.body);
    assert.equal(
      (await c.put("lk-life", "m.ics", event("lk-life-m2"))).status,
      201,
      "the moved member's old URL is free",
    );
    const tr = tokenOf(await lock(`${cal("lk-life")}r.ics`))!;
    assert.equal(
      (await c.req("UNLOCK", `${cal("lk-life")}r.ics`, { headers: { "lock-token": `<${tr}>` } })).status,
      204,
    );
    assert.equal((await c.put("lk-life", "r.ics", event("lk-life-r"))).status, 201);
  });

  it("long member names (up to the 512-byte limit, far longer percent-encoded) keep working with and without locks", async () => {
    await c.newCalendar("lk-long");
    const name = `${"é".repeat(250)}.ics`;
    const href = `${cal("lk-long")}${encodeURIComponent(name)}`;
    assert.equal(
      (await c.req("PUT", href, { body: event("lk-long-1"), headers: { "content-type": "text/calendar" } }))
        .status,
      201,
    );
    const token = tokenOf(await lock(href))!;
    assert.ok(token);
    assert.equal(
      (
        await c.req("PUT", href, {
          body: event("lk-long-1", "x"),
          headers: { "content-type": "text/calendar" },
        })
      ).status,
      423,
    );
    assert.equal((await c.req("DELETE", href, { headers: ifToken(token) })).status, 204);
  });

  it("bounds: more than 20 tokens in an If header → 400; a DAV:owner over 4 KB → 400", async () => {
    await c.newCalendar("lk-bounds");
    await c.put("lk-bounds", "a.ics", event("lk-bounds-a"));
    const many = Array.from({ length: 21 }, (_, i) => `(<urn:x:${i}>)`).join("") + "(Not <urn:none>)";
    assert.equal((await c.put("lk-bounds", "a.ics", event("lk-bounds-a", "x"), { if: many })).status, 400);
    const big = await c.req("LOCK", `${cal("lk-bounds")}a.ics`, {
      headers: XML_HEADERS,
      body: lockinfo("exclusive", "x".repeat(5000)),
    });
    assert.equal(big.status, 400, big.body);
  });

  it("RFC 9110 §13.1.1: a collection's MOVE or COPY under a failing If-Match or If-None-Match → 412; COPY of a calendar into a locked home → 423", async () => {
    await c.newCalendar("lk-cond");
    assert.equal(
      (
        await c.req("MOVE", cal("lk-cond"), {
          headers: { destination: cal("lk-cond2"), "if-match": '"nope"' },
        })
      ).status,
      412,
    );
    assert.equal(
      (
        await c.req("COPY", cal("lk-cond"), {
          headers: { destination: cal("lk-cond3"), "if-none-match": "*" },
        })
      ).status,
      412,
    );
    assert.equal(await c.collection("lk-cond2"), undefined);
    const server3 = await startTestServer();
    const bob = new CalClient(server3, "bob");
    await bob.req("PROPFIND", "/calendars/bob/", { headers: { depth: "0" } });
    await bob.put("default", "x.ics", event("bob-x"));
    await bob.req("MKCALENDAR", "/calendars/bob/src/");
    await bob.put("src", "y.ics", event("bob-y"));
    const token = tokenOf(
      await bob.req("LOCK", "/calendars/bob/", {
        headers: { ...XML_HEADERS, timeout: "Second-600" },
        body: lockinfo(),
      }),
    )!;
    const copy = await bob.req("COPY", "/calendars/bob/src/", {
      headers: { destination: "/calendars/bob/dst/" },
    });
    assert.equal(copy.status, 423, copy.body);
    assert.equal(
      (
        await bob.req("COPY", "/calendars/bob/src/", {
          headers: { destination: "/calendars/bob/dst/", ...ifToken(token) },
        })
      ).status,
      201,
    );
  });
});

describe("review: a calendar's item records when its last lock runs out (lockedUntil), so unlocked writes skip per-path lock checks", () => {
  /** The TransactWriteItems parts each request sends, by the items they touch. */
  async function transactionsOf(run: () => Promise<unknown>): Promise<string[][]> {
    const seen: string[][] = [];
    const name = `watch-${Math.random()}`;
    server.ctx.store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand") {
          const items = (
            args.input as {
              TransactItems: Record<
                string,
                { Key?: Record<string, { S?: string }>; Item?: Record<string, { S?: string }> }
              >[];
            }
          ).TransactItems;
          seen.push(
            items.map((i) => {
              const [type, body] = Object.entries(i)[0];
              return `${type} ${(body.Key ?? body.Item)?.pk?.S} ${(body.Key ?? body.Item)?.sk?.S}`;
            }),
          );
        }
        return next(args);
      },
      { step: "initialize", name },
    );
    try {
      await run();
    } finally {
      server.ctx.store.client.middlewareStack.remove(name);
    }
    return seen;
  }

  it("RFC 4918 §7: with no lock in the calendar, a PUT's transaction checks only the home's lock item; after a LOCK on one member, writes check that member and the calendar path again (423 without the token, other members free)", async () => {
    await c.newCalendar("flag");
    const [tx] = await transactionsOf(() => c.put("flag", "a.ics", event("flag-a")));
    const lockParts = tx.filter((p) => p.includes("LOCKS#"));
    assert.deepEqual(lockParts, ["ConditionCheck LOCKS#alice /calendars/alice/"], tx.join("\n"));

    const res = await lock(`${cal("flag")}a.ics`);
    assert.equal(res.status, 200, res.body);
    const token = tokenOf(res)!;
    assert.equal((await c.put("flag", "a.ics", event("flag-a", "again"))).status, 423);
    const [checked] = await transactionsOf(async () =>
      assert.equal((await c.put("flag", "b.ics", event("flag-b"))).status, 201),
    );
    assert.equal(checked.filter((p) => p.includes("LOCKS#")).length, 3, checked.join("\n"));
    assert.equal((await c.put("flag", "a.ics", event("flag-a", "again"), ifToken(token))).status, 204);
    // A depth-0 lock on the calendar protects its membership (RFC 4918 §7.5).
    const colLock = await c.req("LOCK", cal("flag"), {
      headers: { ...XML_HEADERS, timeout: "Second-600", depth: "0" },
      body: lockinfo("exclusive"),
    });
    assert.equal(colLock.status, 200, colLock.body);
    assert.equal((await c.put("flag", "c.ics", event("flag-c"))).status, 423);
  });

  it("RFC 4918 §7: a calendar whose item predates lockedUntil (no such attribute) has every lock checked path by path: a lock granted before the upgrade still refuses writes without its token", async () => {
    await c.newCalendar("legacy");
    await c.put("legacy", "a.ics", event("legacy-a"));
    assert.equal((await lock(`${cal("legacy")}a.ics`)).status, 200);
    // As an item written before the attribute existed (or by an older function) looks.
    await server.ctx.store.client.send(
      new UpdateItemCommand({
        TableName: server.ctx.store.tableName,
        Key: collectionKey("calendar", "alice", "legacy"),
        UpdateExpression: "REMOVE lockedUntil",
      }),
    );
    assert.equal((await c.put("legacy", "a.ics", event("legacy-a", "again"))).status, 423);
    assert.equal((await c.delete(`${cal("legacy")}a.ics`)).status, 423);
    assert.equal((await c.put("legacy", "b.ics", event("legacy-b"))).status, 201, "other members stay free");
  });

  it("RFC 4918 §9.10.2: a refresh extends the calendar's lockedUntil with the lock: a member locked for 1 s and refreshed to 600 s still refuses writes without its token after the first second", async () => {
    await c.newCalendar("flag2");
    await c.put("flag2", "a.ics", event("flag2-a"));
    const res = await lock(`${cal("flag2")}a.ics`, { timeout: "Second-1" });
    assert.equal(res.status, 200, res.body);
    const token = tokenOf(res)!;
    const refreshed = await c.req("LOCK", `${cal("flag2")}a.ics`, {
      headers: { timeout: "Second-600", ...ifToken(token) },
    });
    assert.equal(refreshed.status, 200, refreshed.body);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await c.put("flag2", "a.ics", event("flag2-a", "late"))).status, 423, "still locked");
    assert.equal((await c.delete(`${cal("flag2")}a.ics`)).status, 423);
  });

  it("RFC 4918 §9.10: a LOCK racing unlocked PUTs of the same member: once the LOCK has answered, no PUT without its token lands, and every PUT is a 201/204 or a 423", async () => {
    await c.newCalendar("flag3");
    await c.put("flag3", "a.ics", event("flag3-a"));
    const puts = Array.from({ length: 6 }, (_, i) => c.put("flag3", "a.ics", event("flag3-a", `v${i}`)));
    const locked = await lock(`${cal("flag3")}a.ics`);
    const statuses = (await Promise.all(puts)).map((r) => r.status);
    assert.equal(locked.status, 200, locked.body);
    for (const s of statuses) assert.ok([201, 204, 423, 409].includes(s), `status ${s}`);
    const before = (await c.get("flag3", "a.ics")).body;
    assert.equal((await c.put("flag3", "a.ics", event("flag3-a", "after"))).status, 423);
    assert.equal((await c.get("flag3", "a.ics")).body, before, "nothing written past the lock");
  });
});
