/**
 * CARDDAV:address-data in a REPORT (RFC 6352 §10.4): the card in the version asked for, and only
 * the properties asked for when the element lists them (§10.4.2, partial retrieval).
 */
import { Forbidden } from "../errors.js";
import type { ObjectRecord } from "../store/objects.js";
import type { MemberPropertyDef } from "../webdav/registry.js";
import { card } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { contentLines, valueStart } from "./vcard-text.js";
import { VCARD_VERSIONS, type VcardVersion } from "./vcard-version.js";
import { convertedCard } from "./versions.js";

export interface AddressDataSpec {
  /** The version asked for; absent, the card as stored. */
  version?: VcardVersion;
  /** The properties asked for (CARDDAV:prop); absent, all of them (no prop, or CARDDAV:allprop). */
  props?: { name: string; novalue: boolean }[];
}

/** Always in a partial card: without them it is no vCard (RFC 6350 §6.7.9, §3.3). */
const ALWAYS = new Set(["BEGIN", "END", "VERSION"]);

/**
 * Reads the element. Its DTD defaults the version to 3.0, but a client that names none gets the
 * card as it stored it: rewriting every stored 4.0 card would break the byte-identical round trip
 * §5.1.1 promises, and every client that omits the attribute reads the version it wrote.
 */
export function parseAddressData(el: XmlElement): AddressDataSpec {
  const type = (el.attrs["{}content-type"] ?? "text/vcard").trim().toLowerCase();
  const version = el.attrs["{}version"]?.trim();
  if (type !== "text/vcard" || (version !== undefined && !VCARD_VERSIONS.includes(version as VcardVersion))) {
    throw new Forbidden(
      `address-data as ${type}${version ? ` version ${version}` : ""} is not supported; text/vcard version 3.0 and 4.0 are.`,
      { name: card("supported-address-data") },
    );
  }
  const spec: AddressDataSpec = version ? { version: version as VcardVersion } : {};
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
    const text = (spec.version && inVersion(obj, spec.version)?.body) || obj.body.toString("utf8");
    return spec.props ? partialCard(text, spec.props) : text;
  },
  etag: (col, obj, spec) =>
    col.kind === "addressbook" && spec.version ? inVersion(obj, spec.version)?.etag : undefined,
};
