/**
 * CARDDAV:address-data in a REPORT (RFC 6352 §10.4): the card in the version asked for, and only
 * the properties asked for when the element lists them (§10.4.2, partial retrieval).
 */
import { Forbidden } from "../errors.js";
import type { ObjectRecord } from "../store/objects.js";
import type { MemberPropertyDef } from "../webdav/registry.js";
import { card } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { cardText, contentLines, valueStart } from "./vcard-text.js";
import { VCARD_VERSIONS, type VcardVersion } from "./vcard-version.js";
import { convertedCard } from "./versions.js";

export interface AddressDataSpec {
  /** The version asked for (3.0 when the element names none). */
  version: VcardVersion;
  /** The properties asked for (CARDDAV:prop); absent, all of them (no prop, or CARDDAV:allprop). */
  props?: { name: string; novalue: boolean }[];
}

/** Always in a partial card: without them it is no vCard (RFC 6350 §6.7.9, §3.3). */
const ALWAYS = new Set(["BEGIN", "END", "VERSION"]);

/**
 * Reads the element. A version the element does not name is 3.0, as the DTD of §10.4 defaults it:
 * macOS and iOS Contacts read only 3.0 and name none, so a card another client stored as 4.0
 * reaches them converted (DAVx5 and others that read 4.0 ask for it). GET without Accept, and
 * address-data with `version="4.0"` on a 4.0 card, give the stored bytes.
 */
export function parseAddressData(el: XmlElement): AddressDataSpec {
  // `text/vcard; charset=utf-8` is text/vcard: the media type without its parameters.
  const type = (el.attrs["{}content-type"] ?? "text/vcard").split(";")[0].trim().toLowerCase();
  const version = (el.attrs["{}version"] ?? "3.0").trim();
  if (type !== "text/vcard" || !VCARD_VERSIONS.includes(version as VcardVersion)) {
    throw new Forbidden(
      `address-data as ${type} version ${version} is not supported; text/vcard version 3.0 and 4.0 are.`,
      { name: card("supported-address-data") },
    );
  }
  const spec: AddressDataSpec = { version: version as VcardVersion };
  if (el.children.some((c) => c.name === card("allprop"))) return spec;
  const props = el.children
    .filter((c) => c.name === card("prop"))
    .map((c) => ({
      name: (c.attrs["{}name"] ?? "").trim().toUpperCase(),
      novalue: c.attrs["{}novalue"] === "yes",
    }))
    .filter((p) => p.name !== "");
  return props.length ? { ...spec, props } : spec;
}

/** Conversions per stored body, so the ETag and the data of one response convert once. */
const converted = new WeakMap<Buffer, Map<VcardVersion, ReturnType<typeof convertedCard>>>();

function inVersion(obj: ObjectRecord & { body: Buffer }, version: VcardVersion) {
  let byVersion = converted.get(obj.body);
  if (!byVersion) converted.set(obj.body, (byVersion = new Map()));
  if (!byVersion.has(version)) byVersion.set(version, convertedCard(obj, version));
  return byVersion.get(version);
}

/** The card with only the properties asked for; `novalue` ones keep their name and parameters. */
export function partialCard(text: string, props: NonNullable<AddressDataSpec["props"]>): string {
  const wanted = new Map(props.map((p) => [p.name, p.novalue]));
  const lines = contentLines(text).filter((l) => ALWAYS.has(l.name) || wanted.has(l.name));
  return lines
    .map(({ raw, name }) => {
      if (!wanted.get(name)) return `${raw}\r\n`;
      const unfolded = raw.replace(/\r\n[ \t]/g, "");
      return `${unfolded.slice(0, valueStart(unfolded) + 1)}\r\n`;
    })
    .join("");
}

export const addressData: MemberPropertyDef<AddressDataSpec> = {
  parse: parseAddressData,
  render(col, obj, spec) {
    if (col.kind !== "addressbook") return undefined;
    const converted = inVersion(obj, spec.version)?.body;
    if (spec.props) return partialCard(converted ?? cardText(obj.body), spec.props);
    return converted ?? obj.body.toString("utf8");
  },
  etag: (col, obj, spec) => (col.kind === "addressbook" ? inVersion(obj, spec.version)?.etag : undefined),
};
