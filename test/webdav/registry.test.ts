/**
 * The protocol modules and the registry the server assembles from them (lib/webdav/registry.ts):
 * what is advertised (Allow, 405s, the DAV header, supported-report-set) is derived from what is
 * registered; adding a REPORT or a live property is one registration; a module's before-write
 * guard takes part in another module's write transaction, and its after-write hook hears of it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DavError } from "../../lib/errors.js";
import { MODULES } from "../../lib/server.js";
import { changesBetween } from "../../lib/store/change-log.js";
import { listCollections } from "../../lib/store/collections.js";
import { colPk } from "../../lib/store/keys.js";
import { absent } from "../../lib/store/tx.js";
import { webdav } from "../../lib/webdav/module.js";
import { parseAddress } from "../../lib/webdav/paths.js";
import { Registry, type DavModule, type MemberWrite } from "../../lib/webdav/registry.js";
import { multistatusResponse, renderMultistatus } from "../../lib/xml/multistatus.js";
import { cal, card, cs, dav } from "../../lib/xml/names.js";
import { CalClient, event } from "../helpers/ical.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  errorConditions,
  mustProp,
  parseMultistatus,
  propfindBody,
  propStatus,
  XML_HEADERS,
} from "../helpers/xml.js";

const standard = new Registry(MODULES);
const server = await startTestServer();
const c = new CalClient(server);
await c.newCalendar("reg");

const listed = (header: string | null) =>
  (header ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

async function reportsOf(srv: TestServer, path: string): Promise<string[]> {
  const res = await srv.request("PROPFIND", path, {
    headers: { ...XML_HEADERS, depth: "0" },
    body: propfindBody([dav("supported-report-set")]),
  });
  assert.equal(res.status, 207, res.body);
  return mustProp(parseMultistatus(res.body)[0], dav("supported-report-set"))
    .children.flatMap((sr) => sr.children)
    .flatMap((r) => r.children.map((x) => x.name));
}

describe("registry: one registration per method, report, property and kind", () => {
  it("two modules claiming the same method, report, property or collection kind fail at start, naming both", () => {
    const rival = (extra: Partial<DavModule>): DavModule => ({ name: "rival", ...extra });
    const run = async () => ({ status: 200, headers: {} });
    assert.throws(
      () => new Registry([webdav, rival({ methods: { GET: { allowedOn: () => true, run } } })]),
      /method GET is registered by both webdav and rival/,
    );
    assert.throws(
      () =>
        new Registry([webdav, rival({ reports: [{ name: dav("expand-property"), on: () => true, run }] })]),
      /report \{DAV:\}expand-property is registered by both webdav and rival/,
    );
    assert.throws(
      () => new Registry([webdav, rival({ properties: [{ name: dav("getetag"), get: () => "x" }] })]),
      /property \{DAV:\}getetag is registered by both webdav and rival/,
    );
    const [, caldavModule] = MODULES;
    assert.throws(
      () => new Registry([caldavModule, rival({ collections: caldavModule.collections })]),
      /collection kind calendar is registered by both caldav and rival/,
    );
  });

  it("RFC 4918 §10.1: the DAV header is the modules' compliance tokens, classes first, each once", () => {
    assert.equal(
      standard.compliance,
      "1, 2, 3, extended-mkcol, calendar-access, addressbook, calendar-auto-schedule, webdav-push, calendarserver-sharing",
    );
  });
});

describe("registry: what is advertised is what is registered", () => {
  it("RFC 9110 §10.2.1, §15.5.6: OPTIONS and every 405 list the same Allow, derived from the methods registered for the address", async () => {
    for (const path of [
      "/",
      "/calendars/alice/",
      "/calendars/alice/reg/",
      "/calendars/alice/reg/x.ics",
      "/addressbooks/alice/default/",
    ]) {
      const options = await server.request("OPTIONS", path, { user: null });
      assert.deepEqual(listed(options.headers.get("allow")), standard.allow(parseAddress(path)), path);
    }
    const calendarAllow = listed(
      (await server.request("OPTIONS", "/calendars/alice/reg/", { user: null })).headers.get("allow"),
    );
    assert.ok(calendarAllow.includes("MKCALENDAR"), "CalDAV's MKCALENDAR is listed on a calendar URL");
    const bookAllow = listed(
      (await server.request("OPTIONS", "/addressbooks/alice/default/", { user: null })).headers.get("allow"),
    );
    assert.ok(!bookAllow.includes("MKCALENDAR"), `no MKCALENDAR on an address book: ${bookAllow}`);
    // A registered method not allowed here, and a method nobody registered.
    for (const method of ["PUT", "BIND"]) {
      const res = await server.request(method, "/calendars/alice/reg/");
      assert.equal(res.status, 405, `${method}: ${res.body}`);
      assert.deepEqual(listed(res.headers.get("allow")), calendarAllow, method);
    }
    const onRoot = await server.request("GET", "/");
    assert.equal(onRoot.status, 405);
    assert.deepEqual(listed(onRoot.headers.get("allow")), ["OPTIONS", "PROPFIND", "PROPPATCH", "REPORT"]);
  });

  it("RFC 3253 §3.1.5: supported-report-set lists exactly the registered reports that run there; an unregistered one is refused", async () => {
    const book = await reportsOf(server, "/addressbooks/alice/default/");
    assert.deepEqual(
      book.sort(),
      [
        card("addressbook-multiget"),
        card("addressbook-query"),
        dav("expand-property"),
        dav("sync-collection"),
      ].sort(),
    );
    const res = await server.request("REPORT", "/addressbooks/alice/default/", {
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<X:made-up-query xmlns:D="DAV:" xmlns:X="urn:example:unregistered"><D:prop><D:getetag/></D:prop></X:made-up-query>`,
    });
    assert.equal(res.status, 403, res.body);
    assert.ok(errorConditions(res.body).includes(dav("supported-report")), res.body);

    const calendar = await reportsOf(server, "/calendars/alice/reg/");
    for (const r of [
      cal("calendar-query"),
      cal("calendar-multiget"),
      cal("free-busy-query"),
      dav("sync-collection"),
    ]) {
      assert.ok(calendar.includes(r), `a calendar lists ${r}`);
    }
    // A report registered but not for this resource fails the same precondition.
    const elsewhere = await server.request("REPORT", "/principals/alice/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:prop><D:getetag/></D:prop></D:sync-collection>`,
    });
    assert.equal(elsewhere.status, 403);
    assert.ok(errorConditions(elsewhere.body).includes(dav("supported-report")), elsewhere.body);
    assert.ok(!(await reportsOf(server, "/principals/alice/")).includes(dav("sync-collection")));
  });

  it("RFC 4918 §9.4: HEAD on a calendar answers from its record (ETag = getctag), reading no member", async () => {
    await c.put("reg", "head.ics", event("reg-head"));
    const client = server.ctx.store.client;
    const sent: string[] = [];
    const send = client.send.bind(client);
    client.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      sent.push(command.constructor.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.send;
    let head;
    try {
      head = await c.req("HEAD", "/calendars/alice/reg/");
    } finally {
      client.send = send;
    }
    assert.equal(head.status, 200);
    assert.equal(head.raw.length, 0);
    assert.match(head.headers.get("content-type") ?? "", /^text\/calendar/);
    assert.equal(head.headers.get("etag"), (await c.ctag("reg")).ctag);
    assert.deepEqual(sent, ["GetItemCommand"], "one read: the calendar's own item, no listing of members");
    const get = await c.req("GET", "/calendars/alice/reg/");
    assert.equal(get.headers.get("etag"), head.headers.get("etag"));
  });
});

describe("registry: a module added to the list takes part", () => {
  const EX = "urn:example:module";
  const frozen: string[] = [];
  const heard: (Pick<MemberWrite, "name" | "op"> & { etag?: string })[] = [];
  let failHook = false;
  const freezeKey = (colId: string) => ({ pk: { S: colPk(colId) }, sk: { S: "FREEZE" } });

  /** A module as a later issue would write one: a report, a live property, a guard and a hook. */
  const example: DavModule = {
    name: "example",
    reports: [
      {
        name: `{${EX}}ping`,
        on: (r) => r.type === "collection",
        run: async (m) => multistatusResponse(renderMultistatus([{ href: m.target.href, status: 200 }])),
      },
    ],
    properties: [{ name: `{${EX}}answer`, get: (r) => (r.type === "collection" ? "42" : undefined) }],
    hooks: {
      beforeWrite: (w) => [
        {
          part: "freeze",
          add: (tx) => tx.check("freeze", freezeKey(w.col.id), absent),
          failure: () => {
            frozen.push(w.name);
            return new DavError(423, "This calendar is frozen.", { name: dav("lock-token-submitted") });
          },
        },
      ],
      afterWrite: async (w) => {
        if (failHook) throw new Error("the hook broke");
        heard.push({ name: w.name, op: w.op, etag: w.etag });
      },
    },
  };

  it("adding a REPORT and a live property is one registration each: PROPFIND, supported-report-set and REPORT find them", async () => {
    const extended = await startTestServer({}, [...MODULES, example]);
    const alice = new CalClient(extended);
    await alice.newCalendar("ex");
    const res = await extended.request("PROPFIND", "/calendars/alice/ex/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: propfindBody([`{${EX}}answer`, cs("getctag")]),
    });
    const [r] = parseMultistatus(res.body);
    assert.equal(mustProp(r, `{${EX}}answer`).text, "42");
    assert.ok((await reportsOf(extended, "/calendars/alice/ex/")).includes(`{${EX}}ping`));
    const ping = await extended.request("REPORT", "/calendars/alice/ex/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<x:ping xmlns:x="${EX}"/>`,
    });
    assert.equal(ping.status, 207, ping.body);
    // The standard server has neither.
    const plain = await server.request("PROPFIND", "/calendars/alice/reg/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: propfindBody([`{${EX}}answer`]),
    });
    assert.equal(propStatus(parseMultistatus(plain.body)[0], `{${EX}}answer`), 404);
    assert.ok(!(await reportsOf(server, "/calendars/alice/reg/")).includes(`{${EX}}ping`));
  });

  it("a module's before-write guard is a part of the PUT's and the DELETE's transaction: when it fails, its error answers and nothing is written", async () => {
    const extended = await startTestServer({}, [...MODULES, example]);
    const alice = new CalClient(extended);
    const col = await alice.newCalendar("guarded");
    assert.equal((await alice.put("guarded", "kept.ics", event("guard-kept"))).status, 201);
    const store = extended.ctx.store;
    await store.client.send(
      new PutItemCommand({ TableName: store.tableName, Item: { ...freezeKey(col.id), at: { S: "now" } } }),
    );
    const before = await alice.collection("guarded");

    const put = await alice.put("guarded", "new.ics", event("guard-new"));
    assert.equal(put.status, 423, put.body);
    assert.ok(errorConditions(put.body).includes(dav("lock-token-submitted")), put.body);
    const del = await alice.delete("/calendars/alice/guarded/kept.ics");
    assert.equal(del.status, 423, del.body);
    assert.deepEqual(frozen, ["new.ics", "kept.ics"]);

    assert.equal((await alice.get("guarded", "new.ics")).status, 404, "the refused PUT stored nothing");
    assert.equal((await alice.get("guarded", "kept.ics")).status, 200, "the refused DELETE removed nothing");
    const after = await alice.collection("guarded");
    assert.equal(after?.seq, before?.seq, "the sequence did not move");
    assert.deepEqual(
      await changesBetween(store, col.id, before!.seq, before!.seq + 5),
      [],
      "no change was logged",
    );
    assert.equal(await alice.uidHolder(col.id, "guard-new"), undefined, "no UID was reserved");

    await store.client.send(new DeleteItemCommand({ TableName: store.tableName, Key: freezeKey(col.id) }));
    assert.equal((await alice.put("guarded", "new.ics", event("guard-new"))).status, 201);
  });

  it("a module's after-write hook hears of every committed member write; a failing hook never undoes the write", async () => {
    const extended = await startTestServer({}, [...MODULES, example]);
    const alice = new CalClient(extended);
    await alice.newCalendar("heard");
    heard.length = 0;
    const put = await alice.put("heard", "a.ics", event("heard-a"));
    assert.equal(put.status, 201);
    assert.equal((await alice.delete("/calendars/alice/heard/a.ics")).status, 204);
    assert.deepEqual(heard, [
      { name: "a.ics", op: "put", etag: put.headers.get("etag") },
      { name: "a.ics", op: "delete", etag: undefined },
    ]);

    failHook = true;
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => void logged.push(line);
    try {
      assert.equal((await alice.put("heard", "b.ics", event("heard-b"))).status, 201);
    } finally {
      console.error = original;
      failHook = false;
    }
    assert.equal((await alice.get("heard", "b.ics")).status, 200, "the write stands");
    assert.match(logged.join("\n"), /after-write hook failed.*the hook broke/);
  });
});

