/**
 * vCard text as real clients write it, made readable for the parser without touching what is stored.
 */
import ICAL from "ical.js";

/** A stored card's text for reading: UTF-8 without the byte-order mark some exporters write (the validator reads past it too). */
export const cardText = (body: Buffer): string => body.toString("utf8").replace(/^\uFEFF/, "");

/** Bare parameter values and the parameter each one stands for (vCard 2.1 style, RFC 2426 §4 tolerance). */
const BARE_ENCODINGS = new Set(["BASE64", "B", "QUOTED-PRINTABLE", "8BIT", "7BIT"]);

/**
 * The text with bare parameters named: older Apple Address Book and vCard 2.1-era exporters write
 * `PHOTO;BASE64:` or `TEL;HOME;PREF:`, which RFC 6350 §5 and RFC 2426 spell `ENCODING=b` and
 * `TYPE=HOME`. The parser's copy is unfolded first (RFC 6350 §3.2), so parameters folded onto a
 * continuation line are named too; one pass over each line keeps it linear in the body's size.
 */
export function withNamedParameters(text: string): string {
  return text.replace(/\r?\n[ \t]/g, "").replace(/^[^\s:;][^\r\n]*$/gm, (line) => {
    const cuts: number[] = [];
    let quoted = false;
    let colon = -1;
    for (let i = 0; i < line.length && colon < 0; i++) {
      if (line[i] === '"') quoted = !quoted;
      else if (quoted) continue;
      else if (line[i] === ":") colon = i;
      else if (line[i] === ";") cuts.push(i);
    }
    if (colon < 0 || cuts.length === 0) return line;
    let out = line.slice(0, cuts[0]);
    cuts.forEach((at, k) => {
      const p = line.slice(at + 1, k + 1 < cuts.length ? cuts[k + 1] : colon);
      const named =
        p === "" || p.includes("=") ? p : BARE_ENCODINGS.has(p.toUpperCase()) ? `ENCODING=${p}` : `TYPE=${p}`;
      out += `;${named}`;
    });
    return out + line.slice(colon);
  });
}

/** One property of a vCard as written: its lines (folded as they came) and its name without group. */
export interface ContentLine {
  raw: string;
  name: string;
}

/** The index of the colon that ends a content line's name and parameters (quoted values may hold colons). */
export function valueStart(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (!quoted && line[i] === ":") return i;
  }
  return -1;
}

/** The content lines of a vCard text (RFC 6350 §3.2), each with its continuation lines. */
export function contentLines(text: string): ContentLine[] {
  const lines: ContentLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && lines.length) lines[lines.length - 1].raw += `\r\n${line}`;
    else if (line !== "") {
      const name = /^([^;:]*)/.exec(line)![1];
      lines.push({ raw: line, name: name.slice(name.lastIndexOf(".") + 1).toUpperCase() });
    }
  }
  return lines;
}

/** A jCard property (RFC 7095 §3.3): name, parameters, value type, values. */
export type JProp = [string, Record<string, string | string[]>, string, ...unknown[]];
/** A jCard (RFC 7095): name, properties, sub-components. */
export type JCard = [string, JProp[], unknown[]];

/** Every component of a vCard text as ical.js reads it (with bare parameters named); throws on bad syntax. */
export function parseVcards(text: string): JCard[] {
  const parsed = ICAL.parse(withNamedParameters(text)) as unknown;
  return (Array.isArray(parsed) && typeof parsed[0] === "string" ? [parsed] : parsed) as JCard[];
}

/**
 * An import file cut into its vCards, each byte for byte as it stands in the file (validated one
 * by one), in one pass over the lines: a card the file never closes runs to the end and is refused
 * by validation, never merged silently with the next one.
 */
export function splitVcards(body: Buffer): Buffer[] {
  const cards: string[] = [];
  let current: string[] | undefined;
  for (const line of cardText(body).split(/(?<=\n)/)) {
    const bare = line
      .replace(/[\r\n]+$/, "")
      .trimEnd()
      .toUpperCase();
    if (bare === "BEGIN:VCARD") {
      if (current) cards.push(current.join(""));
      current = [line];
    } else if (current) {
      current.push(line);
      if (bare === "END:VCARD") {
        cards.push(current.join(""));
        current = undefined;
      }
    }
  }
  if (current) cards.push(current.join(""));
  return cards.map((c) => Buffer.from(c));
}
