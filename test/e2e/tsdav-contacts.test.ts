/**
 * End to end with tsdav's CardDAV calls (the npm client, no mocks): log in through
 * /.well-known/carddav, list the address books, create vCard 3.0 and 4.0 cards, list them back,
 * query them with addressbook-query, update and delete them with their ETags.
 *
 * The tests in the describe block run in order and build on each other, like a user's session.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDAVClient, type DAVAddressBook, type DAVVCard } from "tsdav";
import { PASSWORDS, startTestServer, type TestServer } from "../helpers/server.js";

const server: TestServer = await startTestServer();
// Each test file runs in its own process on its own table; bob logs in here first, which makes his
// default address book (empty), as tsdav-discovery's CardDAV test does.
const USER = "bob";
const BOOK = `${server.url}/addressbooks/${USER}/default/`;

const CRLF = (...lines: string[]) => lines.join("\r\n") + "\r\n";

/**
 * Cards whose bytes a server could easily change: a folded line, escaped commas and semicolons,
 * non-ASCII text, parameters in lower case, a group prefix, a property ical.js does not know.
 */
const CARDS = {
  ada: CRLF(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:tsdav-ada@lambda-dav.test",
    "FN:Ada Lovelace",
    "N:Lovelace;Ada;Augusta\\, Countess;;",
    "EMAIL;type=INTERNET;type=HOME:ada@example.org",
    "ADR;TYPE=home:;;12 St James's Square;London;;SW1Y 4JH;United Kingdom",
    "NOTE:Wrote the first published algorithm meant for a machine\\; her notes on ",
    " the Analytical Engine run to three times the length of the paper.",
    "item1.X-ABLABEL:Mathematician",
    "END:VCARD",
  ),
  grace: CRLF(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:urn:uuid:6f0b6c36-8d3c-4b57-9f55-2f3f0a9c1e01",
    "FN:Grace Hopper",
    "N:Hopper;Grace;Brewster Murray;Rear Admiral;",
    "KIND:individual",
    "EMAIL;TYPE=work;PREF=1:grace@navy.example.mil",
    "TEL;VALUE=uri;TYPE=work:tel:+1-555-0100",
    "END:VCARD",
  ),
  emmy: CRLF(
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:tsdav-emmy@lambda-dav.test",
    "FN:Emmy Nöther",
    "N:Nöther;Amalie Emmy;;;",
    "ORG:Universität Göttingen;Mathematisches Institut",
    "CATEGORIES:algebra,physics",
    "END:VCARD",
  ),
  alan: CRLF(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:tsdav-alan@lambda-dav.test",
    "FN:Alan Turing",
    "N:Turing;Alan;Mathison;;",
    "EMAIL:alan@example.org",
    "END:VCARD",
  ),
};
type Name = keyof typeof CARDS;
const href = (name: Name) => `${BOOK}${name}.vcf`;

