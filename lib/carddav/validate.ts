/**
 * vCard validation for PUT (RFC 6352 §6.3.2.1): one vCard 3.0 or 4.0 with a UID, parsed by ical.js.
 */
import ICAL from "ical.js";
import { Forbidden } from "../errors.js";
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
  let parsed: unknown;
  try {
    parsed = ICAL.parse(source);
  } catch (err) {
    throw fail("valid-address-data", `The vCard cannot be parsed: ${(err as Error).message}`);
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
