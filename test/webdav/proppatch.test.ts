import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apple, cal, cs, dav } from "../../lib/xml/names.js";
import { parseXml, type XmlElement } from "../../lib/xml/parse.js";
import { MAX_PROPERTY_BYTES } from "../../lib/webdav/limits.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  mustProp,
  parseMultistatus,
  prop,
  propfindBody,
  propStatus,
  propstatOf,
  proppatchBody,
  type PatchOp,
  XML_HEADERS,
} from "../helpers/xml.js";

const server: TestServer = await startTestServer();
const CAL = "/calendars/alice/default/";
const DEAD = "{urn:example:dead}note";

async function patch(path: string, body: string) {
  const res = await server.request("PROPPATCH", path, { headers: XML_HEADERS, body });
  return res;
}
async function patchOps(path: string, ops: PatchOp[]) {
  const res = await patch(path, proppatchBody(ops));
  assert.equal(res.status, 207, `PROPPATCH ${path}: ${res.status} ${res.body}`);
  const [r] = parseMultistatus(res.body);
  return r;
}
async function read(path: string, names: string[]) {
  const res = await server.request("PROPFIND", path, {
    headers: { ...XML_HEADERS, depth: "0" },
    body: propfindBody(names),
  });
  assert.equal(res.status, 207, res.body);
  return parseMultistatus(res.body)[0];
}

/** Namespace-aware structure of an element's content, for comparing values across prefixes. */
function shape(el: XmlElement): unknown[] {
  return el.nodes.map((n) =>
    typeof n === "string" ? n : { name: n.name, attrs: n.attrs, content: shape(n) },
  );
}

