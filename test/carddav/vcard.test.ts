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
    assert.equal(data?.text, body, "the CRLFs of the stored card survive the XML (sent as &#13;)");
    assert.equal(rs[1].status, 404);
  });

  it("RFC 6352 §5.1: a vCard without UID → 403 valid-address-data saying so; no UID is invented and nothing is stored", async () => {
    const res = await put("no-uid.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Nobody\r\nEND:VCARD\r\n");
    assert.equal(res.status, 403, res.body);
    assert.equal(parseXml(res.body).children[0].name, "{urn:ietf:params:xml:ns:carddav}valid-address-data");
    assert.match(res.body, /no UID property/);
    assert.equal((await server.request("GET", `${book}no-uid.vcf`)).status, 404);
  });

  it("RFC 6352 §5.1: text/vcard holding several cards → 403 valid-address-data naming how many", async () => {
    const res = await put(
      "three.vcf",
      card("three-1", "One") + card("three-2", "Two") + card("three-3", "Three"),
    );
    assert.equal(res.status, 403, res.body);
    assert.equal(parseXml(res.body).children[0].name, "{urn:ietf:params:xml:ns:carddav}valid-address-data");
    assert.match(res.body, /holds 3/);
    assert.equal((await server.request("GET", `${book}three.vcf`)).status, 404);
  });

  it("RFC 6352 §6.2.3: max-resource-size is reported; a card with a photo of exactly that size round-trips byte for byte, one byte more → 403", async () => {
    const prop = await server.request("PROPFIND", book, {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:max-resource-size/></D:prop></D:propfind>`,
    });
    const limit = Number(/max-resource-size>(\d+)</.exec(prop.body)?.[1]);
    assert.equal(limit, server.ctx.config.maxResourceSize);
    const head =
      "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:photo-limit\r\nFN:Photo\r\nN:Photo;;;;\r\nPHOTO;ENCODING=b;TYPE=JPEG:";
    const tail = "\r\nEND:VCARD\r\n";
    const b64 = Buffer.from(Array.from({ length: limit }, (_, i) => (i * 2654435761) >>> 24)).toString(
      "base64",
    );
    // Random bytes as base64, folded at 75 octets as clients write it (RFC 2426 §2.6): n characters take n + 3⌊(n-1)/74⌋ bytes.
    const folded = (n: number) => b64.slice(0, n).replace(/(.{74})(?=.)/g, "$1\r\n ");
    const room = limit - head.length - tail.length;
    let size = Math.floor((room * 74) / 77);
    while (size + 3 * Math.floor((size - 1) / 74) < room - 3) size++;
    while (size + 3 * Math.floor((size - 1) / 74) > room) size--;
    const body = head + folded(size) + tail;
    assert.ok(Buffer.byteLength(body) >= limit - 3, "within a few bytes of the limit");
    const padded = body.replace("FN:Photo", `FN:Photo${"x".repeat(limit - Buffer.byteLength(body))}`);
    assert.equal(Buffer.byteLength(padded), limit);
    const ok = await put("photo.vcf", padded);
    assert.equal(ok.status, 201, ok.body.slice(0, 300));
    const got = await server.request("GET", `${book}photo.vcf`);
    assert.equal(Buffer.compare(got.raw, Buffer.from(padded)), 0, "byte for byte");
    const over = await put(
      "photo-over.vcf",
      padded.replace("FN:Photo", "FN:Photo!").replace("photo-limit", "photo-overs"),
    );
    assert.equal(over.status, 403);
    assert.equal(parseXml(over.body).children[0].name, "{urn:ietf:params:xml:ns:carddav}max-resource-size");
  });

  it("RFC 6352 §6.3.2.1: parallel PUTs of one UID under two names → exactly one 201, the other 409 no-uid-conflict naming the winner", async () => {
    for (let round = 0; round < 5; round++) {
      const uid = `race-card-${round}`;
      const [a, b] = await Promise.all([
        put(`race-${round}-a.vcf`, card(uid, "Writer A")),
        put(`race-${round}-b.vcf`, card(uid, "Writer B")),
      ]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [201, 409], `round ${round}: ${a.body} ${b.body}`);
      const [winner, loser] = a.status === 201 ? ["a", b] : ["b", a];
      const err = parseXml(loser.body).children[0];
      assert.equal(err.name, "{urn:ietf:params:xml:ns:carddav}no-uid-conflict");
      assert.equal(err.children[0]?.text, `${book}race-${round}-${winner}.vcf`);
      const other = winner === "a" ? "b" : "a";
      assert.equal((await server.request("GET", `${book}race-${round}-${other}.vcf`)).status, 404);
    }
  });
});

describe("RFC 6352 for Apple Contacts", () => {
  const propfind = (url: string, props: string, depth = "0") =>
    server.request("PROPFIND", url, {
      headers: { ...XML_HEADERS, depth },
      body: `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>${props}</D:prop></D:propfind>`,
    });

  it("RFC 6352 §7.1.1, RFC 5397: the principal answers addressbook-home-set and principal-URL", async () => {
    const res = await propfind(
      "/principals/alice/",
      "<C:addressbook-home-set/><D:principal-URL/><D:current-user-principal/>",
    );
    const [r] = parseMultistatus(res.body);
    const ok = r.propstats.find((p) => p.status === 200)!;
    const text = (name: string) => ok.props.find((p) => p.name === name)?.children[0]?.text.trim();
    assert.equal(text("{urn:ietf:params:xml:ns:carddav}addressbook-home-set"), "/addressbooks/alice/");
    assert.equal(text("{DAV:}principal-URL"), "/principals/alice/");
  });

  it("CalendarServer's getctag on an address book changes with every write to it", async () => {
    const ctag = async () => /getctag>([^<]+)</.exec((await propfind(book, "<CS:getctag/>")).body)?.[1];
    const before = await ctag();
    assert.ok(before);
    assert.equal((await put("ctag.vcf", card("ctag-card", "Ctag"))).status, 201);
    const after = await ctag();
    assert.ok(after && after !== before, `${before} → ${after}`);
  });

  it("the default address book comes first in a Depth 1 listing of the home, before books whose names sort earlier", async () => {
    const mk = await server.request("MKCOL", "/addressbooks/alice/aaa-first-by-name/", {
      headers: XML_HEADERS,
      body: `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
    });
    assert.equal(mk.status, 201, mk.body);
    const hrefs = parseMultistatus(
      (await propfind("/addressbooks/alice/", "<D:resourcetype/>", "1")).body,
    ).map((r) => r.href);
    assert.deepEqual(hrefs.slice(0, 2), ["/addressbooks/alice/", book]);
    assert.ok(hrefs.includes("/addressbooks/alice/aaa-first-by-name/"));
  });
});
