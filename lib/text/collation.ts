/**
 * The collations of CalDAV and CardDAV text matching (RFC 4790, RFC 4791 §7.5, RFC 6352 §8.3):
 * each folds a string so that equal strings under the collation fold to the same text.
 */
export const COLLATIONS = {
  /** Bytes as they are. */
  "i;octet": (s: string) => s,
  /** A–Z folded to a–z, nothing else. */
  "i;ascii-casemap": (s: string) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase()),
  /** Case folded across Unicode after compatibility decomposition (RFC 5051). */
  "i;unicode-casemap": (s: string) => s.normalize("NFKD").toUpperCase().toLowerCase().normalize("NFKD"),
} as const;

export type Collation = keyof typeof COLLATIONS;

export const isCollation = (name: string): name is Collation => Object.hasOwn(COLLATIONS, name);
