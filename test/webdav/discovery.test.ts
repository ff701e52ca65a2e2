import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apple, cal, card, cs, dav } from "../../lib/xml/names.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  childNames,
  hrefsIn,
  mustProp,
  parseMultistatus,
  propfindBody,
  responseFor,
  XML_HEADERS,
} from "../helpers/xml.js";

// Started at module level: the helper registers its cleanup with `after`, which inside a `before`
// hook would run as soon as that hook ends.
const server: TestServer = await startTestServer();

async function propfind(path: string, names: string[], depth = "0", user: string | null = "alice") {
  const res = await server.request("PROPFIND", path, {
    user,
    headers: { ...XML_HEADERS, depth },
    body: propfindBody(names),
  });
  assert.equal(res.status, 207, `PROPFIND ${path}: ${res.status} ${res.body}`);
  return parseMultistatus(res.body);
}

describe("account discovery (RFC 6764, RFC 5397, RFC 4791 §6.2, RFC 6352 §7.1)", () => {
  it("RFC 6764 §5: /.well-known/caldav and /.well-known/carddav → 301 to the context path, no credentials needed", async () => {
    for (const service of ["caldav", "carddav"]) {
      for (const method of ["GET", "PROPFIND"]) {
        for (const path of [`/.well-known/${service}`, `/.well-known/${service}/`]) {
          const res = await server.request(method, path, { user: null });
          assert.equal(res.status, 301, `${method} ${path}`);
          assert.equal(res.headers.get("location"), "/", `${method} ${path}`);
          assert.equal(res.headers.get("www-authenticate"), null);
        }
      }
    }
  });

  it("RFC 5397 §3: PROPFIND on / answers DAV:current-user-principal for the authenticated user", async () => {
    for (const user of ["alice", "bob"]) {
      const [root] = await propfind("/", [dav("current-user-principal")], "0", user);
      assert.equal(root.href, "/");
      assert.deepEqual(hrefsIn(mustProp(root, dav("current-user-principal"))), [`/principals/${user}/`]);
    }
  });

  it("RFC 5397 §3: every URL of the account answers DAV:current-user-principal", async () => {
    for (const path of [
      "/principals/",
      "/principals/alice/",
      "/calendars/",
      "/calendars/alice/",
      "/calendars/alice/default/",
      "/addressbooks/alice/",
      "/addressbooks/alice/default/",
    ]) {
      const [r] = await propfind(path, [dav("current-user-principal")]);
      assert.deepEqual(hrefsIn(mustProp(r, dav("current-user-principal"))), ["/principals/alice/"], path);
    }
  });

  it("RFC 6764 §5, RFC 4918 §9.1: a body-less PROPFIND on the context path (a redirect that dropped the body) still names the principal", async () => {
    const res = await server.request("PROPFIND", "/", { headers: { depth: "0" } });
    assert.equal(res.status, 207, res.body);
    const [root] = parseMultistatus(res.body);
    assert.equal(root.href, "/");
    assert.deepEqual(hrefsIn(mustProp(root, dav("current-user-principal"))), ["/principals/alice/"]);
    // Elsewhere allprop keeps to the RFC 4918 properties.
    const [home] = parseMultistatus(
      (await server.request("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } })).body,
    );
    assert.equal(
      home.propstats.flatMap((ps) => ps.props).some((p) => p.name === dav("current-user-principal")),
      false,
    );
  });

  it("RFC 3744 §4, RFC 4791 §6.2.1, RFC 6352 §7.1.1: the principal answers its discovery properties", async () => {
    const [p] = await propfind("/principals/alice/", [
      dav("principal-URL"),
      dav("displayname"),
      dav("resourcetype"),
      cal("calendar-home-set"),
      card("addressbook-home-set"),
      cal("calendar-user-address-set"),
      dav("supported-report-set"),
      dav("current-user-privilege-set"),
    ]);
    assert.equal(p.href, "/principals/alice/");
    assert.deepEqual(hrefsIn(mustProp(p, dav("principal-URL"))), ["/principals/alice/"]);
    assert.equal(mustProp(p, dav("displayname")).text, "alice");
    assert.ok(childNames(mustProp(p, dav("resourcetype"))).includes(dav("principal")));
    assert.deepEqual(hrefsIn(mustProp(p, cal("calendar-home-set"))), ["/calendars/alice/"]);
    assert.deepEqual(hrefsIn(mustProp(p, card("addressbook-home-set"))), ["/addressbooks/alice/"]);
    const addresses = hrefsIn(mustProp(p, cal("calendar-user-address-set")));
    assert.ok(addresses.includes("mailto:alice@example.com"), addresses.join(" "));
    assert.ok(!addresses.some((a) => a.includes("bob")));
    const reports = mustProp(p, dav("supported-report-set"));
    assert.ok(reports.children.every((c) => c.name === dav("supported-report")));
    const privileges = mustProp(p, dav("current-user-privilege-set"))
      .children.filter((c) => c.name === dav("privilege"))
      .flatMap((c) => childNames(c));
    assert.ok(privileges.includes(dav("read")), privileges.join(" "));
  });

  it("RFC 6764 §6 walk: well-known → current-user-principal → home sets → PROPFIND Depth: 1 on each home", async () => {
    // 1. well-known redirect (no credentials)
    const wk = await server.request("PROPFIND", "/.well-known/caldav", { user: null });
    assert.equal(wk.status, 301);
    const context = new URL(wk.headers.get("location")!, server.url).pathname;
    // 2. current-user-principal on the context path
    const [root] = await propfind(context, [dav("current-user-principal")]);
    const principal = hrefsIn(mustProp(root, dav("current-user-principal")))[0];
    // 3. home sets on the principal
    const [p] = await propfind(principal, [cal("calendar-home-set"), card("addressbook-home-set")]);
    const calHome = hrefsIn(mustProp(p, cal("calendar-home-set")))[0];
    const bookHome = hrefsIn(mustProp(p, card("addressbook-home-set")))[0];
    // 4. Depth 1 on each home: the provisioned default collections
    const calendars = await propfind(
      calHome,
      [dav("resourcetype"), dav("displayname"), cs("getctag"), dav("sync-token"), apple("calendar-color")],
      "1",
    );
    responseFor(calendars, calHome);
    const defaultCal = responseFor(calendars, `${calHome}default/`);
    const rt = childNames(mustProp(defaultCal, dav("resourcetype")));
    assert.ok(rt.includes(dav("collection")) && rt.includes(cal("calendar")), rt.join(" "));
    assert.ok(mustProp(defaultCal, cs("getctag")).text.length > 0);
    assert.ok(mustProp(defaultCal, dav("sync-token")).text.length > 0);

    const books = await propfind(bookHome, [dav("resourcetype"), dav("displayname")], "1");
    const defaultBook = responseFor(books, `${bookHome}default/`);
    const brt = childNames(mustProp(defaultBook, dav("resourcetype")));
    assert.ok(brt.includes(dav("collection")) && brt.includes(card("addressbook")), brt.join(" "));
    // Only collections of the right kind in each home.
    assert.ok(!calendars.some((r) => r.href.startsWith("/addressbooks/")));
    assert.ok(!books.some((r) => r.href.startsWith("/calendars/")));
  });

  it("RFC 4918 §10.1: OPTIONS answers DAV compliance classes and Allow without credentials, claiming only what is implemented", async () => {
    for (const path of ["/", "/principals/alice/", "/calendars/alice/", "/calendars/alice/default/"]) {
      const res = await server.request("OPTIONS", path, { user: null });
      assert.equal(res.status, 200, path);
      const classes = (res.headers.get("dav") ?? "").split(",").map((s) => s.trim());
      for (const c of ["1", "3", "calendar-access", "addressbook", "extended-mkcol"]) {
        assert.ok(classes.includes(c), `${path}: DAV header lacks ${c}: ${res.headers.get("dav")}`);
      }
      // Only what is implemented is claimed: no ACL method, so no RFC 3744 access-control class.
      assert.ok(!classes.includes("access-control"), `${path}: ${res.headers.get("dav")}`);
      const allow = (res.headers.get("allow") ?? "").split(",").map((s) => s.trim());
      assert.ok(allow.includes("OPTIONS") && allow.includes("PROPFIND"), `${path}: Allow ${allow}`);
    }
    const cal = await server.request("OPTIONS", "/calendars/alice/default/", { user: null });
    assert.ok((cal.headers.get("allow") ?? "").includes("PROPPATCH"));
  });
});
