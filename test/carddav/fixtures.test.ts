/**
 * The real-world vCard fixtures (test/fixtures/vcard/manifest.json): each file gets the outcome of
 * a PUT the manifest names (RFC 6352 §6.3.2.1), and every 3.0 or 4.0 card in them survives the
 * conversion to the other version and back with everything a client shows (RFC 6352 §5.1.1).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import ICAL from "ical.js";
import { validateVcard } from "../../lib/carddav/validate.js";
import { convertVcard, type VcardVersion } from "../../lib/carddav/vcard-version.js";
import { DavError } from "../../lib/errors.js";

const dir = new URL("../fixtures/vcard/", import.meta.url);
interface Entry {
  file: string;
  expect: "accept" | "lenient" | "reject";
  precondition: string | null;
  sha256: string;
}
const manifest = JSON.parse(readFileSync(new URL("manifest.json", dir), "utf8")) as { files: Entry[] };
const read = (e: Entry) => readFileSync(new URL(e.file.replace(/^vcard\//, ""), dir));

function outcome(body: Buffer): string {
  try {
    validateVcard(body, 1_000_000);
    return "accept";
  } catch (err) {
    assert.ok(err instanceof DavError, String(err));
    assert.equal(err.status, 403);
    return `CARDDAV:${err.precondition!.name.replace(/^\{[^}]*\}/, "")}`;
  }
}

/** Each card of a file that declares 3.0 or 4.0 and that ical.js reads. */
function cardsOf(text: string): { card: string; version: VcardVersion }[] {
  return text
    .split(/(?<=^END:VCARD[ \t]*)\r?\n/im)
    .filter((c) => /^BEGIN:VCARD/im.test(c))
    .flatMap((card) => {
      const version = /^VERSION:[ \t]*([\d.]+)/im.exec(card)?.[1];
      if (version !== "3.0" && version !== "4.0") return [];
      try {
        ICAL.parse(card.replace(/\r?\n[ \t]/g, ""));
      } catch {
        return [];
      }
      return [{ card, version }];
    });
}

/**
 * What a client shows of a card, written independently of either version: the properties the
 * conversion must keep, with their TYPEs (PREF as the type `pref`), values normalised where the
 * two versions spell one thing differently (TEL as text or tel: URI, inline media as ENCODING=b
 * or data: URI, dates with or without dashes, Apple's 1604 for "no year").
 */
