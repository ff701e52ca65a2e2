/**
 * The account page over HTTP: form login with a signed, HttpOnly, SameSite=Strict session cookie;
 * CSRF tokens on every form and cross-site POSTs refused; a strict CSP and no inline script; the
 * user's collections with their URLs, created, renamed and deleted through the DAV core (its
 * errors shown); collections shared with other users and invitations answered (accept, decline,
 * leave) through the sharing protocol; app passwords made and revoked; the main password changed
 * (ending old sessions); the Apple profile downloaded.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as plist from "plist";
import { getCollection } from "../../lib/store/collections.js";
import { basic, startTestServer } from "../helpers/server.js";

const server = await startTestServer();

interface Page {
  status: number;
  headers: Headers;
  body: string;
}

async function send(
  method: string,
  path: string,
  o: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Page> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = o.cookie;
  let body: string | undefined;
  if (o.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(o.form).toString();
  }
  const res = await fetch(server.url + path, { method, headers, body, redirect: "manual" });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function login(user = "alice", password = "alice-pw") {
  const res = await send("POST", "/account/login", { form: { user, password } });
  assert.equal(res.status, 303, res.body);
  const set = res.headers.get("set-cookie")!;
  return { cookie: set.split(";")[0], set };
}

const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)![1];

async function post(cookie: string, action: string, fields: Record<string, string>) {
  const home = await send("GET", "/account/", { cookie });
  return send("POST", `/account/${action}`, { cookie, form: { csrf: csrfOf(home.body), ...fields } });
}

describe("the account page", () => {
  it("serves a login form under a strict CSP, with no inline script or style", async () => {
    const res = await send("GET", "/account/");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(res.body, /<form method="post" action="\/account\/login">/);
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(res.body, / style=|<style/, "no inline style");
    assert.equal((await send("GET", "/account/style.css")).status, 200);
    assert.equal((await send("GET", "/account/app.js")).status, 200);
  });

  it("logs in with the main password (HttpOnly, SameSite=Strict, Secure over HTTPS), refuses a wrong one or a forged cookie", async () => {
    assert.equal(
      (await send("POST", "/account/login", { form: { user: "alice", password: "wrong" } })).status,
      401,
    );
    const { cookie, set } = await login();
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.match(set, /Path=\/account\//);
    assert.doesNotMatch(set, /Secure/, "plain HTTP on loopback");
    const viaTls = await send("POST", "/account/login", {
      form: { user: "alice", password: "alice-pw" },
      headers: { "x-forwarded-proto": "https" },
    });
    assert.match(viaTls.headers.get("set-cookie")!, /; Secure/);
    const home = await send("GET", "/account/", { cookie });
    assert.match(home.body, /<h1>alice<\/h1>/);
    assert.match(home.body, new RegExp(`${server.url}/calendars/alice/default/`));
    assert.doesNotMatch(
      home.body,
      /\/calendars\/alice\/inbox\//,
      "the scheduling inbox is not a calendar to manage",
    );
    const forged = cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    assert.match((await send("GET", "/account/", { cookie: forged })).body, /action="\/account\/login"/);
    const bobs = cookie.replace(/^lda_session=alice/, "lda_session=bob");
    assert.match((await send("GET", "/account/", { cookie: bobs })).body, /action="\/account\/login"/);
  });

  it("refuses a POST without the page's CSRF token, or from another site", async () => {
    const { cookie } = await login();
    const home = await send("GET", "/account/", { cookie });
    const csrf = csrfOf(home.body);
    const noToken = await send("POST", "/account/create", { cookie, form: { kind: "calendar", name: "x1" } });
    assert.equal(noToken.status, 403);
    const otherSite = await send("POST", "/account/create", {
      cookie,
      form: { csrf, kind: "calendar", name: "x2" },
      headers: { origin: "https://evil.example" },
    });
    assert.equal(otherSite.status, 403);
    const sandboxed = await send("POST", "/account/create", {
      cookie,
      form: { csrf, kind: "calendar", name: "x4" },
      headers: { origin: "null" },
    });
    assert.equal(sandboxed.status, 403, "Origin: null (a sandboxed frame) is another site");
    const fetchSite = await send("POST", "/account/create", {
      cookie,
      form: { csrf, kind: "calendar", name: "x3" },
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(fetchSite.status, 403);
    for (const n of ["x1", "x2", "x3"])
      assert.equal(
        await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: n }),
        undefined,
      );
  });

  it("creates, renames and deletes calendars and address books through the DAV core, and shows its refusals", async () => {
    const { cookie } = await login();
    let res = await post(cookie, "create", { kind: "calendar", name: "work", displayname: "Work" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Created Work/);
    assert.equal(
      (await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: "work" }))?.props[
        "{DAV:}displayname"
      ],
      "Work",
    );
    res = await post(cookie, "create", { kind: "calendar", name: "work" });
    assert.equal(res.status, 405, "MKCALENDAR's answer for an existing URL");
    assert.match(res.body, /class="error"/);
    res = await post(cookie, "create", { kind: "addressbook", name: "team", displayname: "Team <3" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Team &lt;3/, "escaped");
    res = await post(cookie, "rename", { target: "calendar:work", displayname: "Office" });
    assert.match(res.body, /Renamed to Office/);
    assert.equal(
      (await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: "work" }))?.props[
        "{DAV:}displayname"
      ],
      "Office",
    );
    res = await post(cookie, "delete", { target: "calendar:work" });
    assert.match(res.body, /Deleted work/);
    assert.equal(
      await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: "work" }),
      undefined,
    );
    res = await post(cookie, "rename", { target: "calendar", displayname: "x" });
    assert.equal(res.status, 400, "a target without a name is refused, not a 500");
    // A name a DAV client chose with a space in it is found by its decoded path.
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/my%20cal/")).status, 201);
    res = await post(cookie, "delete", { target: "calendar:my cal" });
    assert.match(res.body, /Deleted my cal/);
    res = await post(cookie, "delete", { target: "calendar:inbox" });
    assert.equal(res.status, 403, "the core's rule: the inbox cannot be deleted");
  });

  it("makes an app password (shown once) that works for DAV, and revokes it", async () => {
    const { cookie } = await login();
    const res = await post(cookie, "app-password", { name: "Phone" });
    const secret = /<span class="secret">([^<]+)<\/span>/.exec(res.body)![1];
    const dav = () =>
      server.request("PROPFIND", "/calendars/alice/", {
        user: null,
        headers: { depth: "0", authorization: basic("alice", secret) },
      });
    assert.equal((await dav()).status, 207);
    const home = await send("GET", "/account/", { cookie });
    assert.ok(!home.body.includes(secret), "never shown again");
    const id = secret.split(".")[0];
    assert.match(home.body, new RegExp(`name="id" value="${id}"`));
    assert.match((await post(cookie, "revoke", { id })).body, /Revoked/);
    assert.equal((await dav()).status, 401);
  });

  it("downloads an Apple profile (application/x-apple-aspen-config) with the CalDAV and CardDAV payloads", async () => {
    const { cookie } = await login();
    const res = await post(cookie, "mobileconfig", {});
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-apple-aspen-config");
    assert.match(res.headers.get("content-disposition")!, /attachment; filename="alice\.mobileconfig"/);
    const root = plist.parse(res.body) as { PayloadContent: Record<string, unknown>[] };
    assert.deepEqual(
      root.PayloadContent.map((p) => p.PayloadType),
      ["com.apple.caldav.account", "com.apple.carddav.account"],
    );
    assert.equal(root.PayloadContent[0].CalDAVHostName, "127.0.0.1");
  });

  it("shares a calendar with another user, who accepts it on their page; stopping the share removes their view", async () => {
    const { cookie: alice } = await login();
    let res = await post(alice, "share", { target: "calendar:default", sharee: "bob", access: "read-write" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /class="note">Shared default with bob \(read-write\)/);
    assert.match(res.body, /Shared with <strong>bob<\/strong><\/span><span class="mute">read-write, pending/);
    assert.match(res.body, /action="\/account\/unshare"/);
    assert.match(res.body, /<form method="post" action="\/account\/share" class="inline">/);

    const { cookie: bob } = await login("bob", "bob-pw");
    let home = await send("GET", "/account/", { cookie: bob });
    assert.match(home.body, /<h2>Shared with you<\/h2>/);
    assert.match(home.body, /calendar of alice, read-write, invited/);
    assert.match(home.body, /name="answer" value="accept"><button type="submit">Accept<\/button>/);
    assert.match(home.body, /name="answer" value="decline"><button type="submit" class="danger">Decline/);
    const view = "/calendars/bob/alice-default/";
    const propfind = () => server.request("PROPFIND", view, { user: "bob", headers: { depth: "0" } });
    assert.equal((await propfind()).status, 404, "not in bob's home before he accepts");

    res = await post(bob, "reply", { kind: "calendar", owner: "alice", name: "default", answer: "accept" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Accepted alice’s calendar default/);
    assert.doesNotMatch(res.body, /value="accept"/, "the invitation is answered");
    assert.match(res.body, new RegExp(`<span class="url">${server.url}${view}</span>`));
    assert.match(res.body, /name="answer" value="leave"><button type="submit" class="danger">Leave/);
    assert.doesNotMatch(
      res.body,
      /name="target" value="calendar:alice-default"/,
      "a view gets neither Delete nor Rename nor Share of bob's own",
    );
    assert.equal((await propfind()).status, 207);
    const listing = await server.request("PROPFIND", "/calendars/bob/", {
      user: "bob",
      headers: { depth: "1" },
    });
    assert.match(listing.body, /\/calendars\/bob\/alice-default\//);
    assert.match((await send("GET", "/account/", { cookie: alice })).body, /read-write, accepted/);

    res = await post(alice, "unshare", { target: "calendar:default", sharee: "bob" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /default is no longer shared with bob/);
    assert.doesNotMatch(res.body, /Shared with <strong>bob/);
    assert.equal((await propfind()).status, 404, "bob's view is gone");
    home = await send("GET", "/account/", { cookie: bob });
    assert.doesNotMatch(home.body, /alice-default/);
    assert.match(home.body, /<h2>Shared with you<\/h2><p class="mute">Nothing yet\.<\/p>/);
  });

  it("refuses an unknown sharee, the owner themselves or no sharee with a message (4xx, not 500)", async () => {
    const { cookie } = await login();
    let res = await post(cookie, "share", { target: "calendar:default", sharee: "nobody", access: "read" });
    assert.equal(res.status, 403);
    assert.match(res.body, /class="error">403: nobody is not a user of this server/);
    res = await post(cookie, "share", { target: "calendar:default", sharee: "no%zz@example.com" });
    assert.equal(res.status, 403, "an address that is no user, with a stray % in it");
    assert.match(res.body, /class="error">403: mailto:no%25zz@example\.com is not a user/);
    res = await post(cookie, "share", { target: "calendar:default", sharee: "alice" });
    assert.equal(res.status, 403);
    assert.match(res.body, /class="error">403: A collection is always shared with its owner/);
    res = await post(cookie, "share", { target: "calendar:default", sharee: " " });
    assert.equal(res.status, 400);
    assert.match(res.body, /class="error">Name the user to share with/);
    res = await post(cookie, "share", { target: "calendar:inbox", sharee: "bob" });
    assert.equal(res.status, 403, "the scheduling inbox is not shared");
    res = await post(cookie, "reply", { kind: "calendar", owner: "bob", name: "default", answer: "accept" });
    assert.equal(res.status, 404, "nothing of bob's is shared with alice");
    assert.match(res.body, /class="error">404: /);
  });

  it("shares an address book by e-mail; the sharee declines, is invited again, accepts and leaves (the owner's stays)", async () => {
    const { cookie: alice } = await login();
    let res = await post(alice, "create", { kind: "addressbook", name: "club", displayname: "Club <&>" });
    assert.equal(res.status, 200, res.body);
    res = await post(alice, "share", {
      target: "addressbook:club",
      sharee: "bob@example.com",
      access: "read",
    });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Shared with <strong>bob<\/strong><\/span><span class="mute">read-only, pending/);
    const { cookie: bob } = await login("bob", "bob-pw");
    const home = await send("GET", "/account/", { cookie: bob });
    assert.match(
      home.body,
      /<span class="name">Club &lt;&amp;&gt;<\/span><span class="mute">address book of alice, read-only/,
    );
    res = await post(bob, "reply", { kind: "addressbook", owner: "alice", name: "club", answer: "decline" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /Declined alice’s address book club/);
    assert.match((await send("GET", "/account/", { cookie: alice })).body, /read-only, declined/);

    await post(alice, "share", { target: "addressbook:club", sharee: "bob", access: "read" });
    res = await post(bob, "reply", { kind: "addressbook", owner: "alice", name: "club", answer: "accept" });
    assert.equal(res.status, 200, res.body);
    const view = "/addressbooks/bob/alice-club/";
    const propfind = () => server.request("PROPFIND", view, { user: "bob", headers: { depth: "0" } });
    assert.equal((await propfind()).status, 207);
    res = await post(bob, "reply", { kind: "addressbook", owner: "alice", name: "club", answer: "leave" });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /You left alice’s address book club/);
    assert.equal((await propfind()).status, 404, "the view is gone");
    assert.ok(
      await getCollection(server.ctx.store, { kind: "addressbook", owner: "alice", name: "club" }),
      "alice's address book stays",
    );
    assert.match((await send("GET", "/account/", { cookie: alice })).body, /read-only, declined/);
  });

  it("with shareAutoAccept the shared calendar is in the sharee's home and on their page at once", async () => {
    const auto = await startTestServer({ shareAutoAccept: true });
    const as = async (user: string) => {
      const res = await fetch(`${auto.url}/account/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ user, password: `${user}-pw` }).toString(),
        redirect: "manual",
      });
      const cookie = res.headers.get("set-cookie")!.split(";")[0];
      const get = async () => (await fetch(`${auto.url}/account/`, { headers: { cookie } })).text();
      return { cookie, get };
    };
    const alice = await as("alice");
    const res = await fetch(`${auto.url}/account/share`, {
      method: "POST",
      headers: { cookie: alice.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        csrf: csrfOf(await alice.get()),
        target: "calendar:default",
        sharee: "bob",
        access: "read",
      }).toString(),
    });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.doesNotMatch(body, /once they accept/);
    assert.match(body, /read-only, accepted/);
    const bobs = await (await as("bob")).get();
    assert.match(bobs, new RegExp(`<span class="url">${auto.url}/calendars/bob/alice-default/</span>`));
    assert.doesNotMatch(bobs, /value="accept"/, "no invitation to answer");
    assert.equal(
      (
        await auto.request("PROPFIND", "/calendars/bob/alice-default/", {
          user: "bob",
          headers: { depth: "0" },
        })
      ).status,
      207,
    );
  });

  it("changes the main password (the current one is required; other sessions end)", async () => {
    const { cookie: other } = await login("bob", "bob-pw");
    const { cookie } = await login("bob", "bob-pw");
    assert.equal((await post(cookie, "password", { current: "nope", new: "long-enough-1" })).status, 403);
    const changed = await post(cookie, "password", { current: "bob-pw", new: "long-enough-1" });
    assert.equal(changed.status, 303);
    const fresh = changed.headers.get("set-cookie")!.split(";")[0];
    assert.match((await send("GET", "/account/", { cookie: fresh })).body, /<h1>bob<\/h1>/);
    assert.match(
      (await send("GET", "/account/", { cookie: other })).body,
      /action="\/account\/login"/,
      "the other session ended",
    );
    assert.equal(
      (await send("POST", "/account/login", { form: { user: "bob", password: "long-enough-1" } })).status,
      303,
    );
  });
});
