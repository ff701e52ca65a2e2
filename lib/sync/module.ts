/**
 * The sync module (RFC 6578): the sync-collection REPORT on calendars, address books and their
 * homes, their DAV:sync-token, and CalendarServer's getctag, which names the same point of a
 * collection's change log.
 */
import { collectionEtag } from "../store/collections.js";
import { nests } from "../webdav/paths.js";
import type { DavModule } from "../webdav/registry.js";
import { cs, dav } from "../xml/names.js";
import { syncCollection } from "./sync-collection.js";
import { syncToken } from "./token.js";

export const sync: DavModule = {
  name: "sync",
  reports: [
    {
      name: dav("sync-collection"),
      // A folder of a files home logs its files but not its subfolders: no sync there.
      on: (r) => (r.type === "collection" && !nests(r.col.kind)) || r.type === "home",
      run: syncCollection,
    },
  ],
  properties: [
    { name: cs("getctag"), get: (r) => (r.type === "collection" ? collectionEtag(r.col) : undefined) },
    // A home's tokens come from its sync-collection REPORT: reading the home's sequence costs a read.
    { name: dav("sync-token"), get: (r) => (r.type === "collection" ? syncToken(r.col) : undefined) },
  ],
};