describe("PROPPATCH (RFC 4918 §9.2)", () => {
  it("RFC 4918 §9.2: a successful PROPPATCH answers 200 for every property and the values read back", async () => {
    const r = await patchOps(CAL, [
      { set: dav("displayname"), value: "Work" },
      { set: apple("calendar-color"), value: "#112233" },
      { set: DEAD, value: "hello" },
    ]);
    assert.equal(r.href, CAL);
    for (const name of [dav("displayname"), apple("calendar-color"), DEAD]) {
      assert.equal(propStatus(r, name), 200, name);
      // RFC 4918 §9.2.1: property elements in a PROPPATCH answer are empty.
      const el = propstatOf(r, name)!.props.find((p) => p.name === name)!;
      assert.equal(el.nodes.length, 0);
    }
    const after = await read(CAL, [dav("displayname"), apple("calendar-color"), DEAD]);
    assert.equal(mustProp(after, dav("displayname")).text, "Work");
    assert.equal(mustProp(after, apple("calendar-color")).text, "#112233");
    assert.equal(mustProp(after, DEAD).text, "hello");
  });

  it("RFC 4918 §9.2: atomic — one invalid value (409) fails the others with 424 and nothing changes", async () => {
    const before = await read(CAL, [dav("displayname"), cal("calendar-description"), cs("getctag"), DEAD]);
    const r = await patchOps(CAL, [
      { set: dav("displayname"), value: "Changed" },
      { set: cal("calendar-description"), value: "Changed too" },
      { set: DEAD, value: "changed" },
      { remove: apple("calendar-color") },
      { set: apple("calendar-order"), value: "not a number" },
    ]);
    assert.equal(propStatus(r, apple("calendar-order")), 409);
    for (const name of [dav("displayname"), cal("calendar-description"), DEAD, apple("calendar-color")]) {
      assert.equal(propStatus(r, name), 424, name);
    }
    const after = await read(CAL, [
      dav("displayname"),
      cal("calendar-description"),
      cs("getctag"),
      DEAD,
      apple("calendar-color"),
      apple("calendar-order"),
    ]);
    assert.equal(mustProp(after, dav("displayname")).text, mustProp(before, dav("displayname")).text);
    assert.equal(propStatus(after, cal("calendar-description")), 404, "description still unset");
    assert.equal(mustProp(after, DEAD).text, "hello", "dead property unchanged");
    assert.equal(mustProp(after, apple("calendar-color")).text, "#112233", "the remove did not happen");
    assert.equal(propStatus(after, apple("calendar-order")), 404);
    assert.equal(mustProp(after, cs("getctag")).text, mustProp(before, cs("getctag")).text, "ctag unchanged");
  });

  it("RFC 4918 §9.2, §16: a protected property → 403 cannot-modify-protected-property, the rest 424", async () => {
    for (const protectedName of [dav("getetag"), dav("resourcetype"), cs("getctag"), dav("sync-token")]) {
      const r = await patchOps(CAL, [
        { set: DEAD, value: "should not stick" },
        { set: protectedName, value: "x" },
      ]);
      const ps = propstatOf(r, protectedName);
      assert.equal(ps?.status, 403, protectedName);
      assert.ok(ps?.error, "the 403 propstat carries a DAV:error");
      assert.deepEqual(
        ps.error.children.map((c) => c.name),
        [dav("cannot-modify-protected-property")],
      );
      assert.equal(propStatus(r, DEAD), 424);
    }
    // Removing a protected property is refused the same way.
    const r = await patchOps(CAL, [{ remove: dav("getlastmodified") }]);
    assert.equal(propStatus(r, dav("getlastmodified")), 403);
    assert.equal(mustProp(await read(CAL, [DEAD]), DEAD).text, "hello");
  });

  it("RFC 4918 §9.2: an invalid value for a known property → 409 in its propstat", async () => {
    for (const [name, value] of [
      [apple("calendar-color"), "red"],
      [apple("calendar-order"), "1.5"],
      [cal("calendar-timezone"), "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"],
    ]) {
      const r = await patchOps(CAL, [{ set: name, value }]);
      assert.equal(propStatus(r, name), 409, `${name} = ${value}`);
    }
    assert.equal(
      mustProp(await read(CAL, [apple("calendar-color")]), apple("calendar-color")).text,
      "#112233",
    );
  });

  it("RFC 4791 §5.2.2: calendar-timezone must be one VTIMEZONE and nothing else → 409 valid-calendar-data, nothing stored", async () => {
    const zone = [
      "BEGIN:VTIMEZONE",
      "TZID:Test/Zone",
      "BEGIN:STANDARD",
      "DTSTART:19700101T000000",
      "TZOFFSETFROM:+0100",
      "TZOFFSETTO:+0100",
      "END:STANDARD",
      "END:VTIMEZONE",
    ];
    const event = [
      "BEGIN:VEVENT",
      "UID:tz-extra",
      "DTSTAMP:20260101T000000Z",
      "DTSTART:20260101T100000Z",
      "END:VEVENT",
    ];
    const vcal = (...lines: string[]) =>
      ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...lines, "END:VCALENDAR", ""].join("\r\n");
    for (const value of [vcal(...zone, ...event), vcal(...zone, ...zone), vcal(...event), "not iCalendar"]) {
      const r = await patchOps(CAL, [{ set: cal("calendar-timezone"), value }]);
      const ps = propstatOf(r, cal("calendar-timezone"));
      assert.equal(ps?.status, 409, value);
      assert.equal(ps?.error?.children[0]?.name, cal("valid-calendar-data"), value);
    }
    assert.equal(propStatus(await read(CAL, [cal("calendar-timezone")]), cal("calendar-timezone")), 404);
    const ok = await patchOps(CAL, [{ set: cal("calendar-timezone"), value: vcal(...zone) }]);
    assert.equal(propStatus(ok, cal("calendar-timezone")), 200);
  });

  it("RFC 4918 §4.4: a dead property's xml:lang (its own or inherited from an enclosing element) comes back with it", async () => {
    const res = await patch(
      CAL,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:example:lang"><D:set><D:prop xml:lang="fr">` +
        `<x:own xml:lang="de">Grüß Gott</x:own><x:inherited>Bonjour</x:inherited></D:prop></D:set>` +
        `<D:set><D:prop><x:none>plain</x:none></D:prop></D:set></D:propertyupdate>`,
    );
    assert.equal(res.status, 207, res.body);
    const r = await read(CAL, [
      "{urn:example:lang}own",
      "{urn:example:lang}inherited",
      "{urn:example:lang}none",
    ]);
    const lang = (name: string) => mustProp(r, name).attrs["{http://www.w3.org/XML/1998/namespace}lang"];
    assert.equal(lang("{urn:example:lang}own"), "de");
    assert.equal(mustProp(r, "{urn:example:lang}own").text, "Grüß Gott");
    assert.equal(lang("{urn:example:lang}inherited"), "fr");
    assert.equal(mustProp(r, "{urn:example:lang}inherited").text, "Bonjour");
    assert.equal(lang("{urn:example:lang}none"), undefined);
    assert.equal(mustProp(r, "{urn:example:lang}none").text, "plain");
  });

  it("RFC 4918 §4.3, §9.2: dead properties of any namespace are stored and returned verbatim (namespaces, not prefixes)", async () => {
    const body =
      `<?xml version="1.0" encoding="utf-8"?>` +
      `<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop>` +
      `<z:rich xmlns:z="http://example.com/ns/z" xmlns:q="urn:example:q">` +
      `text <q:item kind="a" q:flag="yes">one &amp; &lt;two&gt;</q:item>` +
      `<q:empty/><inner xmlns="urn:example:default"><deeper>x</deeper></inner> tail</z:rich>` +
      `<A:unknown-dav-prop>in the DAV: namespace</A:unknown-dav-prop>` +
      `<nons xmlns="">no namespace</nons>` +
      `</A:prop></A:set></A:propertyupdate>`;
    const res = await patch(CAL, body);
    assert.equal(res.status, 207, res.body);
    const [r] = parseMultistatus(res.body);
    assert.ok(
      r.propstats.every((ps) => ps.status === 200),
      res.body,
    );

    const sent = parseXml(body);
    const sentProps = sent.children[0].children[0].children;
    const after = await read(CAL, ["{http://example.com/ns/z}rich", dav("unknown-dav-prop"), "{}nons"]);
    for (const original of sentProps) {
      const got = prop(after, original.name);
      assert.ok(got, `${original.name} returned`);
      assert.deepEqual(shape(got), shape(original), `${original.name} round-trips`);
    }
  });

  it("RFC 4918 §9.2.1: no room to record the properties → 507 for those set, 424 for the rest, nothing stored", async () => {
    const huge = "x".repeat(MAX_PROPERTY_BYTES);
    const r = await patchOps(CAL, [
      { set: dav("displayname"), value: "Too big a change" },
      { set: "{urn:example:dead}huge", value: huge },
      { remove: apple("calendar-color") },
    ]);
    assert.equal(propStatus(r, "{urn:example:dead}huge"), 507);
    assert.equal(propStatus(r, dav("displayname")), 507);
    assert.equal(propStatus(r, apple("calendar-color")), 424);
    // Several properties that only together are too large.
    const half = "y".repeat(MAX_PROPERTY_BYTES / 2 + 10);
    const r2 = await patchOps(CAL, [
      { set: "{urn:example:dead}half1", value: half },
      { set: "{urn:example:dead}half2", value: half },
    ]);
    assert.equal(propStatus(r2, "{urn:example:dead}half1"), 507);
    assert.equal(propStatus(r2, "{urn:example:dead}half2"), 507);
    const after = await read(CAL, [dav("displayname"), "{urn:example:dead}huge", "{urn:example:dead}half1"]);
    assert.notEqual(mustProp(after, dav("displayname")).text, "Too big a change");
    assert.equal(
      mustProp(await read(CAL, [apple("calendar-color")]), apple("calendar-color")).text,
      "#112233",
    );
    assert.equal(propStatus(after, "{urn:example:dead}huge"), 404);
    assert.equal(propStatus(after, "{urn:example:dead}half1"), 404);
    // One half fits.
    const r3 = await patchOps(CAL, [{ set: "{urn:example:dead}half1", value: half }]);
    assert.equal(propStatus(r3, "{urn:example:dead}half1"), 200);
    await patchOps(CAL, [{ remove: "{urn:example:dead}half1" }]);
  });

  it("RFC 4918 §14.23, §9.2: set then remove in document order; removing an absent property is no error", async () => {
    const name = "{urn:example:dead}temp";
    const r = await patchOps(CAL, [
      { set: name, value: "first" },
      { remove: name },
      { remove: "{urn:example:dead}never-set" },
    ]);
    assert.equal(propStatus(r, name), 200);
    assert.equal(propStatus(r, "{urn:example:dead}never-set"), 200);
    assert.equal(propStatus(await read(CAL, [name]), name), 404);

    const r2 = await patchOps(CAL, [{ remove: name }, { set: name, value: "second" }]);
    assert.equal(propStatus(r2, name), 200);
    assert.equal(mustProp(await read(CAL, [name]), name).text, "second");

    await patchOps(CAL, [{ remove: name }]);
    assert.equal(propStatus(await read(CAL, [name]), name), 404);
  });

  it("RFC 4918 §9.2: properties of the principal and of a home are protected", async () => {
    for (const path of ["/principals/alice/", "/calendars/alice/"]) {
      const r = await patchOps(path, [{ set: dav("displayname"), value: "Renamed" }]);
      assert.equal(propStatus(r, dav("displayname")), 403, path);
    }
    const p = await read("/principals/alice/", [dav("displayname")]);
    assert.equal(mustProp(p, dav("displayname")).text, "alice");
  });

  it("RFC 4918 §9.2: a body that is not a DAV:propertyupdate → 400; a missing collection → 404", async () => {
    for (const body of ["", `<D:propfind xmlns:D="DAV:"/>`, `<propertyupdate xmlns="urn:x"/>`]) {
      const res = await patch(CAL, body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const res = await patch(
      "/calendars/alice/missing/",
      proppatchBody([{ set: dav("displayname"), value: "x" }]),
    );
    assert.equal(res.status, 404);
  });
});
