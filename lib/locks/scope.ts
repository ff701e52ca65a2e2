/**
 * Where a lock sits and what it covers, in this server's URL space: a member, a calendar or
 * address book, or a home. A lock's path is the resource's href; the collections above it are
 * the paths whose depth-infinity locks cover it (RFC 4918 §7.4).
 */
import type { CollectionRecord } from "../store/collections.js";
import { addressHref, homeHref, type Address } from "../webdav/paths.js";

export interface LockScopeOf {
  owner: string;
  path: string;
  ancestors: string[];
  collection: boolean;
}

/**
 * The lock scope of an address, or undefined where nothing can be locked (the root, principals).
 * Its ancestors are the collections above it, nearest first, up to its home: a calendar's home,
 * or every folder above a file of a files home.
 */
export function lockScopeOf(a: Address): LockScopeOf | undefined {
  if (a.type !== "home" && a.type !== "collection" && a.type !== "object") return undefined;
  const path = addressHref(a);
  const home = homeHref(a.kind, a.user);
  const ancestors: string[] = [];
  // Segments are percent-encoded, so every '/' of an href separates two of them.
  for (let p = path; p !== home && p.length > home.length;) {
    p = p.slice(0, p.slice(0, -1).lastIndexOf("/") + 1);
    ancestors.push(p);
  }
  return { owner: a.user, path, ancestors, collection: a.type !== "object" };
}

/** The scope of a member of `col`. */
export const memberScope = (col: CollectionRecord, name: string) =>
  lockScopeOf({ type: "object", kind: col.kind, user: col.owner, collection: col.name, object: name })!;
