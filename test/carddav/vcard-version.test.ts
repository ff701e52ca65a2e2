/** vCard 3.0 (RFC 2426) ↔ 4.0 (RFC 6350) conversion, for RFC 6352 §5.1.1's versions on request. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convertVcard } from "../../lib/carddav/vcard-version.js";
import { storedEtag, variantEtag, wantedVersion } from "../../lib/carddav/versions.js";

const lines = (...l: string[]) => `${l.join("\r\n")}\r\n`;
const linesOf = (text: string) =>
  text
    .replace(/\r\n[ \t]/g, "")
    .split("\r\n")
    .filter(Boolean);

const apple3 = lines(
  "BEGIN:VCARD",
  "VERSION:3.0",
  "PRODID:-//Apple Inc.//Mac OS X 10.15//EN",
  "UID:5d5b9a2e-group",
  "N:Family;;;;",
  "FN:Family",
  "X-ADDRESSBOOKSERVER-KIND:group",
  "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0b3c1a0e-1",
  "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0b3c1a0e-2",
  "END:VCARD",
);

const person3 = lines(
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:ada",
  "N:Lovelace;Ada;;Countess;",
  "FN:Ada Lovelace",
  "ORG:Analytical Engines;Research",
  "TITLE:Programmer",
  "TEL;TYPE=WORK,VOICE;TYPE=pref:+44 20 7946 0000",
  "TEL;TYPE=CELL:+44 7700 900000",
  "EMAIL;TYPE=INTERNET,HOME:ada@example.org",
  "ADR;TYPE=HOME:;;12 St James's Square;London;;SW1Y 4JH;UK",
  "BDAY;X-APPLE-OMIT-YEAR=1604:1604-12-10",
  "NOTE:First programmer\\; wrote notes\\, many\\nof them",
  "URL:https://example.org/ada",
  "CATEGORIES:math,history",
  "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==",
  "item1.X-ABLabel:_$!<Other>!$_",
  'X-UNKNOWN;X-PARAM="a:b":kept\\, as is',
  "END:VCARD",
);

describe("RFC 6352 §5.1.1: vCard 3.0 → 4.0", () => {
  it("Apple's groups: X-ADDRESSBOOKSERVER-KIND/-MEMBER become KIND:group and MEMBER (RFC 6350 §6.1.4, §6.6.5), and back", () => {
    const v4 = convertVcard(apple3, "4.0");
    const l = linesOf(v4);
    assert.equal(l[1], "VERSION:4.0");
    assert.ok(l.includes("KIND:group"), v4);
    assert.ok(l.includes("MEMBER:urn:uuid:0b3c1a0e-1") && l.includes("MEMBER:urn:uuid:0b3c1a0e-2"), v4);
    assert.ok(!/X-ADDRESSBOOKSERVER/.test(v4), v4);
    const back = linesOf(convertVcard(v4, "3.0"));
    assert.ok(back.includes("X-ADDRESSBOOKSERVER-KIND:group"), back.join("\n"));
    assert.ok(back.includes("X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0b3c1a0e-2"), back.join("\n"));
  });

  it("what a client shows keeps its meaning: TYPE=pref → PREF=1, ENCODING=b photo → data: URI, Apple's no-year birthday → --MMDD, escapes", () => {
    const v4 = convertVcard(person3, "4.0");
    const l = linesOf(v4);
    assert.ok(l.includes("N:Lovelace;Ada;;Countess;"), v4);
    assert.ok(l.includes("FN:Ada Lovelace") && l.includes("TITLE:Programmer"));
    assert.ok(l.includes("ORG:Analytical Engines;Research"));
    assert.ok(l.includes("TEL;TYPE=WORK,VOICE;PREF=1;VALUE=TEXT:+44 20 7946 0000"), v4);
    assert.ok(l.includes("TEL;TYPE=CELL;VALUE=TEXT:+44 7700 900000"), v4);
    assert.ok(l.includes("EMAIL;TYPE=INTERNET,HOME:ada@example.org"), v4);
    assert.ok(l.includes("ADR;TYPE=HOME:;;12 St James's Square;London;;SW1Y 4JH;UK"), v4);
    assert.ok(l.includes("BDAY:--1210"), v4);
    // RFC 6350 §3.4: commas and newlines escaped; a semicolon in a non-compound value may stay bare.
    assert.ok(l.includes("NOTE:First programmer; wrote notes\\, many\\nof them"), v4);
    assert.ok(l.includes("URL:https://example.org/ada") && l.includes("CATEGORIES:math,history"));
    assert.ok(l.includes("PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ=="), v4);
    assert.ok(l.includes("ITEM1.X-ABLABEL:_$!<Other>!$_"), "grouped unknown properties pass through");
    assert.ok(
      l.includes('X-UNKNOWN;X-PARAM="a:b":kept\\, as is'),
      "unknown properties pass through unchanged",
    );
  });

  it("…and back to 3.0 gives the same card, with 3.0's spellings (RFC 2426 §3.1.5, §3.1.4, §4)", () => {
    const back = convertVcard(convertVcard(person3, "4.0"), "3.0");
    const l = linesOf(back);
    assert.equal(l[1], "VERSION:3.0");
    assert.ok(l.includes("TEL;TYPE=WORK,VOICE,pref:+44 20 7946 0000"), back);
    assert.ok(l.includes("BDAY;X-APPLE-OMIT-YEAR=1604:1604-12-10"), back);
    assert.ok(l.includes("NOTE:First programmer\\; wrote notes\\, many\\nof them"), "3.0 escapes semicolons");
    assert.ok(l.includes("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ=="), back);
    assert.ok(l.includes('X-UNKNOWN;X-PARAM="a:b":kept\\, as is'), back);
    // Converting the converted card again changes nothing: the mapping is stable.
    assert.equal(convertVcard(convertVcard(back, "4.0"), "3.0"), back);
  });
});

describe("RFC 6352 §5.1.1: vCard 4.0 → 3.0", () => {
  const person4 = lines(
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:urn:uuid:grace",
    "FN:Grace Hopper",
    "TEL;VALUE=uri;TYPE=work;PREF=1:tel:+1-202-555-0100",
    "BDAY:19061209",
    "ANNIVERSARY:--0101",
    "PHOTO:https://example.org/grace.png",
    "LOGO:data:image/png;base64,iVBORw0KGgo=",
    "END:VCARD",
  );

  it("tel: URIs become numbers, PREF=1 becomes TYPE=pref, a photo URL keeps VALUE=URI, inline data becomes ENCODING=b, N is made from FN", () => {
    const v3 = convertVcard(person4, "3.0");
    const l = linesOf(v3);
    assert.equal(l[1], "VERSION:3.0");
    assert.ok(l.includes("TEL;TYPE=work,pref:+1-202-555-0100"), v3);
    assert.ok(l.includes("BDAY:1906-12-09"), v3);
    assert.ok(l.includes("PHOTO;VALUE=URI:https://example.org/grace.png"), v3);
    assert.ok(l.includes("LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgo="), v3);
    // RFC 2426 §5 requires N in 3.0; the card had only FN.
    assert.ok(l.includes("N:Grace Hopper;;;;"), v3);
    assert.ok(l.includes("UID:urn:uuid:grace"));
    const again = linesOf(convertVcard(v3, "4.0"));
    assert.ok(again.includes("LOGO:data:image/png;base64,iVBORw0KGgo="), again.join("\n"));
    assert.ok(again.includes("PHOTO:https://example.org/grace.png"), again.join("\n"));
    assert.ok(again.includes("ANNIVERSARY:--0101"), again.join("\n"));
  });

  it("a card already in the version asked for is returned as it is, byte for byte", () => {
    assert.equal(convertVcard(person4, "4.0"), person4);
    assert.equal(convertVcard(person3, "3.0"), person3);
  });
});

describe("RFC 9110 §12.5.1 / RFC 6352 §5.1.1: Accept and the converted card's ETag", () => {
  it("the version asked for wins over the stored one only when it is preferred", () => {
    assert.equal(wantedVersion("text/vcard; version=4.0", "3.0"), "4.0");
    assert.equal(wantedVersion("text/vcard;version=3.0", "4.0"), "3.0");
    assert.equal(wantedVersion("text/vcard; version=4.0", "4.0"), undefined);
    assert.equal(wantedVersion("text/vcard", "3.0"), undefined);
    assert.equal(wantedVersion("*/*", "3.0"), undefined);
    assert.equal(wantedVersion(undefined, "3.0"), undefined);
    assert.equal(wantedVersion("text/vcard; version=3.0, text/vcard; version=4.0; q=0.5", "4.0"), "3.0");
    assert.equal(wantedVersion("text/vcard; version=4.0; q=0.5, text/vcard; version=3.0", "3.0"), undefined);
    assert.equal(wantedVersion("text/vcard; version=4.0, */*; q=0.1", "3.0"), "4.0");
    assert.equal(wantedVersion("text/vcard; version=2.1", "3.0"), undefined);
  });

  it("a converted card's ETag is derived from the stored one and the version, and leads back to it", () => {
    const stored = '"Zx9-abc_123"';
    const e4 = variantEtag(stored, "4.0");
    assert.notEqual(e4, stored);
    assert.notEqual(e4, variantEtag(stored, "3.0"));
    assert.equal(e4, variantEtag(stored, "4.0"), "stable");
    assert.match(e4, /^"[^"]+"$/, "a strong entity-tag (RFC 9110 §8.8.3)");
    assert.equal(storedEtag(e4), stored);
    assert.equal(storedEtag(stored), stored);
  });
});

