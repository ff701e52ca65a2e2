/**
 * CardDAV's live properties: the principal's (RFC 6352 §7.1), the address book's (§6.2), and
 * CARDDAV:address-data (§10.4), which REPORTs take from each member's body.
 */
import { homeHref } from "../webdav/paths.js";
import { anyText, href, storedText } from "../webdav/properties.js";
import type { MemberPropertyDef, PropertyDef } from "../webdav/registry.js";
import { isCollectionOf } from "../webdav/target.js";
import { COLLATIONS } from "../text/collation.js";
import { card } from "../xml/names.js";
import { addressData } from "./address-data.js";

const isBook = isCollectionOf("addressbook");

export const carddavProperties: PropertyDef[] = [
  {
    name: card("addressbook-home-set"),
    get: (r) => (r.type === "principal" ? [href(homeHref("addressbook", r.user.name))] : undefined),
  },
  { name: card("principal-address"), get: (r) => (r.type === "principal" ? [] : undefined) },
  {
    name: card("addressbook-description"),
    set: { on: ["addressbook"], parse: anyText },
    get: (r) => (isBook(r) ? storedText(r, card("addressbook-description")) : undefined),
  },
  {
    name: card("supported-address-data"),
    get: (r) =>
      isBook(r)
        ? ["3.0", "4.0"].map((version) => ({
            name: card("address-data-type"),
            attrs: { "content-type": "text/vcard", version },
          }))
        : undefined,
  },
  {
    name: card("supported-collation-set"),
    get: (r) =>
      isBook(r)
        ? Object.keys(COLLATIONS).map((c) => ({ name: card("supported-collation"), value: c }))
        : undefined,
  },
  {
    name: card("max-resource-size"),
    get: (r, env) => (isBook(r) ? String(env.config.maxResourceSize) : undefined),
  },
  { name: card("address-data"), get: () => undefined, member: addressData as MemberPropertyDef },
];
