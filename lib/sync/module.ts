/**
 * The sync module (RFC 6578): the sync-collection REPORT on calendars and address books, their
 * DAV:sync-token, and CalendarServer's getctag, which names the same point of the change log.
 */
import { collectionEtag } from "../store/collections.js";
import type { DavModule } from "../webdav/registry.js";
import { cs, dav } from "../xml/names.js";
import { syncCollection } from "./sync-collection.js";
import { syncToken } from "./token.js";

export const sync: DavModule = {
  name: "sync",
  reports: [{ name: dav("sync-collection"), on: (r) => r.type === "collection", run: syncCollection }],
  properties: [
    { name: cs("getctag"), get: (r) => (r.type === "collection" ? collectionEtag(r.col) : undefined) },
    { name: dav("sync-token"), get: (r) => (r.type === "collection" ? syncToken(r.col) : undefined) },
  ],
};
