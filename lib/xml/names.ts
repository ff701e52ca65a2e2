/** Namespaces and Clark-notation names (`{DAV:}getetag`) used throughout the core. */
export const NS = {
  DAV: "DAV:",
  CALDAV: "urn:ietf:params:xml:ns:caldav",
  CARDDAV: "urn:ietf:params:xml:ns:carddav",
  CS: "http://calendarserver.org/ns/",
  APPLE: "http://apple.com/ns/ical/",
  /** The xml: prefix's namespace (xml:lang), bound without a declaration. */
  XML: "http://www.w3.org/XML/1998/namespace",
  /** WebDAV-Push (draft-bitfire-webdav-push). */
  PUSH: "https://bitfire.at/webdav-push",
  /** This server's own elements (the human-readable message of an error body). */
  SERVER: "http://lambda-dav.invalid/ns/",
} as const;

/** Preferred prefixes for responses; any other namespace gets a generated one. */
export const PREFIXES: Record<string, string> = {
  [NS.DAV]: "D",
  [NS.CALDAV]: "C",
  [NS.CARDDAV]: "CR",
  [NS.CS]: "CS",
  [NS.APPLE]: "A",
  [NS.PUSH]: "P",
  [NS.SERVER]: "ld",
};

export type ClarkName = string;

export function clark(ns: string, local: string): ClarkName {
  return `{${ns}}${local}`;
}

export function parseClark(name: ClarkName): { ns: string; local: string } {
  const m = /^\{([^}]*)\}(.+)$/.exec(name);
  return m ? { ns: m[1], local: m[2] } : { ns: "", local: name };
}

export const dav = (local: string) => clark(NS.DAV, local);
export const cal = (local: string) => clark(NS.CALDAV, local);
export const card = (local: string) => clark(NS.CARDDAV, local);
export const cs = (local: string) => clark(NS.CS, local);
export const apple = (local: string) => clark(NS.APPLE, local);
