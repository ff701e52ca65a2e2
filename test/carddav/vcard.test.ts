/** CardDAV basics over HTTP: vCard PUT/GET, validation and UID uniqueness in an address book (RFC 6352). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";
import { parseXml } from "../../lib/xml/parse.js";

const server: TestServer = await startTestServer();
const book = "/addressbooks/alice/default/";
const card = (uid: string, fn: string, version = "3.0") =>
  `BEGIN:VCARD\r\nVERSION:${version}\r\nUID:${uid}\r\nFN:${fn}\r\n${version === "3.0" ? `N:${fn};;;;\r\n` : ""}END:VCARD\r\n`;
const put = (name: string, body: string, headers: Record<string, string> = {}) =>
  server.request("PUT", `${book}${name}`, {
    body,
    headers: { "content-type": "text/vcard; charset=utf-8", ...headers },
  });

describe("RFC 6352 vCard resources", () => {
  it("RFC 6352 §6.3.2: vCard 3.0 and 4.0 are stored and returned byte for byte with their ETag", async () => {
    for (const [name, body] of [
      ["v3.vcf", card("card-v3", "Ada Lovelace")],
      ["v4.vcf", card("card-v4", "Grace Hopper", "4.0")],
    ]) {
      const res = await put(name, body, { "if-none-match": "*" });
      assert.equal(res.status, 201, res.body);
      const got = await server.request("GET", `${book}${name}`);
      assert.equal(got.body, body);
      assert.equal(got.headers.get("etag"), res.headers.get("etag"));
      assert.match(got.headers.get("content-type") ?? "", /^text\/vcard/);
    }
  });

  it("RFC 6352 §6.3.2.1 supported-address-data: a Content-Type other than text/vcard → 403 with the precondition, nothing stored", async () => {
    const res = await put("typed.vcf", card("card-typed", "Typed"), { "content-type": "text/calendar" });
    assert.equal(res.status, 403, res.body);
    assert.equal(
      parseXml(res.body).children[0]?.name,
      "{urn:ietf:params:xml:ns:carddav}supported-address-data",
    );
    assert.equal((await server.request("GET", `${book}typed.vcf`)).status, 404);
  });

  it("RFC 6350 §5 / RFC 2426 tolerance: bare parameters (macOS Address Book's PHOTO;BASE64:, TEL;HOME;PREF) are accepted and the body is kept byte for byte", async () => {
    const mac = readFileSync(
      new URL("../fixtures/vcard/ezvcard-John_Doe_MAC_ADDRESS_BOOK.vcf", import.meta.url),
    )
      .toString("utf8")
      .replace("VERSION:3.0\r\n", "VERSION:3.0\r\nUID:mac-address-book\r\n");
    const bare = card("card-bare", "Bare Params").replace(
      "END:VCARD",
      "TEL;HOME;PREF:+1 555 0100\r\nEMAIL;INTERNET:bare@example.com\r\nTEL;TYPE=CELL;HO\r\n ME:+1 555 0101\r\nEND:VCARD",
    );
    for (const [name, body] of [
      ["mac.vcf", mac],
      ["bare.vcf", bare],
    ]) {
      const res = await put(name, body);
      assert.equal(res.status, 201, res.body);
      const got = await server.request("GET", `${book}${name}`);
      assert.equal(Buffer.compare(got.raw, Buffer.from(body)), 0, `${name} comes back byte for byte`);
      assert.equal(got.headers.get("etag"), res.headers.get("etag"));
    }
  });

  it("RFC 6350 §3.3: a control character in a content line is refused naming the line; an error quotes only a short excerpt", async () => {
    const res = await put("ctl.vcf", card("card-ctl", "Ctl").replace("FN:Ctl", "FN:C\u0007tl"));
    assert.equal(res.status, 403, res.body);
    assert.equal(parseXml(res.body).children[0]?.name, "{urn:ietf:params:xml:ns:carddav}valid-address-data");
    assert.match(res.body, /Line 4 \(FN\) holds the control character U\+0007/);
    assert.equal((await server.request("GET", `${book}ctl.vcf`)).status, 404);
    const long = card("card-long", "Long").replace(
      "END:VCARD",
      `X-BROKEN;"${"A".repeat(73_000)}\r\nEND:VCARD`,
    );
    const refused = await put("long.vcf", long);
    assert.equal(refused.status, 403, refused.body.slice(0, 300));
    assert.ok(refused.body.length < 1000, `a ${refused.body.length}-byte error body`);
  });

  it("RFC 6352 §6.3.2.1: a PUT that changes a card's UID → 409 CARDDAV:no-uid-conflict naming the card; the card is unchanged", async () => {
    const first = await put("keeps-uid.vcf", card("card-keeps", "Keeps"));
    assert.equal(first.status, 201);
    const res = await put("keeps-uid.vcf", card("card-other", "Keeps"));
    assert.equal(res.status, 409, res.body);
    const err = parseXml(res.body).children[0];
    assert.equal(err.name, "{urn:ietf:params:xml:ns:carddav}no-uid-conflict");
    assert.equal(err.children[0]?.text, `${book}keeps-uid.vcf`);
    assert.equal(
      (await server.request("GET", `${book}keeps-uid.vcf`)).headers.get("etag"),
      first.headers.get("etag"),
    );
  });

  it("RFC 6352 §6.3.2.1: a second card with the same UID → 409 CARDDAV:no-uid-conflict naming the holder", async () => {
    assert.equal((await put("a.vcf", card("same-uid", "A"))).status, 201);
    const res = await put("b.vcf", card("same-uid", "B"));
    assert.equal(res.status, 409);
    const err = parseXml(res.body).children[0];
    assert.equal(err.name, "{urn:ietf:params:xml:ns:carddav}no-uid-conflict");
    assert.equal(err.children[0]?.text, `${book}a.vcf`);
    assert.equal((await server.request("GET", `${book}b.vcf`)).status, 404);
  });

  it("RFC 6352 §6.3.2.1: invalid address data → 403 valid-address-data; an unsupported version → supported-address-data", async () => {
    const broken = await put("x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No UID\r\nEND:VCARD\r\n");
    assert.equal(broken.status, 403);
    assert.equal(
      parseXml(broken.body).children[0].name,
      "{urn:ietf:params:xml:ns:carddav}valid-address-data",
    );
    const v21 = await put("y.vcf", "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:old\r\nFN:Old\r\nEND:VCARD\r\n");
    assert.equal(v21.status, 403);
    assert.equal(
      parseXml(v21.body).children[0].name,
      "{urn:ietf:params:xml:ns:carddav}supported-address-data",
    );
  });

  it("RFC 6352 §8.7: addressbook-multiget returns address-data and 404 for unknown hrefs", async () => {
    const body = card("mg-card", "Multi Get");
    await put("mg.vcf", body);
    const res = await server.request("REPORT", book, {
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><D:href>${book}mg.vcf</D:href><D:href>${book}none.vcf</D:href></CR:addressbook-multiget>`,
    });
    assert.equal(res.status, 207);
    const rs = parseMultistatus(res.body);
    const data = rs[0].propstats[0].props.find(
      (p) => p.name === "{urn:ietf:params:xml:ns:carddav}address-data",
    );
    assert.equal(data?.text, body.replace(/\r\n/g, "\n"));
    assert.equal(rs[1].status, 404);
  });
});
