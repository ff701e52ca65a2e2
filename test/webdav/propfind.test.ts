import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { apple, cal, card, cs, dav } from "../../lib/xml/names.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { BERLIN_VTIMEZONE, vcalendar } from "../helpers/ical.js";
import {
  allProps,
  childNames,
  errorConditions,
  hrefsIn,
  mustProp,
  parseMultistatus,
  prop,
  propfindBody,
  propStatus,
  proppatchBody,
  XML_HEADERS,
} from "../helpers/xml.js";

const QUOTA = 5_000_000;
const MAX_RESOURCE = 100_000;
const server: TestServer = await startTestServer({ quotaBytes: QUOTA, maxResourceSize: MAX_RESOURCE });

const CAL = "/calendars/alice/default/";
const BOOK = "/addressbooks/alice/default/";
const EVENT = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//test//EN",
  "BEGIN:VEVENT",
  "UID:propfind-1@example.com",
  "DTSTAMP:20240101T000000Z",
  "DTSTART:20240102T100000Z",
  "DTEND:20240102T110000Z",
  "SUMMARY:Propfind test",
  "END:VEVENT",
  "END:VCALENDAR",
  "",
].join("\r\n");

async function propfind(path: string, body: string | undefined, headers: Record<string, string> = {}) {
  return server.request("PROPFIND", path, {
    headers: { ...(body ? XML_HEADERS : {}), depth: "0", ...headers },
    body,
  });
}

async function ms(path: string, names: string[], depth = "0") {
  const res = await propfind(path, propfindBody(names), { depth });
  assert.equal(res.status, 207, `PROPFIND ${path}: ${res.status} ${res.body}`);
  return parseMultistatus(res.body);
}

let eventEtag = "";
before(async () => {
  // The first request provisions alice; then one event in her default calendar.
  const put = await server.request("PUT", `${CAL}event-1.ics`, {
    headers: { "content-type": "text/calendar; charset=utf-8" },
    body: EVENT,
  });
  assert.equal(put.status, 201, put.body);
  eventEtag = put.headers.get("etag") ?? "";
  assert.ok(eventEtag);
});

