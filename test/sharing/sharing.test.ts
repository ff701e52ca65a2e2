import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { cal, clark, dav, NS } from "../../lib/xml/names.js";
import { DAV_METHODS } from "../../lib/http/methods.js";
import { event } from "../helpers/ical.js";
import { PASSWORDS, startTestServer, type TestServer } from "../helpers/server.js";
import {
  childNames,
  errorConditions,
  hrefsIn,
  mustProp,
  parseMultistatus,
  prop,
  propfindBody,
  proppatchBody,
  XML_HEADERS,
} from "../helpers/xml.js";

const cs = (l: string) => clark(NS.CS, l);
const apple = (l: string) => clark(NS.APPLE, l);
PASSWORDS.carol = "carol-pw";
PASSWORDS.dave = "dave-pw";
// Never shared anything, never given a share.
PASSWORDS.erin = "erin-pw";
const server: TestServer = await startTestServer();

const shareBody = (sets: [string, "read" | "read-write"][], removes: string[] = []) =>
  `<?xml version="1.0"?><CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">${sets
    .map(([h, a]) => `<CS:set><D:href>${h}</D:href><CS:${a}/></CS:set>`)
    .join("")}${removes.map((h) => `<CS:remove><D:href>${h}</D:href></CS:remove>`).join("")}</CS:share>`;

const replyBody = (host: string, accept: boolean) =>
  `<?xml version="1.0"?><CS:invite-reply xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:href>mailto:x</D:href>${
    accept ? "<CS:invite-accepted/>" : "<CS:invite-declined/>"
  }<CS:hosturl><D:href>${host}</D:href></CS:hosturl></CS:invite-reply>`;

async function share(
  owner: string,
  path: string,
  sets: [string, "read" | "read-write"][],
  removes: string[] = [],
) {
  const res = await server.request("POST", path, {
    user: owner,
    headers: XML_HEADERS,
    body: shareBody(sets, removes),
  });
  assert.equal(res.status, 200, res.body);
}

/** Accept the invitation to `host` as `user`; returns where the view is. */
async function accept(user: string, host: string): Promise<string> {
  const res = await server.request("POST", `/calendars/${user}/`, {
    user,
    headers: XML_HEADERS,
    body: replyBody(host, true),
  });
  assert.equal(res.status, 200, res.body);
  const m = /<D:href>([^<]+)<\/D:href>/.exec(res.body);
  assert.ok(m && res.body.includes("shared-as"), res.body);
  return m[1];
}

async function put(user: string, path: string, body: string, headers: Record<string, string> = {}) {
  return server.request("PUT", path, {
    user,
    headers: { "content-type": "text/calendar", ...headers },
    body,
  });
}

async function members(user: string, path: string): Promise<string[]> {
  const res = await server.request("PROPFIND", path, {
    user,
    headers: { ...XML_HEADERS, depth: "1" },
    body: propfindBody([dav("getetag")]),
  });
  assert.equal(res.status, 207, res.body);
  return parseMultistatus(res.body)
    .map((r) => r.href)
    .filter((h) => h !== path)
    .map((h) => h.slice(path.length))
    .sort();
}

