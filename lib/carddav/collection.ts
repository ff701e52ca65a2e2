/**
 * Address-book collections (RFC 6352 §5.2, §6.3.2): what a vCard resource must be to be stored,
 * the default address book of a new user, and GET on an address book (every vCard, one after
 * another, as one text/vcard).
 */
import { Forbidden } from "../errors.js";
import { mediaType } from "../http/message.js";
import { checkUid } from "../webdav/limits.js";
import type { CollectionType } from "../webdav/registry.js";
import { card } from "../xml/names.js";
import { validateVcard } from "./validate.js";
import { vcardVariants } from "./versions.js";
import { cardText, splitVcards } from "./vcard-text.js";

const VCARD_TYPES = [
  "text/vcard",
  "text/x-vcard",
  "text/directory",
  "application/octet-stream",
  "text/plain",
];

export const addressBooks: CollectionType = {
  kind: "addressbook",
  resourcetype: card("addressbook"),
  contentType: "text/vcard; charset=utf-8",
  homeDisplayName: "Address books",
  locationOk: card("addressbook-collection-location-ok"),
  uidConflict: card("no-uid-conflict"),
  defaultCollection: (owner) => ({
    kind: "addressbook",
    owner,
    name: "default",
    props: { "{DAV:}displayname": "Contacts" },
  }),
  validateMember(_col, body, contentType, config) {
    const type = mediaType(contentType);
    // Absent or generic types are tolerated (some clients omit it); another specific type fails the
    // precondition with 403 (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1), not 415.
    if (type && !VCARD_TYPES.includes(type)) {
      throw new Forbidden(`vCards must be text/vcard, not ${type}.`, {
        name: card("supported-address-data"),
      });
    }
    const info = validateVcard(body, config.maxResourceSize);
    checkUid(info.uid, card("valid-address-data"));
    return { body, contentType: "text/vcard; charset=utf-8", uid: info.uid, comp: "VCARD" };
  },
  variants: vcardVariants,
  imports: {
    mediaTypes: ["text/vcard", "text/x-vcard", "text/directory"],
    split: splitVcards,
    extension: ".vcf",
  },
  exporter: () => ({
    head: "",
    member: (body) => {
      const text = cardText(body);
      return text.endsWith("\n") ? text : `${text}\r\n`;
    },
    tail: "",
  }),
};
