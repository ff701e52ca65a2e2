/** addressbook-query over HTTP against DynamoDB Local (RFC 6352 §8.6, §10.5), with the RFC's own examples. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { errorConditions, parseMultistatus, XML_HEADERS } from "../helpers/xml.js";

const CR = "urn:ietf:params:xml:ns:carddav";
const server: TestServer = await startTestServer();
const book = "/addressbooks/alice/query/";
const crlf = (...l: string[]) => `${l.join("\r\n")}\r\n`;

const cards: Record<string, string> = {
  // RFC 6352 §8.6.3's v102.vcf.
  "v102.vcf": crlf(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "NICKNAME:me",
    "UID:34222-232@example.com",
    "FN:Cyrus Daboo",
    "N:Daboo;Cyrus;;;",
    "EMAIL:daboo@example.com",
    "END:VCARD",
  ),
  "v104.vcf": crlf(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "NICKNAME:oliver",
    "UID:34222-23222@example.com",
    "FN:Oliver Example",
    "N:Example;Oliver;;;",
    "EMAIL:oliver.daboo@example.com",
    "END:VCARD",
  ),
  "ada.vcf": crlf(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:urn:uuid:ada",
    "FN:Ada Lovelace",
    "N:Lovelace;Ada;;;",
    "TEL;TYPE=work,voice;PREF=1:+44 20 7946 0000",
    "TEL;TYPE=cell:+44 7700 900000",
    "CATEGORIES:math,history",
    "END:VCARD",
  ),
  "umlaut.vcf": crlf(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:urn:uuid:umlaut",
    "FN:Jürgen Ärger",
    "TEL:+49 30 1234",
    "END:VCARD",
  ),
  "group.vcf": crlf(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:group-1",
    "N:Friends;;;;",
    "FN:Friends",
    "X-ADDRESSBOOKSERVER-KIND:group",
    "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ada",
    "END:VCARD",
  ),
};

before(async () => {
  const mk = await server.request("MKCOL", book, {
    headers: XML_HEADERS,
    body: `<D:mkcol xmlns:D="DAV:" xmlns:C="${CR}"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
  });
  assert.equal(mk.status, 201, mk.body);
  for (const [name, body] of Object.entries(cards)) {
    const res = await server.request("PUT", book + name, { body, headers: { "content-type": "text/vcard" } });
    assert.equal(res.status, 201, `${name}: ${res.body}`);
  }
});

const query = (inner: string, headers: Record<string, string> = { depth: "1" }, url = book) =>
  server.request("REPORT", url, {
    headers: { ...XML_HEADERS, ...headers },
    body: `<C:addressbook-query xmlns:D="DAV:" xmlns:C="${CR}">${inner}</C:addressbook-query>`,
  });

const ETAG_ONLY = "<D:prop><D:getetag/></D:prop>";
const names = (body: string) =>
  parseMultistatus(body)
    .filter((r) => r.status === undefined)
    .map((r) => r.href.slice(book.length))
    .sort();
const textMatch = (text: string, attrs = "") =>
  `<C:text-match${attrs ? ` ${attrs}` : ""}>${text}</C:text-match>`;
const matching = async (filter: string) => {
  const res = await query(`${ETAG_ONLY}${filter}`);
  assert.equal(res.status, 207, res.body);
  return names(res.body);
};

describe("RFC 6352 §8.6 addressbook-query: the RFC's examples", () => {
  it("§8.6.3: partial retrieval of the card whose NICKNAME equals 'me' (only VERSION, UID, NICKNAME, EMAIL, FN)", async () => {
    const res = await query(
      `<D:prop><D:getetag/><C:address-data><C:prop name="VERSION"/><C:prop name="UID"/><C:prop name="NICKNAME"/><C:prop name="EMAIL"/><C:prop name="FN"/></C:address-data></D:prop>
       <C:filter><C:prop-filter name="NICKNAME"><C:text-match collation="i;unicode-casemap" match-type="equals">me</C:text-match></C:prop-filter></C:filter>`,
    );
    assert.equal(res.status, 207, res.body);
    const [r, ...rest] = parseMultistatus(res.body);
    assert.equal(rest.length, 0, res.body);
    assert.equal(r.href, `${book}v102.vcf`);
    const data = r.propstats[0].props.find((p) => p.name === `{${CR}}address-data`)!.text;
    assert.deepEqual(
      data.split(/\r?\n/).filter(Boolean),
      [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "NICKNAME:me",
        "UID:34222-232@example.com",
        "FN:Cyrus Daboo",
        "EMAIL:daboo@example.com",
        "END:VCARD",
      ],
      "N is left out: it was not asked for",
    );
    assert.match(r.propstats[0].props.find((p) => p.name === "{DAV:}getetag")!.text, /^"/);
  });

  it("§8.6.4: test=anyof — FN or EMAIL containing 'daboo' (any case) finds both cards", async () => {
    assert.deepEqual(
      await matching(
        `<C:filter test="anyof"><C:prop-filter name="FN">${textMatch("DABOO", 'match-type="contains"')}</C:prop-filter><C:prop-filter name="EMAIL">${textMatch("daboo")}</C:prop-filter></C:filter>`,
      ),
      ["v102.vcf", "v104.vcf"],
    );
  });

  it("§8.6.1, §8.6.5: CARDDAV:limit truncates to nresults and says so with 507 number-of-matches-within-limits on the request-URI", async () => {
    const res = await query(
      `${ETAG_ONLY}<C:filter><C:prop-filter name="FN"/></C:filter><C:limit><C:nresults>2</C:nresults></C:limit>`,
    );
    assert.equal(res.status, 207, res.body);
    const rs = parseMultistatus(res.body);
    assert.equal(rs.filter((r) => r.status === undefined).length, 2, res.body);
    const last = rs.at(-1)!;
    assert.equal(last.href, book);
    assert.equal(last.status, 507);
    assert.match(res.body, /<D:error><D:number-of-matches-within-limits\/><\/D:error>/);
    // Within the limit nothing is truncated.
    const all = await query(
      `${ETAG_ONLY}<C:filter><C:prop-filter name="FN"/></C:filter><C:limit><C:nresults>5</C:nresults></C:limit>`,
    );
    assert.equal(parseMultistatus(all.body).length, 5);
    assert.ok(!all.body.includes("507"), all.body);
  });
});

describe("RFC 6352 §10.5 filters", () => {
  it("§10.5: a filter without prop-filters matches every card; an empty prop-filter matches where the property exists", async () => {
    assert.deepEqual(await matching("<C:filter/>"), Object.keys(cards).sort());
    assert.deepEqual(await matching('<C:filter><C:prop-filter name="NICKNAME"/></C:filter>'), [
      "v102.vcf",
      "v104.vcf",
    ]);
  });

  it("§10.5.3 is-not-defined: cards without the property", async () => {
    assert.deepEqual(
      await matching('<C:filter><C:prop-filter name="EMAIL"><C:is-not-defined/></C:prop-filter></C:filter>'),
      ["ada.vcf", "group.vcf", "umlaut.vcf"],
    );
  });

  it("§10.5.4 match-type: equals, contains, starts-with, ends-with", async () => {
    const fn = (text: string, type: string) =>
      matching(
        `<C:filter><C:prop-filter name="FN">${textMatch(text, `match-type="${type}"`)}</C:prop-filter></C:filter>`,
      );
    assert.deepEqual(await fn("ada lovelace", "equals"), ["ada.vcf"]);
    assert.deepEqual(await fn("ada", "equals"), []);
    assert.deepEqual(await fn("love", "contains"), ["ada.vcf"]);
    assert.deepEqual(await fn("Oliver", "starts-with"), ["v104.vcf"]);
    assert.deepEqual(await fn("Example", "starts-with"), []);
    assert.deepEqual(await fn("DABOO", "ends-with"), ["v102.vcf"]);
  });

  it("§10.5.4 negate-condition: cards whose FN does not contain 'daboo'", async () => {
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="FN">${textMatch("daboo", 'negate-condition="yes"')}</C:prop-filter></C:filter>`,
      ),
      ["ada.vcf", "group.vcf", "umlaut.vcf", "v104.vcf"],
    );
  });

  it("§10.5.4: structured and multi-valued values match by a part: N's family name, one of the CATEGORIES", async () => {
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="N">${textMatch("lovelace", 'match-type="equals"')}</C:prop-filter></C:filter>`,
      ),
      ["ada.vcf"],
    );
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="CATEGORIES">${textMatch("history", 'match-type="equals"')}</C:prop-filter></C:filter>`,
      ),
      ["ada.vcf"],
    );
  });

  it("§10.5.2 param-filter: TEL with TYPE=cell, TEL without TYPE, TEL with any PREF", async () => {
    const tel = (inner: string) =>
      matching(`<C:filter><C:prop-filter name="TEL">${inner}</C:prop-filter></C:filter>`);
    assert.deepEqual(
      await tel(`<C:param-filter name="TYPE">${textMatch("CELL", 'match-type="equals"')}</C:param-filter>`),
      ["ada.vcf"],
    );
    assert.deepEqual(
      await tel(`<C:param-filter name="TYPE">${textMatch("voice", 'match-type="equals"')}</C:param-filter>`),
      ["ada.vcf"],
    );
    assert.deepEqual(await tel('<C:param-filter name="TYPE"><C:is-not-defined/></C:param-filter>'), [
      "umlaut.vcf",
    ]);
    assert.deepEqual(await tel('<C:param-filter name="PREF"/>'), ["ada.vcf"]);
  });

  it("§10.5.1 prop-filter test=allof: every text-match and param-filter must hold for one instance; anyof (default): one", async () => {
    const both = `${textMatch("7700", 'match-type="contains"')}<C:param-filter name="TYPE">${textMatch("work", 'match-type="equals"')}</C:param-filter>`;
    // No single TEL of Ada's is both the 7700 number and TYPE=work.
    assert.deepEqual(
      await matching(`<C:filter><C:prop-filter name="TEL" test="allof">${both}</C:prop-filter></C:filter>`),
      [],
    );
    assert.deepEqual(
      await matching(`<C:filter><C:prop-filter name="TEL">${both}</C:prop-filter></C:filter>`),
      ["ada.vcf"],
    );
  });

  it("§10.5 filter test=allof: every prop-filter must match", async () => {
    assert.deepEqual(
      await matching(
        `<C:filter test="allof"><C:prop-filter name="EMAIL">${textMatch("daboo")}</C:prop-filter><C:prop-filter name="NICKNAME">${textMatch("oliver", 'match-type="equals"')}</C:prop-filter></C:filter>`,
      ),
      ["v104.vcf"],
    );
  });

  it("Apple's groups are found by X-ADDRESSBOOKSERVER-KIND", async () => {
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="X-ADDRESSBOOKSERVER-KIND">${textMatch("group", 'match-type="equals"')}</C:prop-filter></C:filter>`,
      ),
      ["group.vcf"],
    );
  });
});

describe("RFC 6352 §8.3 collations", () => {
  const fn = (text: string, collation: string) =>
    matching(
      `<C:filter><C:prop-filter name="FN">${textMatch(text, `collation="${collation}" match-type="contains"`)}</C:prop-filter></C:filter>`,
    );

  it("i;unicode-casemap (the default) folds case beyond ASCII; i;ascii-casemap folds only A–Z; i;octet folds nothing", async () => {
    assert.deepEqual(await fn("ärger", "i;unicode-casemap"), ["umlaut.vcf"]);
    assert.deepEqual(
      await matching(`<C:filter><C:prop-filter name="FN">${textMatch("JÜRGEN")}</C:prop-filter></C:filter>`),
      ["umlaut.vcf"],
    );
    assert.deepEqual(await fn("ärger", "i;ascii-casemap"), [], "Ä is not an ASCII letter");
    assert.deepEqual(await fn("jürgen", "i;ascii-casemap"), ["umlaut.vcf"]);
    assert.deepEqual(await fn("cyrus", "i;octet"), []);
    assert.deepEqual(await fn("Cyrus", "i;octet"), ["v102.vcf"]);
  });

  it("an unknown collation → 403 CARDDAV:supported-collation naming it", async () => {
    const res = await query(
      `${ETAG_ONLY}<C:filter><C:prop-filter name="FN">${textMatch("x", 'collation="i;klingon"')}</C:prop-filter></C:filter>`,
    );
    assert.equal(res.status, 403, res.body);
    assert.equal(errorConditions(res.body)[0], `{${CR}}supported-collation`);
    assert.match(res.body, /i;klingon/);
  });

  it("§8.3.1: address books list the collations in CARDDAV:supported-collation-set", async () => {
    const res = await server.request("PROPFIND", book, {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<D:propfind xmlns:D="DAV:" xmlns:C="${CR}"><D:prop><C:supported-collation-set/></D:prop></D:propfind>`,
    });
    for (const c of ["i;unicode-casemap", "i;ascii-casemap", "i;octet"])
      assert.ok(res.body.includes(`>${c}<`), res.body);
  });
});

describe("RFC 6352 §8.6: the request itself", () => {
  it("bad requests get a 4xx with the reason, never a 500", async () => {
    const cases: [string, number, string | undefined][] = [
      [ETAG_ONLY, 400, undefined],
      [
        `${ETAG_ONLY}<C:filter><C:prop-filter name="FN">${textMatch("x", 'match-type="fuzzy"')}</C:prop-filter></C:filter>`,
        403,
        "supported-filter",
      ],
      [`${ETAG_ONLY}<C:filter test="some"><C:prop-filter name="FN"/></C:filter>`, 403, "supported-filter"],
      [`${ETAG_ONLY}<C:filter><C:prop-filter/></C:filter>`, 400, undefined],
      [`${ETAG_ONLY}<C:filter/><C:limit><C:nresults>0</C:nresults></C:limit>`, 400, undefined],
      [`${ETAG_ONLY}<C:filter/><C:limit><C:nresults>many</C:nresults></C:limit>`, 400, undefined],
      [
        `<D:prop><C:address-data content-type="application/vcard+json"/></D:prop><C:filter/>`,
        403,
        "supported-address-data",
      ],
      [`<D:prop><C:address-data version="2.1"/></D:prop><C:filter/>`, 403, "supported-address-data"],
    ];
    for (const [inner, status, precondition] of cases) {
      const res = await query(inner);
      assert.equal(res.status, status, `${inner}: ${res.body}`);
      if (precondition) assert.equal(errorConditions(res.body)[0], `{${CR}}${precondition}`, res.body);
      assert.ok(res.body.length > 20, "a reason is given");
    }
  });

  it("§8.6: on a card's URL the query tests that card; Depth: 0 on the address book evaluates the collection, which is no card", async () => {
    const filter = `<C:filter><C:prop-filter name="FN">${textMatch("ada")}</C:prop-filter></C:filter>`;
    const one = await query(`${ETAG_ONLY}${filter}`, { depth: "0" }, `${book}ada.vcf`);
    assert.deepEqual(
      parseMultistatus(one.body).map((r) => r.href),
      [`${book}ada.vcf`],
    );
    const miss = await query(`${ETAG_ONLY}${filter}`, { depth: "0" }, `${book}v102.vcf`);
    assert.deepEqual(parseMultistatus(miss.body), []);
    const zero = await query(`${ETAG_ONLY}${filter}`, { depth: "0" });
    assert.deepEqual(parseMultistatus(zero.body), []);
    // Without a Depth header the client means the cards (as calendar-query, RFC 3253 §3.6 notwithstanding).
    const none = await query(`${ETAG_ONLY}${filter}`, {});
    assert.deepEqual(names(none.body), ["ada.vcf"]);
  });

  it('§10.4: address-data version="4.0" in a query converts 3.0 cards, with the converted card\'s ETag', async () => {
    const res = await query(
      `<D:prop><D:getetag/><C:address-data version="4.0"/></D:prop><C:filter><C:prop-filter name="NICKNAME">${textMatch("me", 'match-type="equals"')}</C:prop-filter></C:filter>`,
    );
    const [r] = parseMultistatus(res.body);
    const data = r.propstats[0].props.find((p) => p.name === `{${CR}}address-data`)!.text;
    assert.match(data, /^BEGIN:VCARD\r?\nVERSION:4\.0\r?\n/);
    assert.match(data, /FN:Cyrus Daboo/);
    const got = await server.request("GET", `${book}v102.vcf`);
    const etag = r.propstats[0].props.find((p) => p.name === "{DAV:}getetag")!.text;
    assert.notEqual(etag, got.headers.get("etag"), "not the stored body's ETag");
  });

  it("§10.4.2 novalue: the property's name and parameters without its value (a 4.0 card asked for as 4.0)", async () => {
    const res = await query(
      `<D:prop><C:address-data version="4.0"><C:prop name="TEL" novalue="yes"/><C:prop name="FN"/></C:address-data></D:prop><C:filter><C:prop-filter name="UID">${textMatch("urn:uuid:ada", 'match-type="equals"')}</C:prop-filter></C:filter>`,
    );
    const data = parseMultistatus(res.body)[0].propstats[0].props.find(
      (p) => p.name === `{${CR}}address-data`,
    )!.text;
    assert.deepEqual(data.split(/\r?\n/).filter(Boolean), [
      "BEGIN:VCARD",
      "VERSION:4.0",
      "FN:Ada Lovelace",
      "TEL;TYPE=work,voice;PREF=1:",
      "TEL;TYPE=cell:",
      "END:VCARD",
    ]);
  });

  it("a filter with more than 100 tests → 403 supported-filter saying so (a query's time stays bounded)", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `<C:prop-filter name="X-F${i}"/>`).join("");
    const res = await query(`${ETAG_ONLY}<C:filter>${many}</C:filter>`);
    assert.equal(res.status, 403, res.body);
    assert.equal(errorConditions(res.body)[0], `{${CR}}supported-filter`);
    assert.match(res.body, /at most 100/);
  });

  it("a param-filter named like an object property (constructor, __proto__) matches no parameter", async () => {
    for (const name of ["constructor", "__proto__", "toString"]) {
      assert.deepEqual(
        await matching(
          `<C:filter><C:prop-filter name="TEL"><C:param-filter name="${name}"/></C:prop-filter></C:filter>`,
        ),
        [],
      );
    }
  });
});

describe("a card stored with a UTF-8 byte-order mark", () => {
  it("is found by queries, converted on request and cut to the properties asked for; the address book stays searchable", async () => {
    const bom =
      "\uFEFFBEGIN:VCARD\r\nVERSION:3.0\r\nUID:bom-card\r\nN:Card;Bom;;;\r\nFN:Bom Card\r\nEND:VCARD\r\n";
    assert.equal((await server.request("PUT", `${book}bom.vcf`, { body: bom })).status, 201);
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="FN">${textMatch("bom card", 'match-type="equals"')}</C:prop-filter></C:filter>`,
      ),
      ["bom.vcf"],
    );
    assert.deepEqual(
      await matching(
        `<C:filter><C:prop-filter name="FN">${textMatch("lovelace")}</C:prop-filter></C:filter>`,
      ),
      ["ada.vcf"],
    );
    const res = await query(
      `<D:prop><C:address-data><C:prop name="FN"/></C:address-data></D:prop><C:filter><C:prop-filter name="UID">${textMatch("bom-card", 'match-type="equals"')}</C:prop-filter></C:filter>`,
    );
    const data = parseMultistatus(res.body)[0].propstats[0].props.find(
      (p) => p.name === `{${CR}}address-data`,
    )!.text;
    assert.deepEqual(data.split("\r\n").filter(Boolean), [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Bom Card",
      "END:VCARD",
    ]);
    const v4 = await server.request("GET", `${book}bom.vcf`, {
      headers: { accept: "text/vcard; version=4.0" },
    });
    assert.match(v4.body, /^BEGIN:VCARD\r\nVERSION:4\.0\r\n/);
    assert.equal((await server.request("GET", `${book}bom.vcf`)).body, bom, "stored as sent");
    await server.request("DELETE", `${book}bom.vcf`);
  });
});