const syncBody = (token = "") =>
  `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;

async function sync(user: string, path: string, token = "") {
  const res = await server.request("REPORT", path, { user, headers: XML_HEADERS, body: syncBody(token) });
  assert.equal(res.status, 207, res.body);
  const token2 = /<D:sync-token>([^<]+)<\/D:sync-token>/.exec(res.body)![1];
  const rs = parseMultistatus(res.body);
  return {
    token: token2,
    changed: rs
      .filter((r) => r.status === undefined)
      .map((r) => r.href.slice(path.length))
      .sort(),
    removed: rs
      .filter((r) => r.status === 404)
      .map((r) => r.href.slice(path.length))
      .sort(),
  };
}

before(async () => {
  for (const user of Object.keys(PASSWORDS)) {
    const res = await server.request("PROPFIND", "/", { user, headers: { depth: "0" } });
    assert.equal(res.status, 207);
  }
});

describe("sharing a calendar (CalendarServer caldav-sharing, RFC 3744 privileges)", () => {
  let view = "";

  it("caldav-sharing §5.3.2: CS:share invites; the invitation is in the sharee's notifications until accepted, then the view is in their home", async () => {
    await put("alice", "/calendars/alice/default/a1.ics", event("a1"));
    await share("alice", "/calendars/alice/default/", [["mailto:bob@example.com", "read-write"]]);
    // Not in bob's home before he answers.
    assert.deepEqual(
      (await members("bob", "/calendars/bob/")).filter((h) => h.startsWith("alice")),
      [],
    );
    const principal = await server.request("PROPFIND", "/principals/bob/", {
      user: "bob",
      headers: { ...XML_HEADERS, depth: "0" },
      body: propfindBody([cs("notification-URL")]),
    });
    const notifications = hrefsIn(mustProp(parseMultistatus(principal.body)[0], cs("notification-URL")))[0];
    assert.equal(notifications, "/notifications/bob/");
    const listed = await members("bob", notifications);
    assert.equal(listed.length, 1);
    const note = await server.request("GET", notifications + listed[0], { user: "bob" });
    assert.equal(note.status, 200);
    assert.match(note.body, /invite-notification/);
    assert.match(note.body, /\/calendars\/alice\/default\//);
    assert.match(note.body, /read-write/);
    // Nobody else reads bob's notifications.
    assert.equal((await server.request("GET", notifications + listed[0], { user: "carol" })).status, 404);

    view = await accept("bob", "/calendars/alice/default/");
    assert.equal(view, "/calendars/bob/alice-default/");
    assert.deepEqual(await members("bob", notifications), []);
    assert.ok((await members("bob", "/calendars/bob/")).includes("alice-default/"));
    assert.deepEqual(await members("bob", view), ["a1.ics"]);
    const got = await server.request("GET", `${view}a1.ics`, { user: "bob" });
    assert.equal(got.status, 200);
    assert.match(got.body, /SUMMARY:Event a1/);
  });

  it("the view answers CS:shared-url, CS:invite, the CS:shared resourcetype and the owner's ctag and sync-token", async () => {
    const names = [
      cs("shared-url"),
      cs("invite"),
      dav("resourcetype"),
      cs("getctag"),
      dav("sync-token"),
      dav("current-user-privilege-set"),
      dav("owner"),
    ];
    const get = async (user: string, path: string) => {
      const res = await server.request("PROPFIND", path, {
        user,
        headers: { ...XML_HEADERS, depth: "0" },
        body: propfindBody(names),
      });
      return parseMultistatus(res.body)[0];
    };
    const mine = await get("alice", "/calendars/alice/default/");
    const theirs = await get("bob", view);
    assert.deepEqual(hrefsIn(mustProp(theirs, cs("shared-url"))), ["/calendars/alice/default/"]);
    assert.ok(childNames(mustProp(theirs, dav("resourcetype"))).includes(cs("shared")));
    assert.ok(childNames(mustProp(mine, dav("resourcetype"))).includes(cs("shared-owner")));
    assert.equal(mustProp(theirs, cs("getctag")).text, mustProp(mine, cs("getctag")).text);
    assert.equal(mustProp(theirs, dav("sync-token")).text, mustProp(mine, dav("sync-token")).text);
    assert.deepEqual(hrefsIn(mustProp(theirs, dav("owner"))), ["/principals/alice/"]);
    const invite = mustProp(mine, cs("invite"));
    const user = invite.children.find((c) => c.name === cs("user"))!;
    assert.deepEqual(hrefsIn(user), ["/principals/bob/"]);
    assert.ok(childNames(user).includes(cs("invite-accepted")));
    const privs = mustProp(theirs, dav("current-user-privilege-set")).children.flatMap((p) => childNames(p));
    for (const p of [dav("read"), dav("write-content"), dav("bind"), dav("unbind")])
      assert.ok(privs.includes(p), p);
    assert.ok(!privs.includes(dav("share")), "a sharee cannot share on");
  });

  it("RFC 6578: writes through both paths advance one sequence and one change log; both users' syncs see exactly the members", async () => {
    const a0 = await sync("alice", "/calendars/alice/default/");
    const b0 = await sync("bob", view);
    assert.deepEqual(a0.changed, ["a1.ics"]);
    assert.deepEqual(b0.changed, ["a1.ics"]);
    assert.equal((await put("bob", `${view}b1.ics`, event("b1"))).status, 201);
    assert.equal((await put("alice", "/calendars/alice/default/a2.ics", event("a2"))).status, 201);
    const del = await server.request("DELETE", `${view}a1.ics`, { user: "bob" });
    assert.equal(del.status, 204);
    const a1 = await sync("alice", "/calendars/alice/default/", a0.token);
    const b1 = await sync("bob", view, b0.token);
    assert.deepEqual(a1.changed, ["a2.ics", "b1.ics"]);
    assert.deepEqual(a1.removed, ["a1.ics"]);
    assert.deepEqual(b1.changed, a1.changed);
    assert.deepEqual(b1.removed, a1.removed);
    assert.equal(a1.token, b1.token, "one change log: one token");
    assert.deepEqual(await members("alice", "/calendars/alice/default/"), ["a2.ics", "b1.ics"]);
    assert.deepEqual(await members("bob", view), ["a2.ics", "b1.ics"]);
  });

  it("RFC 4791 §5.3.2.1, RFC 9110 §13.1.1: the two users' writes to one member follow one device's rules (412 on a stale ETag; one winner of a race)", async () => {
    const first = await server.request("GET", "/calendars/alice/default/a2.ics");
    const etag = first.headers.get("etag")!;
    assert.equal((await put("bob", `${view}a2.ics`, event("a2", "bob's"), { "if-match": etag })).status, 204);
    const stale = await put("alice", "/calendars/alice/default/a2.ics", event("a2", "alice's"), {
      "if-match": etag,
    });
    assert.equal(stale.status, 412);
    // Both create the same new member at once with If-None-Match: *: exactly one wins.
    const results = await Promise.all([
      put("alice", "/calendars/alice/default/race.ics", event("race", "alice"), { "if-none-match": "*" }),
      put("bob", `${view}race.ics`, event("race", "bob"), { "if-none-match": "*" }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 412]);
  });

  it("RFC 4791 §5.3.2.1: a UID clash in the shared calendar names the holder by the path the requester sees", async () => {
    const res = await put("bob", `${view}other.ics`, event("a2"));
    assert.equal(res.status, 409);
    assert.ok(errorConditions(res.body).includes(cal("no-uid-conflict")));
    assert.match(res.body, new RegExp(`<D:href>${view}a2.ics</D:href>`));
    const mine = await put("alice", "/calendars/alice/default/other.ics", event("b1"));
    assert.equal(mine.status, 409);
    assert.match(mine.body, /<D:href>\/calendars\/alice\/default\/b1.ics<\/D:href>/);
  });

  it("per-user properties: the sharee's display name and colour are their own; the owner's stay", async () => {
    const patch = await server.request("PROPPATCH", view, {
      user: "bob",
      headers: XML_HEADERS,
      body: proppatchBody([
        { set: dav("displayname"), value: "Alice's family" },
        { set: apple("calendar-color"), value: "#FF0000" },
      ]),
    });
    assert.equal(patch.status, 207);
    assert.doesNotMatch(patch.body, /HTTP\/1.1 (4|5)\d\d/);
    const names = propfindBody([dav("displayname"), apple("calendar-color")]);
    const read = async (user: string, path: string) =>
      parseMultistatus(
        (
          await server.request("PROPFIND", path, {
            user,
            headers: { ...XML_HEADERS, depth: "0" },
            body: names,
          })
        ).body,
      )[0];
    const theirs = await read("bob", view);
    const mine = await read("alice", "/calendars/alice/default/");
    assert.equal(mustProp(theirs, dav("displayname")).text, "Alice's family");
    assert.equal(mustProp(theirs, apple("calendar-color")).text, "#FF0000");
    assert.equal(mustProp(mine, dav("displayname")).text, "Calendar");
    assert.notEqual(prop(mine, apple("calendar-color"))?.text, "#FF0000");
  });
});

describe("read-only shares, un-sharing and the owner's delete", () => {
  let view = "";
  before(async () => {
    const made = await server.request("MKCALENDAR", "/calendars/alice/family/", { user: "alice" });
    assert.equal(made.status, 201);
    await put("alice", "/calendars/alice/family/f1.ics", event("f1"));
    await share("alice", "/calendars/alice/family/", [["/principals/carol/", "read"]]);
    view = await accept("carol", "/calendars/alice/family/");
  });

  it("RFC 3744 §7.1.1: a read-only sharee reads, and every write is 403 need-privileges naming the privilege", async () => {
    assert.deepEqual(await members("carol", view), ["f1.ics"]);
    const privs = mustProp(
      parseMultistatus(
        (
          await server.request("PROPFIND", view, {
            user: "carol",
            headers: { ...XML_HEADERS, depth: "0" },
            body: propfindBody([dav("current-user-privilege-set")]),
          })
        ).body,
      )[0],
      dav("current-user-privilege-set"),
    ).children.flatMap((p) => childNames(p));
    assert.ok(privs.includes(dav("read")));
    for (const p of [dav("write"), dav("write-content"), dav("bind"), dav("unbind")])
      assert.ok(!privs.includes(p), p);

    const refused: [string, string, string, Record<string, string>, string?][] = [
      ["PUT", `${view}new.ics`, dav("bind"), { "content-type": "text/calendar" }, event("new")],
      [
        "PUT",
        `${view}f1.ics`,
        dav("write-content"),
        { "content-type": "text/calendar" },
        event("f1", "changed"),
      ],
      ["DELETE", `${view}f1.ics`, dav("unbind"), {}],
      ["MOVE", `${view}f1.ics`, dav("unbind"), { destination: "/calendars/carol/default/f1.ics" }],
      ["POST", view, dav("share"), XML_HEADERS, shareBody([["/principals/dave/", "read"]])],
    ];
    for (const [method, path, privilege, headers, body] of refused) {
      const res = await server.request(method, path, { user: "carol", headers, body });
      assert.equal(res.status, 403, `${method} ${path}: ${res.body}`);
      assert.ok(errorConditions(res.body).includes(dav("need-privileges")), res.body);
      assert.match(res.body, new RegExp(`<D:privilege><(D|x\\d):${privilege.slice(6)}`), res.body);
      assert.ok(res.body.includes(`<D:href>${path}</D:href>`), res.body);
    }
    // A property of the owner's: refused in the multistatus, nothing written.
    const patch = await server.request("PROPPATCH", view, {
      user: "carol",
      headers: XML_HEADERS,
      body: proppatchBody([
        { set: cal("calendar-description"), value: "mine now" },
        { set: dav("displayname"), value: "ok" },
      ]),
    });
    assert.equal(patch.status, 207);
    assert.match(patch.body, /HTTP\/1.1 403/);
    assert.match(patch.body, /need-privileges/);
    assert.match(patch.body, /HTTP\/1.1 424/);
    // The data is as alice left it.
    assert.deepEqual(await members("alice", "/calendars/alice/family/"), ["f1.ics"]);
    assert.match((await server.request("GET", "/calendars/alice/family/f1.ics")).body, /SUMMARY:Event f1/);
  });

  it("un-sharing removes the sharee's view at once; sharing again needs a new answer", async () => {
    await share("alice", "/calendars/alice/family/", [], ["mailto:carol@example.com"]);
    assert.equal(
      (await server.request("PROPFIND", view, { user: "carol", headers: { depth: "0" } })).status,
      404,
    );
    assert.equal((await server.request("GET", `${view}f1.ics`, { user: "carol" })).status, 404);
    assert.ok(!(await members("carol", "/calendars/carol/")).includes("alice-family/"));
    const put1 = await put("carol", `${view}x.ics`, event("x"));
    assert.equal(put1.status, 409, "no collection there any more");
    await share("alice", "/calendars/alice/family/", [["/principals/carol/", "read"]]);
    assert.equal(
      (await server.request("PROPFIND", view, { user: "carol", headers: { depth: "0" } })).status,
      404,
    );
    assert.equal(await accept("carol", "/calendars/alice/family/"), view);
  });

  it("the sharee deleting their view leaves the share: the owner's calendar and its members stay", async () => {
    assert.equal((await server.request("DELETE", view, { user: "carol" })).status, 204);
    assert.equal(
      (await server.request("PROPFIND", view, { user: "carol", headers: { depth: "0" } })).status,
      404,
    );
    assert.deepEqual(await members("alice", "/calendars/alice/family/"), ["f1.ics"]);
    const res = await server.request("PROPFIND", "/calendars/alice/family/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: propfindBody([cs("invite")]),
    });
    assert.match(res.body, /invite-declined/);
    view = await accept("carol", "/calendars/alice/family/");
  });

  it("deleting the owner's calendar removes every view of it, and the sharee's home sync reports it gone", async () => {
    await share("alice", "/calendars/alice/family/", [["/principals/dave/", "read-write"]]);
    const daves = await accept("dave", "/calendars/alice/family/");
    const home = await sync("carol", "/calendars/carol/");
    assert.ok(home.changed.includes("alice-family/"));
    assert.equal((await server.request("DELETE", "/calendars/alice/family/")).status, 204);
    for (const [user, path] of [
      ["carol", view],
      ["dave", daves],
    ]) {
      assert.equal((await server.request("PROPFIND", path, { user, headers: { depth: "0" } })).status, 404);
      assert.ok(!(await members(user, `/calendars/${user}/`)).includes(path.split("/")[3] + "/"));
    }
    const after = await sync("carol", "/calendars/carol/", home.token);
    assert.deepEqual(after.removed, ["alice-family/"]);
    // The name is free again in the sharee's home.
    assert.equal((await server.request("MKCALENDAR", view, { user: "carol" })).status, 201);
  });

  it("a view keeps its URL: MOVE of a shared calendar is refused with 409, of a view with 409 as well", async () => {
    await share("alice", "/calendars/alice/default/", [["/principals/dave/", "read"]]);
    const res = await server.request("MOVE", "/calendars/alice/default/", {
      headers: { destination: "/calendars/alice/renamed/" },
    });
    assert.equal(res.status, 409, res.body);
    assert.match(res.body, /shared/);
    assert.equal(
      (await server.request("PROPFIND", "/calendars/alice/default/", { headers: { depth: "0" } })).status,
      207,
    );
    const daves = await accept("dave", "/calendars/alice/default/");
    const moved = await server.request("MOVE", daves, {
      user: "dave",
      headers: { destination: "/calendars/dave/mine/" },
    });
    assert.equal(moved.status, 409, moved.body);
    assert.equal(
      (await server.request("PROPFIND", daves, { user: "dave", headers: { depth: "0" } })).status,
      207,
    );
    await share("alice", "/calendars/alice/default/", [], ["/principals/dave/"]);
  });
});

describe("a user who was never shared anything (RFC 3744 §7.1.1)", () => {
  it("every method on every path of other users' data, shared or not, is refused and changes nothing", async () => {
    await share("alice", "/calendars/alice/default/", [["/principals/bob/", "read-write"]]);
    const paths = [
      "/principals/alice/",
      "/calendars/alice/",
      "/calendars/alice/default/",
      "/calendars/alice/default/a2.ics",
      "/calendars/alice/default/nothing.ics",
      "/calendars/alice/inbox/",
      "/calendars/alice/outbox/",
      "/addressbooks/alice/",
      "/addressbooks/alice/default/",
      "/files/alice/",
      "/calendars/bob/",
      "/calendars/bob/alice-default/",
      "/calendars/bob/alice-default/a2.ics",
      "/calendars/bob/default/",
    ];
    // Every method the server answers (OPTIONS needs no login and reveals nothing of a user).
    const methods = [...DAV_METHODS.filter((m) => m !== "OPTIONS"), "POST"];
    const bodies: Record<string, [string, string] | undefined> = {
      PUT: ["text/calendar", event("intruder")],
      PROPFIND: ["application/xml", propfindBody([dav("displayname")])],
      PROPPATCH: ["application/xml", proppatchBody([{ set: dav("displayname"), value: "pwned" }])],
      REPORT: ["application/xml", syncBody()],
      POST: ["application/xml", shareBody([["/principals/dave/", "read-write"]])],
      LOCK: [
        "application/xml",
        '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
      ],
    };
    const before = await members("alice", "/calendars/alice/default/");
    for (const path of paths) {
      for (const method of methods) {
        const b = bodies[method];
        const headers: Record<string, string> = {
          depth: "0",
          destination: "/calendars/erin/default/copied/",
          "lock-token": "<urn:uuid:00000000-0000-0000-0000-000000000000>",
          ...(b ? { "content-type": b[0] } : {}),
        };
        const res = await server.request(method, path, { user: "erin", headers, body: b?.[1] });
        assert.equal(res.status, 403, `${method} ${path}: ${res.status} ${res.body}`);
        if (method !== "HEAD")
          assert.ok(errorConditions(res.body).includes(dav("need-privileges")), `${method} ${path}`);
        assert.doesNotMatch(res.body, /SUMMARY|a2/);
      }
    }
    assert.deepEqual(await members("alice", "/calendars/alice/default/"), before);
    assert.deepEqual(await members("bob", "/calendars/bob/alice-default/"), before);
    assert.deepEqual(await members("erin", "/calendars/erin/"), ["default/", "inbox/", "outbox/"]);
  });
});

const vcard = (uid: string, fn: string) =>
  ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${fn}`, `N:${fn};;;;`, "END:VCARD", ""].join("\r\n");

