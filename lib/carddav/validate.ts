/**
 * vCard validation for PUT (RFC 6352 §6.3.2.1): one vCard 3.0 or 4.0 with a UID, parsed by ical.js.
 */
import ICAL from "ical.js";
import { excerpt, Forbidden } from "../errors.js";
import { controlCharacterMessage, findControlCharacter } from "../text/content-lines.js";
import { card } from "../xml/names.js";

export interface VcardInfo {
  uid: string;
  version: string;
}

const fail = (precondition: string, message: string) => new Forbidden(message, { name: card(precondition) });

export function validateVcard(body: Buffer, maxResourceSize: number): VcardInfo {
  if (body.length > maxResourceSize) {
    throw fail("max-resource-size", `The vCard is ${body.length} bytes; the limit is ${maxResourceSize}.`);
  }
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let source: string;
  try {
    source = text.decode(body);
  } catch {
    throw fail("valid-address-data", "The vCard is not valid UTF-8.");
  }
  const control = findControlCharacter(source);
  if (control) throw fail("valid-address-data", controlCharacterMessage(control, "vCard"));
  let parsed: unknown;
  try {
    // The stored body stays byte for byte what the client sent; only the parser's copy names bare parameters.
    parsed = ICAL.parse(withNamedParameters(source));
  } catch (err) {
    throw fail("valid-address-data", `The vCard cannot be parsed: ${excerpt((err as Error).message)}`);
  }
  const cards = (
    Array.isArray(parsed) && typeof parsed[0] === "string" ? [parsed] : (parsed as unknown[])
  ) as unknown[];
  if (!Array.isArray(cards) || cards.length !== 1) {
    throw fail("valid-address-data", "A vCard resource must contain exactly one vCard.");
  }
  const comp = new ICAL.Component(cards[0] as never);
  if (comp.name !== "vcard") throw fail("valid-address-data", "The body is not a vCard.");
  const version = String(comp.getFirstPropertyValue("version") ?? "");
  if (version !== "3.0" && version !== "4.0") {
    throw fail(
      "supported-address-data",
      `vCard version ${version || "(none)"} is not supported; use 3.0 or 4.0.`,
    );
  }
  const uid = comp.getFirstPropertyValue("uid");
  if (typeof uid !== "string" || uid.trim() === "") throw fail("valid-address-data", "The vCard has no UID.");
  return { uid: uid.trim(), version };
}

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