describe("interop: tsdav's CardDAV calls (RFC 6352)", () => {
  let client: Awaited<ReturnType<typeof createDAVClient>>;
  let book: DAVAddressBook;
  const created = new Map<Name, string>();

  /** The cards tsdav lists now, by URL. */
  const listed = async () =>
    new Map((await client.fetchVCards({ addressBook: book })).map((c) => [c.url, c]));

  /** addressbook-query through tsdav, Depth 1 on the address book; `urlsOf`: its hrefs, absolute, sorted. */
  const query = (filters: object, props: object = { "d:getetag": {} }) =>
    client.addressBookQuery({ url: book.url, props, filters, depth: "1" });
  const urlsOf = (res: { href?: string }[]) => res.map((r) => new URL(r.href ?? "", book.url).href).sort();

  it("RFC 6764 §6, RFC 6352 §7.1.1: tsdav logs in as a CardDAV account and finds the default address book", async () => {
    client = await createDAVClient({
      serverUrl: `${server.url}/`,
      credentials: { username: USER, password: PASSWORDS[USER] },
      authMethod: "Basic",
      defaultAccountType: "carddav",
    });
    const books = await client.fetchAddressBooks();
    assert.deepEqual(
      books.map((b) => b.url),
      [BOOK],
    );
    book = books[0];
    assert.ok(book.resourcetype?.includes("addressbook"), String(book.resourcetype));
    assert.ok(book.reports?.includes("addressbookQuery"), String(book.reports));
    assert.deepEqual(await client.fetchVCards({ addressBook: book }), [], "a new address book is empty");
  });

  it("RFC 6352 §6.3.2, §5.1: createVCard stores vCard 3.0 and 4.0 cards (201 with an ETag) and refuses an existing name (If-None-Match: *, 412)", async () => {
    for (const [name, body] of Object.entries(CARDS) as [Name, string][]) {
      const res = await client.createVCard({ addressBook: book, vCardString: body, filename: `${name}.vcf` });
      assert.equal(res.status, 201, `${name}: ${res.status} ${await res.text()}`);
      const etag = res.headers.get("etag");
      assert.match(etag ?? "", /^"[^"]+"$/, `${name}: a strong ETag in the PUT answer`);
      created.set(name, etag!);
    }
    assert.equal(new Set(created.values()).size, created.size, "every card has its own ETag");

    // tsdav sends If-None-Match: *, so a second create at the same name must not overwrite the first.
    const again = await client.createVCard({
      addressBook: book,
      vCardString: CARDS.alan.replace("FN:Alan Turing", "FN:Not Alan"),
      filename: "ada.vcf",
    });
    assert.equal(again.status, 412, await again.text());
    const get = await server.request("GET", new URL(href("ada")).pathname, { user: USER });
    assert.equal(get.body, CARDS.ada, "the refused create changed nothing");
  });

  it("RFC 6352 §5.1.1, §8.7, §10.4: fetchVCards lists every card: 3.0 cards byte for byte with the PUT's ETag, the 4.0 card as 3.0 (address-data's default) with an ETag of its own; GET gives every card as PUT", async () => {
    const cards = await listed();
    assert.deepEqual([...cards.keys()].sort(), (Object.keys(CARDS) as Name[]).map(href).sort());
    for (const [name, body] of Object.entries(CARDS) as [Name, string][]) {
      const got = cards.get(href(name))!;
      if (body.includes("VERSION:4.0")) {
        // tsdav asks with a bare <address-data/>, whose version defaults to 3.0 (RFC 6352 §10.4).
        assert.match(got.data, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/, `${name}: converted to 3.0`);
        const fn = body.split("\r\n").find((l) => l.startsWith("FN:"))!;
        assert.ok(got.data.split("\r\n").includes(fn), `${name}: ${fn} kept`);
        assert.notEqual(got.etag, created.get(name), `${name}: the converted card's own ETag`);
        assert.ok(got.etag!.startsWith(created.get(name)!.slice(0, -1)), got.etag);
      } else {
        assert.equal(got.etag, created.get(name), `${name}: the ETag of the PUT`);
        // tsdav's XML reader trims text nodes, so the last CRLF does not reach it; everything else must.
        assert.equal(got.data, body.trimEnd(), `${name}: address-data as stored`);
      }
      // And the server's own bytes, over GET, keep the CRLF line ends and the fold as written.
      const raw = await server.request("GET", new URL(href(name)).pathname, { user: USER });
      assert.equal(raw.status, 200);
      assert.ok(raw.raw.equals(Buffer.from(body, "utf8")), `${name}: GET returns the PUT body byte for byte`);
      assert.equal(raw.headers.get("etag"), created.get(name));
    }
  });

  it("RFC 6352 §8.6, §10.5.4: addressBookQuery with a text-match on FN returns exactly the cards that contain the text, case-insensitively (i;unicode-casemap)", async () => {
    const fnContains = (text: string, extra: Record<string, string> = {}) => ({
      "prop-filter": {
        _attributes: { name: "FN" },
        "text-match": { _attributes: { "match-type": "contains", ...extra }, _text: text },
      },
    });
    assert.deepEqual(urlsOf(await query(fnContains("LOVE"))), [href("ada")], "LOVE matches Lovelace only");
    assert.deepEqual(
      urlsOf(await query(fnContains("NÖTHER"))),
      [href("emmy")],
      "NÖTHER matches Nöther: the default i;unicode-casemap folds non-ASCII letters too",
    );
    assert.deepEqual(
      urlsOf(await query(fnContains("A", { collation: "i;octet" }))),
      [href("ada"), href("alan")].sort(),
      "i;octet compares bytes: a capital A is in Ada and Alan, only a small one in Grace",
    );
    assert.deepEqual(urlsOf(await query(fnContains("Babbage"))), [], "nothing matches");
  });

  it("RFC 6352 §10.5.1, §10.5: addressBookQuery with anyof/allof prop-filters, a param-filter and is-not-defined picks exactly the right cards", async () => {
    // anyof (the default): an EMAIL ending in .mil, or the FN Alan Turing exactly.
    const anyof = await query({
      "prop-filter": [
        {
          _attributes: { name: "EMAIL" },
          "text-match": { _attributes: { "match-type": "ends-with" }, _text: ".mil" },
        },
        {
          _attributes: { name: "FN" },
          "text-match": { _attributes: { "match-type": "equals" }, _text: "alan turing" },
        },
      ],
    });
    assert.deepEqual(urlsOf(anyof), [href("alan"), href("grace")].sort());

    // allof: an EMAIL and no KIND (Ada and Alan; Grace has a KIND, Emmy no EMAIL).
    const allof = await query({
      _attributes: { test: "allof" },
      "prop-filter": [
        { _attributes: { name: "EMAIL" } },
        { _attributes: { name: "KIND" }, "is-not-defined": {} },
      ],
    });
    assert.deepEqual(urlsOf(allof), [href("ada"), href("alan")].sort());

    // A param-filter: EMAIL with TYPE=home (Ada's, written as two TYPE parameters in lower case).
    const home = await query({
      "prop-filter": {
        _attributes: { name: "EMAIL" },
        "param-filter": {
          _attributes: { name: "TYPE" },
          "text-match": { _attributes: { "match-type": "equals" }, _text: "home" },
        },
      },
    });
    assert.deepEqual(urlsOf(home), [href("ada")]);
  });

  it("RFC 6352 §10.4, §5.1.1: addressBookQuery asking address-data version 4.0 converts a 3.0 card, with an ETag derived from the stored one", async () => {
    const res = await query(
      { "prop-filter": { _attributes: { name: "UID" }, "text-match": { _text: "tsdav-ada" } } },
      { "d:getetag": {}, "card:address-data": { _attributes: { version: "4.0" } } },
    );
    assert.deepEqual(urlsOf(res), [href("ada")]);
    const props = res[0].props ?? {};
    const data = String(props.addressData?._cdata ?? props.addressData);
    assert.match(data, /^VERSION:4\.0\r?$/m, data);
    assert.match(data, /^UID:tsdav-ada@lambda-dav\.test\r?$/m, data);
    assert.match(data, /^FN:Ada Lovelace\r?$/m, data);
    const stored = created.get("ada")!;
    assert.ok(
      String(props.getetag).startsWith(`"${stored.slice(1, -1)}.vcard4`) && String(props.getetag) !== stored,
      String(props.getetag),
    );
  });

  it("RFC 6352 §6.3.2, RFC 9110 §13.1.1: updateVCard with the listed ETag stores the edit; a second update with that now stale ETag fails with 412", async () => {
    const before = (await listed()).get(href("grace"))!;
    const edited = CARDS.grace.replace("FN:Grace Hopper", "FN:Rear Admiral Grace Hopper");
    const ok = await client.updateVCard({ vCard: { ...before, data: edited } });
    assert.equal(ok.status, 204, await ok.text());
    const newEtag = ok.headers.get("etag");
    assert.ok(newEtag && newEtag !== before.etag, `a new ETag: ${newEtag} (was ${before.etag})`);

    const stale = await client.updateVCard({
      vCard: { ...before, data: CARDS.grace.replace("FN:Grace Hopper", "FN:Lost Update") },
    });
    assert.equal(stale.status, 412, await stale.text());

    // The listing gives the 3.0 form (with an ETag derived from the new one); GET gives what was stored.
    const now = (await listed()).get(href("grace"))!;
    assert.ok(now.etag!.startsWith(newEtag.slice(0, -1)), `${now.etag} derives from ${newEtag}`);
    assert.match(now.data, /\r\nFN:Rear Admiral Grace Hopper\r\n/, "the first update stands");
    const stored = await server.request("GET", new URL(href("grace")).pathname, { user: USER });
    assert.equal(stored.body, edited, "stored as the client sent it; the stale update was not applied");
  });

  it("RFC 4918 §9.6, RFC 9110 §13.1.1: deleteVCard with a stale ETag is refused with 412; with the current ETag the card is gone", async () => {
    const current: DAVVCard = (await listed()).get(href("emmy"))!;
    const stale = await client.deleteVCard({ vCard: { ...current, etag: created.get("ada") } });
    assert.equal(stale.status, 412, await stale.text());
    assert.ok((await listed()).has(href("emmy")), "still there after the refused DELETE");

    const del = await client.deleteVCard({ vCard: current });
    assert.equal(del.status, 204, await del.text());
    assert.deepEqual([...(await listed()).keys()].sort(), [href("ada"), href("alan"), href("grace")].sort());
    const get = await server.request("GET", new URL(href("emmy")).pathname, { user: USER });
    assert.equal(get.status, 404);
    assert.deepEqual(
      urlsOf(
        await query({
          "prop-filter": { _attributes: { name: "FN" }, "text-match": { _text: "Nöther" } },
        }),
      ),
      [],
      "a deleted card no longer matches a query",
    );
  });
});
