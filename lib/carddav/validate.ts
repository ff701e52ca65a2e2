/**
 * vCard validation for PUT (RFC 6352 §6.3.2.1): one vCard 3.0 or 4.0 with a UID, parsed by ical.js.
 */
import ICAL from "ical.js";
import { excerpt, Forbidden } from "../errors.js";
import { controlCharacterMessage, findControlCharacter } from "../text/content-lines.js";
import { card } from "../xml/names.js";
import { parseVcards } from "./vcard-text.js";
import { versionOf } from "./vcard-version.js";

export interface VcardInfo {
  uid: string;
  version: string;
}

const fail = (precondition: string, message: string) => new Forbidden(message, { name: card(precondition) });

const unsupportedVersion = (version: string) =>
  fail("supported-address-data", `vCard version ${version || "(none)"} is not supported; use 3.0 or 4.0.`);

const severalCards = (count: number) =>
  fail(
    "valid-address-data",
    `A vCard resource holds exactly one vCard (RFC 6352 §5.1); this body holds ${count}. Store each card under its own name.`,
  );

export function validateVcard(body: Buffer, maxResourceSize: number): VcardInfo {
  if (body.length > maxResourceSize) {
    throw fail("max-resource-size", `The vCard is ${body.length} bytes; the limit is ${maxResourceSize}.`);
  }
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let source: string;
  try {
    source = text.decode(body);
  } catch {
    // A charset other than UTF-8 (Windows-1252, UTF-16) is unsupported address data, not broken data.
    throw fail("supported-address-data", "The vCard is not UTF-8; store vCards as UTF-8 text.");
  }
  const begins = source.match(/^BEGIN:VCARD[ \t]*\r?$/gim)?.length ?? 0;
  if (begins > 1) throw severalCards(begins);
  if (begins === 1 && !/^END:VCARD[ \t]*\r?$/im.test(source)) {
    throw fail("valid-address-data", "The vCard has no END:VCARD line: it is cut short.");
  }
  // A vCard 2.1 file rarely parses as 3.0 (quoted-printable, bare parameters): name its version, not its syntax.
  const declared = versionOf(source);
  if (declared && declared !== "3.0" && declared !== "4.0") throw unsupportedVersion(declared);
  const control = findControlCharacter(source);
  if (control) throw fail("valid-address-data", controlCharacterMessage(control, "vCard"));
  let cards: unknown;
  try {
    // The stored body stays byte for byte what the client sent; only the parser's copy names bare parameters.
    cards = parseVcards(source);
  } catch (err) {
    throw fail("valid-address-data", `The vCard cannot be parsed: ${excerpt((err as Error).message)}`);
  }
  if (!Array.isArray(cards) || cards.length !== 1) {
    throw severalCards(Array.isArray(cards) ? cards.length : 0);
  }
  const comp = new ICAL.Component(cards[0] as never);
  if (comp.name !== "vcard") throw fail("valid-address-data", "The body is not a vCard.");
  const version = String(comp.getFirstPropertyValue("version") ?? "");
  if (version !== "3.0" && version !== "4.0") throw unsupportedVersion(version);
  const uid = comp.getFirstPropertyValue("uid");
  if (typeof uid !== "string" || uid.trim() === "") {
    // No UID is invented: the client would not know it, and a second upload would make a duplicate.
    throw fail(
      "valid-address-data",
      "The vCard has no UID property; CardDAV needs one in every card (RFC 6352 §5.1) to tell cards apart.",
    );
  }
  return { uid: uid.trim(), version };
}