describe("PROPFIND (RFC 4918 §9.1)", () => {
  it("RFC 4918 §9.1: PROPFIND Depth: infinity → 403 propfind-finite-depth", async () => {
    const res = await propfind("/calendars/alice/", propfindBody([dav("displayname")]), {
      depth: "infinity",
    });
    assert.equal(res.status, 403);
    assert.equal(errorConditions(res.body)[0], dav("propfind-finite-depth"));
  });

  it("RFC 4918 §9.1, §10.2: PROPFIND without a Depth header means infinity → 403 propfind-finite-depth, no listing", async () => {
    const res = await server.request("PROPFIND", "/calendars/alice/", {
      headers: XML_HEADERS,
      body: propfindBody([dav("displayname")]),
    });
    assert.equal(res.status, 403, res.body);
    assert.equal(errorConditions(res.body)[0], dav("propfind-finite-depth"));
    assert.doesNotMatch(res.body, /multistatus/);
  });

  it("RFC 4918 §10.2: a Depth other than 0, 1, infinity → 400", async () => {
    const res = await propfind("/calendars/alice/", propfindBody([dav("displayname")]), { depth: "2" });
    assert.equal(res.status, 400);
  });

  it("RFC 4918 §9.1: Depth: 0 answers the target only; Depth: 1 adds its members", async () => {
    const zero = await ms("/calendars/alice/", [dav("resourcetype")], "0");
    assert.deepEqual(
      zero.map((r) => r.href),
      ["/calendars/alice/"],
    );
    const one = await ms("/calendars/alice/", [dav("resourcetype")], "1");
    // RFC 6638 §2.2, §2.3: the scheduling inbox and outbox live in the calendar home too.
    assert.deepEqual(one.map((r) => r.href).sort(), [
      "/calendars/alice/",
      CAL,
      "/calendars/alice/inbox/",
      "/calendars/alice/outbox/",
    ]);
    const calOne = await ms(CAL, [dav("getetag")], "1");
    assert.deepEqual(calOne.map((r) => r.href).sort(), [CAL, `${CAL}event-1.ics`]);
    const objZero = await ms(`${CAL}event-1.ics`, [dav("getetag")], "1");
    assert.deepEqual(
      objZero.map((r) => r.href),
      [`${CAL}event-1.ics`],
    );
  });

  it("RFC 4918 §9.1: prop — known properties in a 200 propstat, unknown ones in a 404 propstat", async () => {
    const [r] = await ms(CAL, [dav("displayname"), "{urn:example:unknown}nothing", dav("getetag")]);
    assert.equal(propStatus(r, dav("displayname")), 200);
    assert.equal(propStatus(r, "{urn:example:unknown}nothing"), 404);
    // A collection has no DAV:getetag here: not found, and never an empty 200.
    assert.equal(propStatus(r, dav("getetag")), 404);
    const missing = r.propstats.find((ps) => ps.status === 404)!;
    assert.ok(
      missing.props.every((p) => p.children.length === 0 && p.text === ""),
      "404 props are empty",
    );
  });

  it("RFC 4918 §9.1: an empty body is allprop; allprop returns the RFC 4918 live properties and no 404s", async () => {
    for (const body of [undefined, `<propfind xmlns="DAV:"><allprop/></propfind>`]) {
      const res = await propfind(CAL, body);
      assert.equal(res.status, 207, res.body);
      const [r] = parseMultistatus(res.body);
      for (const name of [
        dav("resourcetype"),
        dav("displayname"),
        dav("getcontenttype"),
        dav("getlastmodified"),
        dav("creationdate"),
      ]) {
        assert.equal(propStatus(r, name), 200, `${name} in allprop`);
      }
      assert.ok(
        r.propstats.every((ps) => ps.status === 200),
        "allprop has no 404 propstat",
      );
    }
  });

  it("RFC 4918 §9.1 (include): allprop with include also returns the named live properties", async () => {
    const res = await propfind(
      CAL,
      `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:allprop/>` +
        `<D:include><C:supported-calendar-component-set/><D:current-user-principal/></D:include></D:propfind>`,
    );
    assert.equal(res.status, 207, res.body);
    const [r] = parseMultistatus(res.body);
    assert.ok(prop(r, cal("supported-calendar-component-set")));
    assert.deepEqual(hrefsIn(mustProp(r, dav("current-user-principal"))), ["/principals/alice/"]);
    assert.ok(prop(r, dav("resourcetype")));
  });

  it("RFC 4918 §9.1: propname returns names only, including dead properties", async () => {
    const patch = await server.request("PROPPATCH", CAL, {
      headers: XML_HEADERS,
      body: proppatchBody([{ set: "{urn:example:dead}tag", value: "value" }]),
    });
    assert.equal(patch.status, 207, patch.body);
    const res = await propfind(CAL, `<propfind xmlns="DAV:"><propname/></propfind>`);
    assert.equal(res.status, 207, res.body);
    const [r] = parseMultistatus(res.body);
    const names = allProps(r);
    for (const name of [dav("resourcetype"), dav("displayname"), cs("getctag"), "{urn:example:dead}tag"]) {
      assert.equal(names.get(name), 200, `${name} listed by propname`);
    }
    for (const ps of r.propstats) {
      for (const p of ps.props) assert.ok(p.children.length === 0 && p.text === "", `${p.name} is empty`);
    }
    // Properties the resource does not have are not listed.
    assert.equal(names.get(dav("getetag")), undefined);
  });

  it("RFC 8144 §2, Brief: Prefer: return=minimal and Brief: t drop the 404 propstats", async () => {
    const body = propfindBody([dav("displayname"), "{urn:example:unknown}nothing"]);
    const variants: Record<string, string>[] = [{ prefer: "return=minimal" }, { brief: "t" }];
    for (const headers of variants) {
      const res = await propfind(CAL, body, headers);
      assert.equal(res.status, 207);
      const [r] = parseMultistatus(res.body);
      assert.equal(propStatus(r, dav("displayname")), 200);
      assert.equal(propStatus(r, "{urn:example:unknown}nothing"), undefined, JSON.stringify(headers));
      assert.ok(r.propstats.every((ps) => ps.status !== 404));
    }
    const preferred = await propfind(CAL, body, { prefer: "return=minimal" });
    assert.equal(preferred.headers.get("preference-applied"), "return=minimal");
    const full = await propfind(CAL, body);
    assert.equal(propStatus(parseMultistatus(full.body)[0], "{urn:example:unknown}nothing"), 404);
  });

  it("RFC 8144 §2 with RFC 4918 §14.24: a minimal answer where nothing was found is still a valid response", async () => {
    const res = await propfind(CAL, propfindBody(["{urn:example:unknown}nothing"]), {
      prefer: "return=minimal",
      depth: "1",
    });
    assert.equal(res.status, 207, res.body);
    // parseMultistatus fails on a DAV:response without a propstat or status.
    const responses = parseMultistatus(res.body);
    assert.equal(responses.length, 2);
    for (const r of responses) assert.equal(propStatus(r, "{urn:example:unknown}nothing"), undefined);
  });

  it("RFC 4918 §8.3, §5.2: hrefs are path-absolute, percent-encoded, and collections end with /", async () => {
    const mk = await server.request("MKCALENDAR", "/calendars/alice/my%20cal%C3%A9/", {});
    assert.equal(mk.status, 201, mk.body);
    const home = await ms("/calendars/alice/", [dav("resourcetype")], "1");
    const hrefs = home.map((r) => r.href);
    assert.ok(hrefs.includes("/calendars/alice/my%20cal%C3%A9/"), hrefs.join(" "));
    for (const h of hrefs) {
      assert.ok(h.startsWith("/") && !h.startsWith("//"), `${h} is path-absolute`);
      assert.ok(h.endsWith("/"), `${h} is a collection and ends with /`);
      assert.doesNotMatch(h, /[\s\u0080-\uffff]/, `${h} has no raw spaces or non-ASCII`);
    }
    // A request without the trailing slash still answers with the collection's canonical href.
    const [bare] = await ms("/calendars/alice/my%20cal%C3%A9", [dav("resourcetype")]);
    assert.equal(bare.href, "/calendars/alice/my%20cal%C3%A9/");
    // An object's href has no trailing slash.
    const [obj] = await ms(`${CAL}event-1.ics`, [dav("getetag")]);
    assert.equal(obj.href, `${CAL}event-1.ics`);
  });

  it("RFC 4918 §9.1: every 207 carries a Content-Length equal to the body's byte length", async () => {
    for (const [path, depth] of [
      ["/", "0"],
      ["/principals/alice/", "0"],
      ["/calendars/alice/", "1"],
      [CAL, "1"],
      [BOOK, "1"],
    ]) {
      const res = await propfind(path, undefined, { depth });
      assert.equal(res.status, 207);
      assert.equal(res.headers.get("content-length"), String(res.raw.length), path);
      assert.match(res.headers.get("content-type") ?? "", /^(application|text)\/xml/);
    }
  });

  it("RFC 4918 §15, RFC 6578, RFC 4331, RFC 3744: calendar collection live properties", async () => {
    const [r] = await ms(CAL, [
      dav("resourcetype"),
      dav("displayname"),
      dav("getcontenttype"),
      dav("getlastmodified"),
      dav("creationdate"),
      dav("owner"),
      dav("current-user-privilege-set"),
      dav("supported-report-set"),
      cs("getctag"),
      dav("sync-token"),
      dav("quota-used-bytes"),
      dav("quota-available-bytes"),
      cal("supported-calendar-component-set"),
      cal("supported-calendar-data"),
      cal("max-resource-size"),
    ]);
    assert.deepEqual(
      new Set(r.propstats.map((ps) => ps.status)),
      new Set([200]),
      JSON.stringify(r.propstats),
    );
    const rt = childNames(mustProp(r, dav("resourcetype")));
    assert.deepEqual(rt.sort(), [dav("collection"), cal("calendar")].sort());
    assert.equal(mustProp(r, dav("displayname")).text, "Calendar");
    const lastModified = mustProp(r, dav("getlastmodified")).text;
    assert.equal(new Date(lastModified).toUTCString(), lastModified, "RFC 1123 date");
    assert.match(
      mustProp(r, dav("creationdate")).text,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
    );
    assert.deepEqual(hrefsIn(mustProp(r, dav("owner"))), ["/principals/alice/"]);
    const privileges = mustProp(r, dav("current-user-privilege-set")).children.flatMap((p) => childNames(p));
    for (const p of [dav("read"), dav("write"), dav("write-properties"), dav("bind"), dav("unbind")]) {
      assert.ok(privileges.includes(p), `owner has ${p}`);
    }
    const reports = mustProp(r, dav("supported-report-set"))
      .children.flatMap((sr) => sr.children)
      .flatMap((rep) => childNames(rep));
    for (const rep of [cal("calendar-multiget"), cal("calendar-query"), dav("sync-collection")]) {
      assert.ok(reports.includes(rep), `supported-report-set lists ${rep}`);
    }
    const comps = mustProp(r, cal("supported-calendar-component-set")).children.map((c) => c.attrs["{}name"]);
    assert.ok(comps.includes("VEVENT"), comps.join(" "));
    const data = mustProp(r, cal("supported-calendar-data")).children[0];
    assert.equal(data.name, cal("calendar-data"));
    assert.equal(data.attrs["{}content-type"], "text/calendar");
    assert.equal(data.attrs["{}version"], "2.0");
    assert.equal(mustProp(r, cal("max-resource-size")).text, String(MAX_RESOURCE));
    const used = Number(mustProp(r, dav("quota-used-bytes")).text);
    assert.equal(used, Buffer.byteLength(EVENT));
    assert.equal(Number(mustProp(r, dav("quota-available-bytes")).text), QUOTA - used);
    assert.ok(mustProp(r, cs("getctag")).text.length > 0);
    assert.match(mustProp(r, dav("sync-token")).text, /^[a-z][a-z0-9+.-]*:/i, "the sync-token is a URI");
  });

  it("RFC 4791 §5.2, Apple calendar properties: settable calendar properties read back after PROPPATCH", async () => {
    const tz = vcalendar(...BERLIN_VTIMEZONE);
    const patch = await server.request("PROPPATCH", CAL, {
      headers: XML_HEADERS,
      body: proppatchBody([
        { set: cal("calendar-description"), value: "Work &amp; play" },
        { set: cal("calendar-timezone"), value: tz },
        { set: apple("calendar-color"), value: "#FF8800FF" },
        { set: apple("calendar-order"), value: "3" },
      ]),
    });
    assert.equal(patch.status, 207, patch.body);
    const [pr] = parseMultistatus(patch.body);
    assert.deepEqual(new Set(pr.propstats.map((ps) => ps.status)), new Set([200]), patch.body);
    const [r] = await ms(CAL, [
      cal("calendar-description"),
      cal("calendar-timezone"),
      apple("calendar-color"),
      apple("calendar-order"),
    ]);
    assert.equal(mustProp(r, cal("calendar-description")).text, "Work & play");
    assert.match(mustProp(r, cal("calendar-timezone")).text, /TZID:Europe\/Berlin/);
    assert.equal(mustProp(r, apple("calendar-color")).text, "#FF8800FF");
    assert.equal(mustProp(r, apple("calendar-order")).text, "3");
  });

  it("RFC 6352 §6.2: address book collection properties", async () => {
    const [r] = await ms(BOOK, [
      dav("resourcetype"),
      dav("displayname"),
      card("supported-address-data"),
      card("max-resource-size"),
      cs("getctag"),
      dav("sync-token"),
      dav("supported-report-set"),
      cal("supported-calendar-component-set"),
    ]);
    const rt = childNames(mustProp(r, dav("resourcetype")));
    assert.deepEqual(rt.sort(), [dav("collection"), card("addressbook")].sort());
    assert.equal(mustProp(r, dav("displayname")).text, "Contacts");
    const types = mustProp(r, card("supported-address-data")).children;
    assert.ok(types.length > 0 && types.every((t) => t.name === card("address-data-type")));
    assert.ok(
      types.some((t) => t.attrs["{}content-type"] === "text/vcard" && t.attrs["{}version"] === "3.0"),
    );
    assert.equal(mustProp(r, card("max-resource-size")).text, String(MAX_RESOURCE));
    const reports = mustProp(r, dav("supported-report-set"))
      .children.flatMap((sr) => sr.children)
      .flatMap((rep) => childNames(rep));
    assert.ok(reports.includes(card("addressbook-multiget")), reports.join(" "));
    // A calendar-only property is not found on an address book.
    assert.equal(propStatus(r, cal("supported-calendar-component-set")), 404);

    const patch = await server.request("PROPPATCH", BOOK, {
      headers: XML_HEADERS,
      body: proppatchBody([{ set: card("addressbook-description"), value: "Friends" }]),
    });
    assert.equal(patch.status, 207);
    const [after] = await ms(BOOK, [card("addressbook-description")]);
    assert.equal(mustProp(after, card("addressbook-description")).text, "Friends");
  });

  it("RFC 4918 §15.6, §15.4, §15.5: a calendar object's getetag, getcontentlength and getcontenttype", async () => {
    const [o] = await ms(`${CAL}event-1.ics`, [
      dav("getetag"),
      dav("getcontentlength"),
      dav("getcontenttype"),
      dav("resourcetype"),
      dav("getlastmodified"),
    ]);
    assert.equal(mustProp(o, dav("getetag")).text, eventEtag);
    assert.match(eventEtag, /^"[^"]*"$/, "a strong entity-tag");
    assert.equal(mustProp(o, dav("getcontentlength")).text, String(Buffer.byteLength(EVENT)));
    assert.match(mustProp(o, dav("getcontenttype")).text, /^text\/calendar/);
    assert.deepEqual(childNames(mustProp(o, dav("resourcetype"))), []);
  });

  it("RFC 6578 §3.2, CalendarServer ctag: sync-token and getctag change when a member changes", async () => {
    const [before] = await ms(CAL, [cs("getctag"), dav("sync-token")]);
    const put = await server.request("PUT", `${CAL}event-2.ics`, {
      headers: { "content-type": "text/calendar" },
      body: EVENT.replace("propfind-1@", "propfind-2@"),
    });
    assert.equal(put.status, 201, put.body);
    const [after] = await ms(CAL, [cs("getctag"), dav("sync-token")]);
    assert.notEqual(mustProp(after, cs("getctag")).text, mustProp(before, cs("getctag")).text);
    assert.notEqual(mustProp(after, dav("sync-token")).text, mustProp(before, dav("sync-token")).text);
  });

  it("RFC 4918 §9.1: PROPFIND on a URL where nothing exists → 404", async () => {
    for (const path of ["/calendars/alice/missing/", `${CAL}missing.ics`, "/nothing-here/"]) {
      const res = await propfind(path, propfindBody([dav("displayname")]));
      assert.equal(res.status, 404, path);
    }
  });

  it("RFC 4918 §9.1: a body whose root is not DAV:propfind → 400", async () => {
    for (const body of [
      `<propfind xmlns="urn:not-dav"><prop/></propfind>`,
      `<D:propertyupdate xmlns:D="DAV:"/>`,
      `<D:propfind xmlns:D="DAV:"><D:bogus/></D:propfind>`,
    ]) {
      const res = await propfind(CAL, body);
      assert.equal(res.status, 400, body);
    }
  });
});