describe("RFC 6352 §5.1.1: values whose type differs between the versions", () => {
  it("TZ as text (RFC 6350 §6.5.1) keeps its whole value in 3.0 and back", () => {
    const card = lines(
      "BEGIN:VCARD",
      "VERSION:4.0",
      "UID:tz",
      "FN:Tz",
      "TZ:Raleigh/North America",
      "TZ:America/New_York",
      "END:VCARD",
    );
    const v3 = convertVcard(card, "3.0");
    assert.ok(linesOf(v3).includes("TZ;VALUE=TEXT:Raleigh/North America"), v3);
    assert.ok(linesOf(v3).includes("TZ;VALUE=TEXT:America/New_York"), v3);
    const back = linesOf(convertVcard(v3, "4.0"));
    assert.ok(
      back.includes("TZ:Raleigh/North America") && back.includes("TZ:America/New_York"),
      back.join("\n"),
    );
  });

  it("a 3.0 PHOTO URL written without VALUE=uri stays a URL; a KEY URL survives 3.0 as text", () => {
    const v3 = lines(
      "BEGIN:VCARD",
      "VERSION:3.0",
      "UID:u",
      "N:U;;;;",
      "FN:U",
      "PHOTO:https://example.com/p.jpg",
      "PHOTO;TYPE=JPEG:http://example.com/q.jpg",
      "END:VCARD",
    );
    const v4 = linesOf(convertVcard(v3, "4.0"));
    assert.ok(v4.includes("PHOTO:https://example.com/p.jpg"), v4.join("\n"));
    assert.ok(
      v4.some((l) => /^PHOTO.*:http:\/\/example\.com\/q\.jpg$/.test(l)),
      v4.join("\n"),
    );
    assert.ok(!v4.some((l) => l.includes("base64,http")), "no URL is taken for base64");
    const key4 = lines(
      "BEGIN:VCARD",
      "VERSION:4.0",
      "UID:k",
      "FN:K",
      "KEY:http://www.example.com/keys/jdoe.cer",
      "END:VCARD",
    );
    const key3 = convertVcard(key4, "3.0");
    assert.ok(linesOf(key3).includes("KEY;VALUE=TEXT:http://www.example.com/keys/jdoe.cer"), key3);
    assert.ok(linesOf(convertVcard(key3, "4.0")).includes("KEY:http://www.example.com/keys/jdoe.cer"));
  });

  it("BDAY as text and 4.0's dates of reduced precision reach 3.0 as text and come back", () => {
    const card = lines(
      "BEGIN:VCARD",
      "VERSION:4.0",
      "UID:b",
      "FN:B",
      "BDAY;VALUE=text:circa 1800",
      "ANNIVERSARY:1985",
      "END:VCARD",
    );
    const v3 = convertVcard(card, "3.0");
    assert.ok(linesOf(v3).includes("BDAY;VALUE=TEXT:circa 1800"), v3);
    const back = linesOf(convertVcard(v3, "4.0"));
    assert.ok(back.includes("BDAY;VALUE=TEXT:circa 1800"), back.join("\n"));
    assert.ok(back.includes("ANNIVERSARY:1985"), back.join("\n"));
    // A 3.0 card that spells "no year" the 4.0 way gets the 4.0 date in 4.0.
    const odd = lines("BEGIN:VCARD", "VERSION:3.0", "UID:y", "N:Y;;;;", "FN:Y", "BDAY:--0412", "END:VCARD");
    assert.ok(linesOf(convertVcard(odd, "4.0")).includes("BDAY:--0412"));
  });

  it("a 4.0 card without FN gets one in 3.0 (RFC 2426 §5 requires it), from N, ORG or EMAIL", () => {
    const card = lines("BEGIN:VCARD", "VERSION:4.0", "UID:o", "ORG:Acme Inc.;Sales", "END:VCARD");
    const l = linesOf(convertVcard(card, "3.0"));
    assert.ok(l.includes("FN:Acme Inc."), l.join("\n"));
    assert.ok(l.includes("N:Acme Inc.;;;;"), l.join("\n"));
  });
});
