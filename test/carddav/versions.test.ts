/**
 * vCard versions on request over HTTP (RFC 6352 §5.1.1, §10.4): the stored card is served as sent,
 * the other version by Accept on GET/HEAD and by address-data's version in REPORTs, with an ETag of
 * its own that still guards a write.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";

const CR = "urn:ietf:params:xml:ns:carddav";
const server: TestServer = await startTestServer();
const book = "/addressbooks/alice/default/";
const v3 = [
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:versions-ada",
  "N:Lovelace;Ada;;;",
  "FN:Ada Lovelace",
  "TEL;TYPE=CELL,pref:+44 7700 900000",
  "X-ADDRESSBOOKSERVER-KIND:individual",
  "END:VCARD",
  "",
].join("\n"); // LF only: stored and served as sent.
const v4 = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:versions-grace\r\nFN:Grace Hopper\r\nEND:VCARD\r\n";
const ACCEPT4 = { accept: "text/vcard; version=4.0" };
let etag3 = "";
let etag4 = "";

before(async () => {
  const a = await server.request("PUT", `${book}ada.vcf`, {
    body: v3,
    headers: { "content-type": "text/vcard" },
  });
  const b = await server.request("PUT", `${book}grace.vcf`, {
    body: v4,
    headers: { "content-type": "text/vcard" },
  });
  assert.equal(a.status, 201, a.body);
  assert.equal(b.status, 201, b.body);
  etag3 = a.headers.get("etag")!;
  etag4 = b.headers.get("etag")!;
});

describe("RFC 6352 §5.1.1: GET and HEAD by Accept", () => {
  it("without a version asked for, GET returns the stored bytes with the stored ETag", async () => {
    for (const accept of [undefined, "text/vcard", "text/vcard; version=3.0", "*/*"]) {
      const res = await server.request("GET", `${book}ada.vcf`, { headers: accept ? { accept } : {} });
      assert.equal(res.body, v3, String(accept));
      assert.equal(res.headers.get("etag"), etag3);
      assert.equal(res.headers.get("vary"), "Accept", "caches keep the versions apart (RFC 9110 §12.5.5)");
    }
  });

  it("Accept: text/vcard; version=4.0 gets the card as 4.0, with a stable ETag of its own", async () => {
    const res = await server.request("GET", `${book}ada.vcf`, { headers: ACCEPT4 });
    assert.equal(res.status, 200);
    assert.match(res.body, /^BEGIN:VCARD\r\nVERSION:4\.0\r\n/);
    assert.match(res.body, /\r\nKIND:individual\r\n/);
    assert.match(res.body, /\r\nTEL;TYPE=CELL;PREF=1;VALUE=TEXT:\+44 7700 900000\r\n/);
    assert.match(res.headers.get("content-type") ?? "", /^text\/vcard/);
    const etag = res.headers.get("etag")!;
    assert.notEqual(etag, etag3);
    const again = await server.request("GET", `${book}ada.vcf`, { headers: ACCEPT4 });
    assert.equal(again.headers.get("etag"), etag);
    assert.equal(again.body, res.body);
    // The stored card is untouched.
    assert.equal((await server.request("GET", `${book}ada.vcf`)).body, v3);
  });

  it("a 4.0 card asked for as 3.0 comes as 3.0 (with the N that 3.0 requires)", async () => {
    const res = await server.request("GET", `${book}grace.vcf`, {
      headers: { accept: "text/vcard;version=3.0" },
    });
    assert.match(res.body, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
    assert.match(res.body, /\r\nN:Grace Hopper;;;;\r\n/);
    assert.notEqual(res.headers.get("etag"), etag4);
  });

  it("RFC 9110 §13.1.2: If-None-Match with the converted ETag → 304; HEAD gives GET's headers and length", async () => {
    const get = await server.request("GET", `${book}ada.vcf`, { headers: ACCEPT4 });
    const etag = get.headers.get("etag")!;
    const cached = await server.request("GET", `${book}ada.vcf`, {
      headers: { ...ACCEPT4, "if-none-match": etag },
    });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get("etag"), etag);
    const stale = await server.request("GET", `${book}ada.vcf`, { headers: { "if-none-match": etag } });
    assert.equal(stale.status, 200, "the 3.0 form is another representation");
    const head = await server.request("HEAD", `${book}ada.vcf`, { headers: ACCEPT4 });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), etag);
    assert.equal(head.headers.get("content-length"), String(Buffer.byteLength(get.body)));
    const plain = await server.request("HEAD", `${book}ada.vcf`);
    assert.equal(plain.headers.get("etag"), etag3);
    assert.equal(plain.headers.get("content-length"), String(Buffer.byteLength(v3)));
  });

  it("RFC 9110 §13.1.1: a PUT with If-Match of the converted ETag writes over the card it was read from, and a stale one → 412", async () => {
    const name = `${book}edit.vcf`;
    const first = await server.request("PUT", name, { body: v3.replace(/versions-ada/, "versions-edit") });
    assert.equal(first.status, 201);
    const read4 = await server.request("GET", name, { headers: ACCEPT4 });
    const edited = read4.body.replace("FN:Ada Lovelace", "FN:Ada King");
    const put = await server.request("PUT", name, {
      body: edited,
      headers: { "content-type": "text/vcard", "if-match": read4.headers.get("etag")! },
    });
    assert.equal(put.status, 204, put.body);
    assert.equal((await server.request("GET", name)).body, edited, "stored as the client sent it: now 4.0");
    const stale = await server.request("PUT", name, {
      body: read4.body,
      headers: { "content-type": "text/vcard", "if-match": read4.headers.get("etag")! },
    });
    assert.equal(stale.status, 412, stale.body);
    assert.equal((await server.request("GET", name)).body, edited, "nothing overwritten");
  });
});