function shown(text: string): string[] {
  const unfolded = text.replace(/\r?\n[ \t]/g, "");
  const out: string[] = [];
  const names: Record<string, string> = {
    N: "N",
    FN: "FN",
    ORG: "ORG",
    TITLE: "TITLE",
    TEL: "TEL",
    EMAIL: "EMAIL",
    ADR: "ADR",
    BDAY: "BDAY",
    NOTE: "NOTE",
    URL: "URL",
    PHOTO: "PHOTO",
    CATEGORIES: "CATEGORIES",
    TZ: "TZ",
    KEY: "KEY",
    KIND: "KIND",
    "X-ADDRESSBOOKSERVER-KIND": "KIND",
    MEMBER: "MEMBER",
    "X-ADDRESSBOOKSERVER-MEMBER": "MEMBER",
  };
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^(?:[\w-]+\.)?([\w-]+)((?:;(?:[^:;"]|"[^"]*")*)*):(.*)$/.exec(line);
    if (!m || !names[m[1].toUpperCase()]) continue;
    const name = names[m[1].toUpperCase()];
    const params = new Map<string, string>();
    const types: string[] = [];
    for (const p of m[2].split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/).slice(1)) {
      const [k, v = ""] = p.split(/=(.*)/s);
      if (k.toUpperCase() === "TYPE")
        types.push(
          ...v
            .replace(/"/g, "")
            .split(",")
            .map((t) => t.toLowerCase()),
        );
      else params.set(k.toUpperCase(), v);
    }
    if (params.get("PREF") === "1") types.push("pref");
    // RFC 6350 §3.4 / RFC 2426 §4: `\,` `\;` `\\` `\n` are escapes; a semicolon outside N/ADR/ORG may go unescaped.
    let value = m[3].replace(/\\([\\,;nN])/g, (_, c: string) => (c.toLowerCase() === "n" ? "\n" : c));
    if (name === "TEL") value = value.replace(/^tel:/i, "");
    if (name === "KIND") value = value.toLowerCase();
    if (name === "PHOTO" || name === "KEY") {
      // Inline data is its bytes and, where the card names it, its media type.
      const data = /^data:([^;,]*);base64,(.*)$/i.exec(value);
      const inline3 =
        !data && !/^(uri|text)$/i.test(params.get("VALUE") ?? "") && !/^[a-z][a-z0-9+.-]*:/i.test(value);
      const media = data ? data[1].toLowerCase() : inline3 ? types.find((t) => t !== "pref") : undefined;
      const top = name === "PHOTO" ? "image" : "application";
      if (media)
        out.push(
          `${name}-MEDIA=${media.includes("/") ? media.toLowerCase() : `${top}/${media.toLowerCase()}`}`,
        );
      if (data || inline3) value = `bytes:${(data ? data[2] : value).replace(/\s+/g, "")}`;
      types.length = 0;
    }
    if (name === "BDAY") {
      const year = params.get("X-APPLE-OMIT-YEAR");
      if (!value.startsWith("--")) value = value.replace(/[-:]/g, "");
      if (year && value.startsWith(year)) value = `--${value.slice(year.length)}`;
    }
    out.push(`${name}[${[...new Set(types)].sort().join(",")}]=${value}`);
  }
  // Conversion makes the N a 3.0 card lacks and the FN a 4.0 card lacks; that is an addition, not a loss.
  return out.sort();
}

describe("RFC 6352 §6.3.2.1: real-world vCard fixtures get the manifest's outcome", () => {
  it("the manifest lists exactly the copied files, byte for byte", () => {
    assert.equal(manifest.files.length, 30);
    for (const e of manifest.files) {
      assert.equal(createHash("sha256").update(read(e)).digest("hex"), e.sha256, e.file);
    }
  });
  for (const e of manifest.files) {
    const expected = e.expect === "reject" ? e.precondition : "accept";
    it(`${e.file}: ${e.expect}${e.precondition ? ` ${e.precondition}` : ""}`, () => {
      assert.equal(outcome(read(e)), expected);
    });
  }
});

describe("RFC 6352 §5.1.1: every 3.0/4.0 card of the fixtures converts to the other version and back, losing nothing a client shows", () => {
  const cards = manifest.files.flatMap((e) =>
    cardsOf(read(e).toString("utf8")).map((c, i) => ({ ...c, name: `${e.file}#${i + 1}` })),
  );

  it("the fixtures hold at least 20 such cards, of both versions", () => {
    assert.ok(cards.length >= 20, `${cards.length} cards`);
    assert.ok(cards.some((c) => c.version === "3.0") && cards.some((c) => c.version === "4.0"));
  });

  for (const { card, version, name } of cards) {
    it(`${name} (${version})`, () => {
      const other: VcardVersion = version === "3.0" ? "4.0" : "3.0";
      const converted = convertVcard(card, other);
      assert.match(converted, new RegExp(`^BEGIN:VCARD\\r\\nVERSION:${other}\\r\\n`), "VERSION comes first");
      const back = convertVcard(converted, version);
      const before = shown(card);
      const missing = (after: string[]) => before.filter((p) => !after.includes(p));
      assert.deepEqual(missing(shown(converted)), [], `kept in ${other}`);
      assert.deepEqual(missing(shown(back)), [], `kept back in ${version}`);
      // Every line of the original that is not N/FN/... still has its property name in the result.
      const propNames = (t: string) =>
        new Set(
          t
            .replace(/\r?\n[ \t]/g, "")
            .split(/\r?\n/)
            .map((l) => /^(?:[\w-]+\.)?([\w-]+)/.exec(l)?.[1]?.toUpperCase())
            .filter(Boolean),
        );
      const after = propNames(back);
      for (const n of propNames(card)) assert.ok(after.has(n), `${n} passes through`);
    });
  }
});
