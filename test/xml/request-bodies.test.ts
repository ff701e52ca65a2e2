import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cs, dav } from "../../lib/xml/names.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { mustProp, parseMultistatus, propfindBody, propStatus, XML_HEADERS } from "../helpers/xml.js";

const MAX_BODY = 4096;
const server: TestServer = await startTestServer({ maxBodyBytes: MAX_BODY });
const CAL = "/calendars/alice/default/";

const XXE = `<?xml version="1.0"?>
<!DOCTYPE propfind [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`;

const XXE_PROPPATCH = `<?xml version="1.0"?>
<!DOCTYPE D:propertyupdate [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:leak xmlns:x="urn:example:x">&xxe;</x:leak></D:prop></D:set></D:propertyupdate>`;

function billionLaughs(root: string): string {
  const decls = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i <= 9; i++) decls.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE lolz [${decls.join("")}]>${root.replace("LOL", "&lol9;")}`;
}

async function send(
  method: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
) {
  return server.request(method, path, { headers: { ...XML_HEADERS, depth: "0", ...headers }, body });
}

async function displayname(): Promise<number> {
  const res = await send("PROPFIND", CAL, propfindBody([dav("displayname")]));
  return res.status;
}

describe("XML request bodies over HTTP (RFC 4918 §8.2, §8.4)", () => {
  it("Namespaces in XML §3: any prefix, or the default namespace, works in a PROPFIND body", async () => {
    for (const body of [
      `<x:propfind xmlns:x="DAV:"><x:prop><x:displayname/><y:getctag xmlns:y="http://calendarserver.org/ns/"/></x:prop></x:propfind>`,
      `<propfind xmlns="DAV:"><prop><displayname/><getctag xmlns="http://calendarserver.org/ns/"/></prop></propfind>`,
      `<C:propfind xmlns:C="DAV:" xmlns:D="http://calendarserver.org/ns/"><C:prop><C:displayname/><D:getctag/></C:prop></C:propfind>`,
    ]) {
      const res = await send("PROPFIND", CAL, body);
      assert.equal(res.status, 207, body);
      const [r] = parseMultistatus(res.body);
      assert.equal(mustProp(r, dav("displayname")).text, "Calendar", body);
      assert.ok(mustProp(r, cs("getctag")).text.length > 0, body);
    }
  });

  it("Namespaces in XML §3: the usual prefix bound to another namespace is not DAV: → 400", async () => {
    const res = await send("PROPFIND", CAL, `<D:propfind xmlns:D="urn:not-dav"><D:prop/></D:propfind>`);
    assert.equal(res.status, 400);
    // The same local name in a foreign namespace inside DAV:prop is just an unknown property.
    const r2 = await send(
      "PROPFIND",
      CAL,
      `<D:propfind xmlns:D="DAV:"><D:prop><X:displayname xmlns:X="urn:not-dav"/></D:prop></D:propfind>`,
    );
    assert.equal(r2.status, 207);
    assert.equal(propStatus(parseMultistatus(r2.body)[0], "{urn:not-dav}displayname"), 404);
  });

  it("XXE (CWE-611): a body with an external entity → 400, nothing read, nothing stored", async () => {
    for (const [method, body] of [
      ["PROPFIND", XXE],
      ["PROPPATCH", XXE_PROPPATCH],
    ]) {
      const res = await send(method, CAL, body);
      assert.equal(res.status, 400, `${method}: ${res.body}`);
      assert.doesNotMatch(res.body, /root:|\/bin\/(ba)?sh/);
      assert.match(res.body, /DTD/);
    }
    const check = await send("PROPFIND", CAL, propfindBody(["{urn:example:x}leak"]));
    assert.equal(propStatus(parseMultistatus(check.body)[0], "{urn:example:x}leak"), 404);
  });

  it("Billion laughs (CWE-776): entity expansion bodies → 400 at once, with a small answer", async () => {
    for (const [method, root] of [
      [
        "PROPFIND",
        `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>LOL</D:displayname></D:prop></D:propfind>`,
      ],
      [
        "PROPPATCH",
        `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:l xmlns:x="urn:x">LOL</x:l></D:prop></D:set></D:propertyupdate>`,
      ],
    ]) {
      const started = performance.now();
      const res = await send(method, CAL, billionLaughs(root));
      assert.equal(res.status, 400, method);
      assert.ok(res.raw.length < 2000, "no expansion in the answer");
      assert.ok(performance.now() - started < 2000, "answered without expanding");
    }
    const check = await send("PROPFIND", CAL, propfindBody(["{urn:x}l"]));
    assert.equal(propStatus(parseMultistatus(check.body)[0], "{urn:x}l"), 404);
  });

  it("RFC 4918 §8.2: a body that is not well-formed → 400 with the reason, and the next request still works", async () => {
    for (const [method, body] of [
      ["PROPFIND", `<D:propfind xmlns:D="DAV:"><D:prop>`],
      ["PROPFIND", `<D:propfind xmlns:D="DAV:"></D:prop>`],
      ["PROPFIND", `<x:propfind/>`],
      ["PROPPATCH", `<D:propertyupdate xmlns:D="DAV:"><D:set>&bogus;</D:set></D:propertyupdate>`],
      ["PROPPATCH", `not xml at all`],
    ]) {
      const res = await send(method, CAL, body);
      assert.equal(res.status, 400, `${method} ${body}`);
      assert.match(res.body, /well-formed|XML/i, "the answer says why");
      assert.ok(res.body.trim().length > "The request body is not well-formed XML:".length, res.body);
      assert.equal(await displayname(), 207, "the next request works");
    }
  });

  it("resource limits: a deeply nested dead property value → 400 promptly, not a 500 or a stalled request", async () => {
    const depth = 30_000;
    const body =
      `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:deep xmlns:x="urn:x">` +
      `${"<a>".repeat(depth)}${"</a>".repeat(depth)}</x:deep></D:prop></D:set></D:propertyupdate>`;
    const big = await startTestServer();
    const started = performance.now();
    const res = await big.request("PROPPATCH", CAL, { headers: XML_HEADERS, body });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /nested/);
    assert.ok(performance.now() - started < 5000);
  });

  it("XML 1.0 §4.3.3, RFC 4918 §8.2: a body that is not valid UTF-8 → 400 (PROPPATCH, PROPFIND, REPORT), and nothing is stored", async () => {
    const bad = (xml: string) =>
      Buffer.concat([
        Buffer.from(xml.split("BAD")[0]),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(xml.split("BAD")[1]),
      ]);
    const patch = await send(
      "PROPPATCH",
      CAL,
      bad(
        `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:note xmlns:x="urn:example:utf8">BAD</x:note></D:prop></D:set></D:propertyupdate>`,
      ),
    );
    assert.equal(patch.status, 400, patch.body);
    assert.match(patch.body, /UTF-8/);
    const res = await send("PROPFIND", CAL, propfindBody(["{urn:example:utf8}note"]));
    assert.equal(
      propStatus(parseMultistatus(res.body)[0], "{urn:example:utf8}note"),
      404,
      "nothing was stored",
    );
    const find = await send(
      "PROPFIND",
      CAL,
      bad(`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop><!--BAD--></D:propfind>`),
    );
    assert.equal(find.status, 400, find.body);
    const report = await send(
      "REPORT",
      CAL,
      bad(
        `<D:sync-collection xmlns:D="DAV:"><D:sync-token>BAD</D:sync-token><D:prop><D:getetag/></D:prop></D:sync-collection>`,
      ),
    );
    assert.equal(report.status, 400, report.body);
  });

  it("RFC 9110 §15.5.14: a body larger than maxBodyBytes → 413; one at the limit is processed", async () => {
    const pad = (n: number) => {
      const head = `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`;
      return head + " ".repeat(n - Buffer.byteLength(head));
    };
    const big = await send("PROPFIND", CAL, pad(MAX_BODY + 1));
    assert.equal(big.status, 413);
    const atLimit = await send("PROPFIND", CAL, pad(MAX_BODY));
    assert.equal(atLimit.status, 207);
    // Counted in bytes, not characters.
    const multibyte = `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind><!--${"é".repeat(MAX_BODY / 2)}-->`;
    assert.equal((await send("PROPFIND", CAL, multibyte)).status, 413);
    const bigPatch = await send("PROPPATCH", CAL, pad(MAX_BODY + 100));
    assert.equal(bigPatch.status, 413);
  });

  it("RFC 9110 §15.5.16: a PROPFIND body that is not XML → 415", async () => {
    const res = await send("PROPFIND", CAL, `{"prop": ["displayname"]}`, {
      "content-type": "application/json",
    });
    assert.equal(res.status, 415);
  });

  it("RFC 4918 §8.2: text/xml and application/xml with charset, and no Content-Type, are all accepted", async () => {
    for (const type of ["text/xml; charset=utf-8", "application/xml", "TEXT/XML", undefined]) {
      const headers: Record<string, string> = { depth: "0" };
      if (type) headers["content-type"] = type;
      const res = await server.request("PROPFIND", CAL, {
        headers,
        body: propfindBody([dav("displayname")]),
      });
      assert.equal(res.status, 207, String(type));
    }
  });
});
