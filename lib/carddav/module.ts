/**
 * The CardDAV module (RFC 6352 addressbook): address books as a kind of collection, the
 * addressbook-multiget and addressbook-query REPORTs, and the address-book and principal properties.
 */
import { multiget } from "../webdav/multiget.js";
import type { DavModule } from "../webdav/registry.js";
import { inKind } from "../webdav/target.js";
import { card } from "../xml/names.js";
import { addressBooks } from "./collection.js";
import { carddavProperties } from "./properties.js";
import { addressbookQuery } from "./reports.js";

/** Address-book reports run on an address book or one of its vCards (RFC 6352 §8.7). */
const onAddressBook = inKind("addressbook");

export const carddav: DavModule = {
  name: "carddav",
  compliance: ["addressbook"],
  reports: [
    { name: card("addressbook-multiget"), on: onAddressBook, run: multiget },
    { name: card("addressbook-query"), on: onAddressBook, run: addressbookQuery },
  ],
  properties: carddavProperties,
  collections: [addressBooks],
};