describe("RFC 6352 §10.4: address-data's version in REPORTs", () => {
  const multiget = (addressData: string) =>
    server.request("REPORT", book, {
      headers: { ...XML_HEADERS, depth: "1" },
      body: `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="${CR}"><D:prop><D:getetag/>${addressData}</D:prop><D:href>${book}ada.vcf</D:href><D:href>${book}grace.vcf</D:href></C:addressbook-multiget>`,
    });
  const parts = (body: string) =>
    parseMultistatus(body).map((r) => ({
      href: r.href,
      etag: r.propstats[0].props.find((p) => p.name === "{DAV:}getetag")!.text,
      data: r.propstats[0].props.find((p) => p.name === `{${CR}}address-data`)!.text,
    }));

  it('version="4.0": the 3.0 card converted with its converted ETag (the one GET gives), the 4.0 card as stored with its own', async () => {
    const [ada, grace] = parts(
      (await multiget('<C:address-data content-type="text/vcard" version="4.0"/>')).body,
    );
    assert.match(ada.data, /^BEGIN:VCARD\r?\nVERSION:4\.0/);
    const get = await server.request("GET", `${book}ada.vcf`, { headers: ACCEPT4 });
    assert.equal(ada.etag, get.headers.get("etag"));
    assert.equal(ada.data, get.body, "byte for byte: CR travels as &#13;");
    assert.equal(grace.etag, etag4);
    assert.equal(grace.data, v4);
  });

  it("no version attribute: 3.0, the DTD's default — the 3.0 card as stored with its ETag, the 4.0 card converted with its own", async () => {
    const [ada, grace] = parts((await multiget("<C:address-data/>")).body);
    assert.equal(ada.data, v3);
    assert.equal(ada.etag, etag3);
    assert.match(grace.data, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
    assert.notEqual(grace.etag, etag4);
    const asked = parts((await multiget('<C:address-data version="4.0"/>')).body)[1];
    assert.equal(asked.data, v4, "asked for 4.0, the 4.0 card comes as stored");
    assert.equal(asked.etag, etag4);
  });

  it("RFC 4918 §10.4: the If header takes the converted ETag as If-Match does", async () => {
    const name = `${book}if-header.vcf`;
    assert.equal(
      (await server.request("PUT", name, { body: v4.replace("versions-grace", "versions-if") })).status,
      201,
    );
    const e3 = parts(
      (
        await server.request("REPORT", book, {
          headers: { ...XML_HEADERS, depth: "1" },
          body: `<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="${CR}"><D:prop><D:getetag/><C:address-data/></D:prop><D:href>${name}</D:href></C:addressbook-multiget>`,
        })
      ).body,
    )[0].etag;
    const put = await server.request("PUT", name, {
      body: v4.replace("versions-grace", "versions-if").replace("Grace Hopper", "Grace B. Hopper"),
      headers: { "content-type": "text/vcard", if: `([${e3}])` },
    });
    assert.equal(put.status, 204, put.body);
  });

  it("RFC 9110 §13.2.2: If-Match is evaluated before If-None-Match (a failing If-Match → 412, not 304)", async () => {
    const res = await server.request("GET", `${book}ada.vcf`, {
      headers: { "if-match": '"nope"', "if-none-match": "*" },
    });
    assert.equal(res.status, 412);
  });

  it("§6.2.2: supported-address-data lists text/vcard 3.0 and 4.0", async () => {
    const res = await server.request("PROPFIND", book, {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:propfind xmlns:D="DAV:" xmlns:C="${CR}"><D:prop><C:supported-address-data/></D:prop></D:propfind>`,
    });
    assert.match(res.body, /content-type="text\/vcard" version="3\.0"/);
    assert.match(res.body, /content-type="text\/vcard" version="4\.0"/);
  });
});