describe("address books, reports and the other methods through a view", () => {
  it("RFC 6352: an address book shared read-write takes vCards through the view; multiget and addressbook-query answer with the sharee's hrefs", async () => {
    await share("alice", "/addressbooks/alice/default/", [["bob", "read-write"]]);
    const reply = await server.request("POST", "/addressbooks/bob/", {
      user: "bob",
      headers: XML_HEADERS,
      body: replyBody("/addressbooks/alice/default/", true),
    });
    assert.equal(reply.status, 200, reply.body);
    const view = "/addressbooks/bob/alice-default/";
    const put1 = await server.request("PUT", `${view}c1.vcf`, {
      user: "bob",
      headers: { "content-type": "text/vcard" },
      body: vcard("c1", "Carla Shared"),
    });
    assert.equal(put1.status, 201, put1.body);
    assert.equal((await server.request("GET", "/addressbooks/alice/default/c1.vcf")).status, 200);
    const multiget = await server.request("REPORT", view, {
      user: "bob",
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<?xml version="1.0"?><CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><D:href>${view}c1.vcf</D:href></CR:addressbook-multiget>`,
    });
    assert.equal(multiget.status, 207, multiget.body);
    const got = parseMultistatus(multiget.body);
    assert.deepEqual(
      got.map((r) => r.href),
      [`${view}c1.vcf`],
    );
    assert.match(mustProp(got[0], clark(NS.CARDDAV, "address-data")).text, /FN:Carla Shared/);
    const query = await server.request("REPORT", view, {
      user: "bob",
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<?xml version="1.0"?><CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><CR:filter><CR:prop-filter name="FN"><CR:text-match>Carla</CR:text-match></CR:prop-filter></CR:filter></CR:addressbook-query>`,
    });
    assert.equal(query.status, 207, query.body);
    assert.deepEqual(
      parseMultistatus(query.body).map((r) => r.href),
      [`${view}c1.vcf`],
    );
  });

  it("a read-only sharee cannot COPY into the view (403 need-privileges bind), nor LOCK through it, nor replace it with a collection", async () => {
    await share("alice", "/calendars/alice/default/", [["/principals/dave/", "read"]]);
    const view = await accept("dave", "/calendars/alice/default/");
    assert.equal((await put("dave", "/calendars/dave/default/mine.ics", event("dave-mine"))).status, 201);
    const copy = await server.request("COPY", "/calendars/dave/default/mine.ics", {
      user: "dave",
      headers: { destination: `${view}mine.ics` },
    });
    assert.equal(copy.status, 403, copy.body);
    assert.ok(errorConditions(copy.body).includes(dav("need-privileges")));
    const lock = await server.request("LOCK", `${view}a2.ics`, {
      user: "dave",
      headers: { ...XML_HEADERS, timeout: "Second-60" },
      body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
    });
    assert.equal(lock.status, 403, lock.body);
    const over = await server.request("COPY", "/calendars/dave/default/", {
      user: "dave",
      headers: { destination: view, overwrite: "T" },
    });
    assert.equal(over.status, 409, over.body);
    // A copy out of the view into the sharee's own calendar is a read, and allowed.
    const out = await server.request("COPY", `${view}a2.ics`, {
      user: "dave",
      headers: { destination: "/calendars/dave/default/a2-copy.ics" },
    });
    assert.equal(out.status, 201, out.body);
    assert.deepEqual((await members("alice", "/calendars/alice/default/")).includes("mine.ics"), false);
  });

  it("draft-pot-webdav-resource-sharing §5.3: DAV:share-resource shares and un-shares too", async () => {
    const made = await server.request("MKCALENDAR", "/calendars/bob/team/", { user: "bob" });
    assert.equal(made.status, 201);
    const body = (access: string) =>
      `<?xml version="1.0"?><D:share-resource xmlns:D="DAV:"><D:sharee><D:href>mailto:carol@example.com</D:href><D:share-access><D:${access}/></D:share-access></D:sharee></D:share-resource>`;
    const res = await server.request("POST", "/calendars/bob/team/", {
      user: "bob",
      headers: XML_HEADERS,
      body: body("read"),
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(await accept("carol", "/calendars/bob/team/"), "/calendars/carol/bob-team/");
    const gone = await server.request("POST", "/calendars/bob/team/", {
      user: "bob",
      headers: XML_HEADERS,
      body: body("no-access"),
    });
    assert.equal(gone.status, 200);
    const after = await server.request("PROPFIND", "/calendars/carol/bob-team/", {
      user: "carol",
      headers: { depth: "0" },
    });
    assert.equal(after.status, 404);
  });

  it("bad sharing requests are 4xx with a reason: an unknown sharee, oneself, an inbox, a malformed body", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["/calendars/alice/default/", shareBody([["mailto:nobody@example.com", "read"]]), 403, /not a user/],
      ["/calendars/alice/default/", shareBody([["/principals/alice/", "read"]]), 403, /owner/],
      ["/calendars/alice/inbox/", shareBody([["/principals/bob/", "read"]]), 403, /Only a calendar/],
      [
        "/calendars/alice/default/",
        "<CS:share xmlns:CS='http://calendarserver.org/ns/'><CS:set/></CS:share>",
        400,
        /href/,
      ],
      [
        "/calendars/alice/default/",
        "<CS:share xmlns:CS='http://calendarserver.org/ns/'>",
        400,
        /well-formed/,
      ],
      ["/calendars/alice/", replyBody("/calendars/bob/default/", true), 404, /shared with you/],
    ];
    for (const [path, body, status, reason] of cases) {
      const res = await server.request("POST", path, { headers: XML_HEADERS, body });
      assert.equal(res.status, status, `${path} ${body}: ${res.body}`);
      assert.match(res.body, reason);
    }
  });
});
