/**
 * Where a lock sits and what it covers, in this server's URL space: a member, a calendar or
 * address book, or a home. A lock's path is the resource's href; the collections above it are
 * the paths whose depth-infinity locks cover it (RFC 4918 §7.4).
 */
import type { CollectionRecord } from "../store/collections.js";
import { collectionHref, homeHref, objectHref, type Address } from "../webdav/paths.js";

export interface LockScopeOf {
  owner: string;
  path: string;
  ancestors: string[];
  collection: boolean;
}

/** The lock scope of an address, or undefined where nothing can be locked (the root, principals). */
export function lockScopeOf(a: Address): LockScopeOf | undefined {
  switch (a.type) {
    case "home":
      return { owner: a.user, path: homeHref(a.kind, a.user), ancestors: [], collection: true };
    case "collection":
      return {
        owner: a.user,
        path: collectionHref(a.kind, a.user, a.collection),
        ancestors: [homeHref(a.kind, a.user)],
        collection: true,
      };
    case "object":
      return {
        owner: a.user,
        path: objectHref(a.kind, a.user, a.collection, a.object),
        ancestors: [collectionHref(a.kind, a.user, a.collection), homeHref(a.kind, a.user)],
        collection: false,
      };
    default:
      return undefined;
  }
}

/** The scope of a member of `col`. */
export const memberScope = (col: CollectionRecord, name: string) =>
  lockScopeOf({ type: "object", kind: col.kind, user: col.owner, collection: col.name, object: name })!;
