/**
 * Creating calendars: MKCALENDAR (RFC 4791 §5.3.1), extended MKCOL (RFC 5689) and plain MKCOL
 * (RFC 4918 §9.3), against DynamoDB Local through the HTTP front door.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseXml, type XmlElement } from "../../lib/xml/parse.js";
import {
  BERLIN_VTIMEZONE,
  CalClient,
  CALDAV,
  assertExplained,
  davError,
  event,
  queryPartition,
  todo,
  vcalendar,
} from "../helpers/ical.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const APPLE = "http://apple.com/ns/ical/";
const TZ = vcalendar(...BERLIN_VTIMEZONE);

const mkcalendarBody = (props: string) =>
  `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}" xmlns:A="${APPLE}">
  <D:set><D:prop>${props}</D:prop></D:set>
</C:mkcalendar>`;

const mkcolBody = (props: string) =>
  `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="${CALDAV}" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>${props}</D:prop></D:set>
</D:mkcol>`;

function propstats(body: string): { status: string; props: string[]; error?: string }[] {
  const root = parseXml(body);
  const out: { status: string; props: string[]; error?: string }[] = [];
  const walk = (el: XmlElement) => {
    if (el.name === "{DAV:}propstat") {
      const prop = el.children.find((c) => c.name === "{DAV:}prop");
      const err = el.children.find((c) => c.name === "{DAV:}error");
      out.push({
        status: el.children.find((c) => c.name === "{DAV:}status")?.text.trim() ?? "",
        props: prop?.children.map((c) => c.name) ?? [],
        error: err?.children[0]?.name,
      });
    }
    el.children.forEach(walk);
  };
  walk(root);
  return out;
}

async function propfind(c: CalClient, path: string, props: string): Promise<XmlElement> {
  const res = await c.req("PROPFIND", path, {
    headers: { depth: "0", "content-type": "application/xml" },
    body: `<D:propfind xmlns:D="DAV:" xmlns:C="${CALDAV}" xmlns:A="${APPLE}"><D:prop>${props}</D:prop></D:propfind>`,
  });
  assert.equal(res.status, 207, res.body);
  return parseXml(res.body);
}
const findEl = (el: XmlElement, name: string): XmlElement | undefined =>
  el.name === name ? el : el.children.map((c) => findEl(c, name)).find(Boolean);

const server: TestServer = await startTestServer();
const c = new CalClient(server);

describe("MKCALENDAR and MKCOL on DynamoDB", () => {
  before(async () => {
    // Provision alice (her default calendar and address book) before anything else.
    assert.equal((await c.req("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } })).status, 207);
  });

  it("RFC 4791 §5.3.1: MKCALENDAR without a body creates an empty calendar (201, Location)", async () => {
    const res = await c.mkcalendar("plain");
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.get("location"), "/calendars/alice/plain/");
    const col = await c.collection("plain");
    assert.ok(col);
    assert.equal(col.kind, "calendar");
    assert.equal(col.seq, 0);
    assert.deepEqual(col.components, ["VEVENT", "VTODO", "VJOURNAL"]);
    const items = await c.items(col.id);
    assert.equal(items.all.length, 0, "a new calendar has no members, reservations or log");
    const rt = findEl(
      await propfind(c, "/calendars/alice/plain/", "<D:resourcetype/>"),
      "{DAV:}resourcetype",
    );
    assert.deepEqual(rt?.children.map((e) => e.name).sort(), ["{DAV:}collection", `{${CALDAV}}calendar`]);
  });

  it("RFC 4791 §5.3.1: MKCALENDAR's <D:set> (displayname, description, timezone, component set, Apple color/order) is applied in the same write", async () => {
    const res = await c.mkcalendar(
      "work",
      mkcalendarBody(`
        <D:displayname>Work &amp; Projects</D:displayname>
        <C:calendar-description xml:lang="en">Team calendar</C:calendar-description>
        <C:calendar-timezone><![CDATA[${TZ}]]></C:calendar-timezone>
        <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
        <A:calendar-color>#FF8800FF</A:calendar-color>
        <A:calendar-order>3</A:calendar-order>`),
    );
    assert.equal(res.status, 201, res.body);
    // One write: the collection item was created with its properties at sequence 0, no PROPPATCH after.
    const col = await c.collection("work");
    assert.ok(col);
    assert.equal(col.seq, 0, "the properties came with the create, not with a later update");
    assert.equal(col.props["{DAV:}displayname"], "Work & Projects");
    assert.equal(col.props[`{${CALDAV}}calendar-description`], "Team calendar");
    assert.match(col.props[`{${CALDAV}}calendar-timezone`], /TZID:Europe\/Berlin/);
    assert.equal(col.props[`{${APPLE}}calendar-color`], "#FF8800FF");
    assert.equal(col.props[`{${APPLE}}calendar-order`], "3");
    assert.deepEqual(col.components, ["VTODO"]);

    const xml = await propfind(
      c,
      "/calendars/alice/work/",
      "<D:displayname/><A:calendar-color/><C:supported-calendar-component-set/>",
    );
    assert.equal(findEl(xml, "{DAV:}displayname")?.text, "Work & Projects");
    assert.equal(findEl(xml, `{${APPLE}}calendar-color`)?.text, "#FF8800FF");
    const comps = findEl(xml, `{${CALDAV}}supported-calendar-component-set`)?.children ?? [];
    assert.deepEqual(
      comps.map((e) => e.attrs["{}name"]),
      ["VTODO"],
    );

    // The component set is enforced on PUT (RFC 4791 §5.3.2.1 supported-calendar-component).
    const ev = await c.put("work", "e.ics", event("work-e1"));
    assertExplained(ev, 403);
    assert.equal(davError(ev).name, `{${CALDAV}}supported-calendar-component`);
    assert.equal((await c.put("work", "t.ics", todo("work-t1"))).status, 201);
  });

  it("RFC 4791 §5.3.1.1: MKCALENDAR where a calendar exists → 405 resource-must-be-null, existing calendar untouched", async () => {
    await c.newCalendar("taken", mkcalendarBody("<D:displayname>First</D:displayname>"));
    const before = await c.collection("taken");
    const res = await c.mkcalendar("taken", mkcalendarBody("<D:displayname>Second</D:displayname>"));
    assertExplained(res, 405);
    assert.equal(davError(res).name, "{DAV:}resource-must-be-null");
    assert.ok(res.headers.get("allow"), "a 405 carries Allow");
    const after = await c.collection("taken");
    assert.deepEqual(after, before, "the existing calendar is unchanged (same id, seq, props)");
  });

  it("RFC 4918 §9.3.1: MKCOL where a calendar exists → 405 resource-must-be-null", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/default/");
    assertExplained(res, 405);
    assert.equal(davError(res).name, "{DAV:}resource-must-be-null");
  });

  it("RFC 4791 §5.3.1: MKCALENDAR whose parent collection does not exist → 409", async () => {
    const res = await c.req("MKCALENDAR", "/calendars/alice/nope/cal/");
    assertExplained(res, 409);
    assert.equal(await c.collection("nope"), undefined);
  });

  it("RFC 4791 §5.3.1: MKCALENDAR two levels below a missing collection → 409", async () => {
    const deeper = await c.req("MKCALENDAR", "/calendars/alice/nope/deeper/cal/");
    assertExplained(deeper, 409);
  });

  it("RFC 4791 §5.3.1.1: MKCALENDAR inside another calendar → 403 calendar-collection-location-ok", async () => {
    const res = await c.req("MKCALENDAR", "/calendars/alice/default/inner/");
    assertExplained(res, 403);
    assert.equal(davError(res).name, `{${CALDAV}}calendar-collection-location-ok`);
    // Nothing was created: no object, no collection named like it.
    const def = await c.collection("default");
    assert.ok(def);
    assert.equal((await c.items(def.id)).objects.length, 0);
  });

  it("RFC 4791 §5.3.1.1: MKCALENDAR in an address-book home → 403 calendar-collection-location-ok", async () => {
    const res = await c.req("MKCALENDAR", "/addressbooks/alice/cal-here/");
    assertExplained(res, 403);
    assert.equal(davError(res).name, `{${CALDAV}}calendar-collection-location-ok`);
  });

  it("RFC 4791 §5.3.1: MKCALENDAR with a protected property → 403 multistatus, 424 for the rest, nothing created", async () => {
    const res = await c.mkcalendar(
      "bad-prop",
      mkcalendarBody("<D:displayname>X</D:displayname><D:getetag>&quot;x&quot;</D:getetag>"),
    );
    assert.equal(res.status, 403, res.body);
    const root = parseXml(res.body);
    assert.equal(root.name, `{${CALDAV}}mkcalendar-response`);
    const ps = propstats(res.body);
    const forbidden = ps.find((p) => p.status.includes("403"));
    assert.deepEqual(forbidden?.props, ["{DAV:}getetag"]);
    assert.equal(forbidden?.error, "{DAV:}cannot-modify-protected-property");
    assert.deepEqual(ps.find((p) => p.status.includes("424"))?.props, ["{DAV:}displayname"]);
    assert.equal(await c.collection("bad-prop"), undefined, "MKCALENDAR is atomic: nothing was created");
  });

  it("RFC 4791 §5.3.1: MKCALENDAR with an invalid value (calendar-color) → fails, nothing created", async () => {
    const res = await c.mkcalendar(
      "bad-color",
      mkcalendarBody("<A:calendar-color>orange</A:calendar-color>"),
    );
    assert.ok(res.status === 403 || res.status === 409, `status ${res.status}`);
    assert.match(res.body, /calendar-color/);
    assert.equal(await c.collection("bad-color"), undefined);
  });

  it("RFC 4791 §5.3.1: MKCALENDAR with an unknown component in supported-calendar-component-set → 403, nothing created", async () => {
    const res = await c.mkcalendar(
      "bad-comp",
      mkcalendarBody(
        '<C:supported-calendar-component-set><C:comp name="VCARD"/></C:supported-calendar-component-set>',
      ),
    );
    assert.equal(res.status, 403, res.body);
    assert.equal(
      propstats(res.body).find((p) => p.status.includes("403"))?.error,
      `{${CALDAV}}supported-calendar-component`,
    );
    assert.equal(await c.collection("bad-comp"), undefined);
  });

  it("RFC 4918 §9.3 / RFC 4791 §5.3.1: an MKCALENDAR body the server cannot read → 415 (not XML) or 400 (malformed XML)", async () => {
    const json = await c.mkcalendar("json", '{"displayname":"x"}', { "content-type": "application/json" });
    assertExplained(json, 415);
    const wrongRoot = await c.mkcalendar("wrong-root", mkcolBody("<D:displayname>x</D:displayname>"));
    assertExplained(wrongRoot, 415);
    const broken = await c.mkcalendar(
      "broken",
      "<C:mkcalendar xmlns:C='urn:ietf:params:xml:ns:caldav'><D:set>",
    );
    assertExplained(broken, 400);
    for (const name of ["json", "wrong-root", "broken"])
      assert.equal(await c.collection(name), undefined, name);
  });

  it("RFC 5689 §3: extended MKCOL with resourcetype calendar creates a calendar with its properties", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/ext/", {
      headers: { "content-type": "application/xml" },
      body: mkcolBody(`
        <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
        <D:displayname>Extended</D:displayname>
        <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>`),
    });
    assert.equal(res.status, 201, res.body);
    const col = await c.collection("ext");
    assert.equal(col?.kind, "calendar");
    assert.equal(col?.props["{DAV:}displayname"], "Extended");
    assert.deepEqual(col?.components, ["VEVENT"]);
  });

  it("RFC 5689 §3: extended MKCOL with resourcetype addressbook creates an address book", async () => {
    const res = await c.req("MKCOL", "/addressbooks/alice/friends/", {
      headers: { "content-type": "application/xml" },
      body: mkcolBody(
        "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Friends</D:displayname>",
      ),
    });
    assert.equal(res.status, 201, res.body);
    const items = await queryPartition(server.ctx.store, "HOME#card#alice");
    const book = items.find((i) => i.sk.S === "C#friends");
    assert.equal(book?.kind.S, "addressbook");
    assert.equal(book?.props.M?.["{DAV:}displayname"]?.S, "Friends");
  });

  it("RFC 5689 §3: extended MKCOL asking for a calendar in the address-book home → 403 calendar-collection-location-ok", async () => {
    const res = await c.req("MKCOL", "/addressbooks/alice/cal-in-books/", {
      headers: { "content-type": "application/xml" },
      body: mkcolBody("<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"),
    });
    assertExplained(res, 403);
    assert.equal(davError(res).name, `{${CALDAV}}calendar-collection-location-ok`);
  });

  it("RFC 5689 §3: extended MKCOL with an unknown resourcetype → 403 valid-resourcetype", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/weird/", {
      headers: { "content-type": "application/xml" },
      body: mkcolBody('<D:resourcetype><D:collection/><X:thing xmlns:X="urn:x"/></D:resourcetype>'),
    });
    assertExplained(res, 403);
    assert.equal(davError(res).name, "{DAV:}valid-resourcetype");
    assert.equal(await c.collection("weird"), undefined);
  });

  it("RFC 5689 §3: extended MKCOL with a protected property → 403 mkcol-response, nothing created", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/ext-bad/", {
      headers: { "content-type": "application/xml" },
      body: mkcolBody(
        "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:getcontentlength>1</D:getcontentlength>",
      ),
    });
    assert.equal(res.status, 403, res.body);
    assert.equal(parseXml(res.body).name, "{DAV:}mkcol-response");
    assert.equal(await c.collection("ext-bad"), undefined);
  });

  it("RFC 4918 §9.3: plain MKCOL in the calendar home creates a calendar", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/plain-mkcol/");
    assert.equal(res.status, 201, res.body);
    assert.equal((await c.collection("plain-mkcol"))?.kind, "calendar");
  });

  it("RFC 4918 §9.3: MKCOL with a body it does not understand → 415", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/mkcol-415/", {
      headers: { "content-type": "application/xml" },
      body: "<not-xml",
    });
    assertExplained(res, 415);
    const other = await c.req("MKCOL", "/calendars/alice/mkcol-415/", {
      headers: { "content-type": "text/calendar" },
      body: "<D:propfind xmlns:D='DAV:'/>",
    });
    assertExplained(other, 415);
    assert.equal(await c.collection("mkcol-415"), undefined);
  });

  it("RFC 4918 §9.3.1: MKCOL whose parent does not exist → 409", async () => {
    const res = await c.req("MKCOL", "/calendars/alice/nope/col/");
    assertExplained(res, 409);
  });

  it("RFC 3744 §7.1.1: MKCALENDAR in another user's home → 403 need-privileges, nothing created", async () => {
    const res = await c.req("MKCALENDAR", "/calendars/bob/intruder/");
    assertExplained(res, 403);
    assert.equal(davError(res).name, "{DAV:}need-privileges");
    const bob = new CalClient(server, "bob");
    assert.equal(await bob.collection("intruder"), undefined);
  });
});

describe("RFC 5689 §3 / RFC 4918 §9.2.1: initial properties are bounded", () => {
  it("an MKCALENDAR whose properties exceed the collection's room → 403 with 507 propstats, and nothing is created", async () => {
    const huge = "x".repeat(200 * 1024);
    const res = await server.request("MKCALENDAR", "/calendars/alice/huge-props/", {
      headers: { "content-type": "application/xml; charset=utf-8" },
      body: `<C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:set><D:prop><D:displayname>Big</D:displayname><X:blob xmlns:X="urn:x">${huge}</X:blob></D:prop></D:set></C:mkcalendar>`,
    });
    assert.equal(res.status, 403);
    const statuses = parseXml(res.body)
      .children.filter((c) => c.name === "{DAV:}propstat")
      .map((ps) => ps.children.find((c) => c.name === "{DAV:}status")?.text);
    assert.ok(
      statuses.every((s) => s?.includes(" 507 ")),
      statuses.join(","),
    );
    assert.equal(
      (await server.request("PROPFIND", "/calendars/alice/huge-props/", { headers: { depth: "0" } })).status,
      404,
    );
  });
});
