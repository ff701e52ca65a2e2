/**
 * The URL space (like sabre/dav and Baïkal):
 *   /principals/<user>/                 principal
 *   /calendars/<user>/<cal>/<object>    calendar home, calendars, calendar objects
 *   /addressbooks/<user>/<book>/<card>  address-book home, address books, vCards
 *   /files/<user>/<folder>/…/<file>     files home: folders nest, any file (plain WebDAV)
 * In a files home the home itself is the root folder (named ""), and a folder's name is its path
 * below the home ("a/b"). Whether `/files/u/a/b` is a folder or a file only the store can tell: it
 * parses as file `b` in folder `a` (as folder `a/b` with a trailing slash), and resolution decides.
 * Paths are normalised before any access check: dot segments and empty segments are refused or
 * collapsed, so `..`, `%2e%2e` and `//` cannot reach another user's data.
 */
import { BadRequest } from "../errors.js";
import { inFolder, nests, parentFolder } from "../store/folders.js";
import type { CollectionKind } from "../store/keys.js";

export { inFolder, nests, parentFolder };

export type Address =
  | { type: "root" }
  | { type: "principals" }
  | { type: "principal"; user: string }
  | { type: "homes"; kind: CollectionKind }
  | { type: "home"; kind: CollectionKind; user: string }
  | { type: "collection"; kind: CollectionKind; user: string; collection: string }
  | { type: "object"; kind: CollectionKind; user: string; collection: string; object: string }
  | { type: "well-known"; service: string }
  | { type: "unknown"; segments: string[] };

const HOMES: Record<string, CollectionKind> = {
  calendars: "calendar",
  addressbooks: "addressbook",
  files: "files",
};
export const HOME_SEGMENT: Record<CollectionKind, string> = {
  calendar: "calendars",
  addressbook: "addressbooks",
  files: "files",
};

/** A files address as a folder (MKCOL on `/files/u/a/b` makes folder `a/b`). */
export function asFolder(a: Address): Address {
  if (a.type === "object" && nests(a.kind)) {
    return { type: "collection", kind: a.kind, user: a.user, collection: inFolder(a.collection, a.object) };
  }
  return a;
}

/** A files address as a file (a file copied to `/files/u/a/b/` becomes file `b` in folder `a`). */
export function asFile(a: Address): Address {
  if (a.type === "collection" && nests(a.kind) && a.collection !== "") {
    const parent = parentFolder(a.collection)!;
    return {
      type: "object",
      kind: a.kind,
      user: a.user,
      collection: parent,
      object: a.collection.slice(parent === "" ? 0 : parent.length + 1),
    };
  }
  return a;
}

/** Split a decoded path into clean segments; refuses dot segments and control characters. */
export function segmentsOf(path: string): string[] {
  if (!path.startsWith("/")) throw new BadRequest("The request path must start with '/'.");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path))
    throw new BadRequest("The request path contains control characters.");
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === ".."))
    throw new BadRequest("The request path must not contain '..' segments.");
  return segments;
}

export function parseAddress(path: string): Address {
  const s = segmentsOf(path);
  if (s.length === 0) return { type: "root" };
  if (s[0] === ".well-known" && s.length === 2) return { type: "well-known", service: s[1] };
  if (s[0] === "principals") {
    if (s.length === 1) return { type: "principals" };
    if (s.length === 2) return { type: "principal", user: s[1] };
  }
  const kind = HOMES[s[0]];
  if (kind && nests(kind) && s.length >= 2) {
    const user = s[1];
    const below = s.slice(2);
    if (below.length === 0 || path.endsWith("/"))
      return { type: "collection", kind, user, collection: below.join("/") };
    return { type: "object", kind, user, collection: below.slice(0, -1).join("/"), object: below.at(-1)! };
  }
  if (kind) {
    if (s.length === 1) return { type: "homes", kind };
    if (s.length === 2) return { type: "home", kind, user: s[1] };
    if (s.length === 3) return { type: "collection", kind, user: s[1], collection: s[2] };
    if (s.length === 4) return { type: "object", kind, user: s[1], collection: s[2], object: s[3] };
  }
  return { type: "unknown", segments: s };
}

/** Percent-encode one path segment, leaving RFC 3986 sub-delims and '@' ':' readable. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(40|3A|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (m) =>
    decodeURIComponent(m),
  );
}

export function hrefOf(segments: string[], collection: boolean): string {
  if (segments.length === 0) return "/";
  return `/${segments.map(encodeSegment).join("/")}${collection ? "/" : ""}`;
}

export const principalHref = (user: string) => hrefOf(["principals", user], true);
export const homesHref = (kind: CollectionKind) => hrefOf([HOME_SEGMENT[kind]], true);
export const homeHref = (kind: CollectionKind, user: string) => hrefOf([HOME_SEGMENT[kind], user], true);
/** A collection's segments: a nested folder's name is a path ("" is the root folder, the home). */
const folderSegments = (name: string) => name.split("/").filter((s) => s !== "");
export const collectionHref = (kind: CollectionKind, user: string, name: string) =>
  hrefOf([HOME_SEGMENT[kind], user, ...folderSegments(name)], true);
export const objectHref = (kind: CollectionKind, user: string, collection: string, name: string) =>
  hrefOf([HOME_SEGMENT[kind], user, ...folderSegments(collection), name], false);

export function addressHref(a: Address): string {
  switch (a.type) {
    case "root":
      return "/";
    case "principals":
      return "/principals/";
    case "principal":
      return principalHref(a.user);
    case "homes":
      return homesHref(a.kind);
    case "home":
      return homeHref(a.kind, a.user);
    case "collection":
      return collectionHref(a.kind, a.user, a.collection);
    case "object":
      return objectHref(a.kind, a.user, a.collection, a.object);
    case "well-known":
      return hrefOf([".well-known", a.service], false);
    case "unknown":
      return hrefOf(a.segments, false);
  }
}

/** The user an address belongs to, if any (for access checks). */
export function ownerOf(a: Address): string | undefined {
  return "user" in a ? a.user : undefined;
}

/** Resolve an href from a request body (absolute URL or path) to a decoded path, or undefined. */
export function pathFromHref(href: string): string | undefined {
  let path = href.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** The address an href of a request body names, or undefined when it names nothing this server serves. */
export function addressOfHref(href: string): Address | undefined {
  const path = pathFromHref(href);
  try {
    return path ? parseAddress(path) : undefined;
  } catch {
    return undefined;
  }
}