describe("registry: a module left out takes everything it added with it", () => {
  it("without CardDAV: no addressbook class, no address-book home, its URLs are unknown (404, 409 for a create), no address book is provisioned", async () => {
    const calendarsOnly = await startTestServer(
      {},
      MODULES.filter((mod) => mod.name !== "carddav"),
    );
    // Bob: logins are cached per process, and alice's cached record says she was provisioned elsewhere.
    const as = { user: "bob" };
    const options = await calendarsOnly.request("OPTIONS", "/", { user: null });
    assert.equal(
      options.headers.get("dav"),
      "1, 2, 3, extended-mkcol, calendar-access, calendar-auto-schedule, webdav-push, calendarserver-sharing",
    );
    const root = await calendarsOnly.request("PROPFIND", "/", {
      headers: { ...XML_HEADERS, depth: "1" },
      body: propfindBody([dav("resourcetype")]),
    });
    assert.deepEqual(
      parseMultistatus(root.body)
        .map((r) => r.href)
        .sort(),
      ["/", "/calendars/", "/files/", "/principals/"],
    );
    for (const path of ["/addressbooks/", "/addressbooks/bob/", "/addressbooks/bob/default/"]) {
      const res = await calendarsOnly.request("PROPFIND", path, { ...as, headers: { depth: "0" } });
      assert.equal(res.status, 404, `${path}: ${res.body}`);
    }
    assert.equal((await calendarsOnly.request("MKCOL", "/addressbooks/bob/new/", as)).status, 409);
    const principal = await calendarsOnly.request("PROPFIND", "/principals/bob/", {
      ...as,
      headers: { ...XML_HEADERS, depth: "0" },
      body: propfindBody([card("addressbook-home-set"), cal("calendar-home-set")]),
    });
    const [p] = parseMultistatus(principal.body);
    assert.equal(propStatus(p, card("addressbook-home-set")), 404);
    assert.equal(propStatus(p, cal("calendar-home-set")), 200);
    assert.deepEqual(
      (await listCollections(calendarsOnly.ctx.store, "addressbook", "bob")).map((col) => col.name),
      [],
      "the first login provisioned no address book",
    );
    assert.deepEqual(
      (await listCollections(calendarsOnly.ctx.store, "calendar", "bob")).map((col) => col.name),
      ["default", "inbox", "outbox"],
    );
  });
});
