/**
 * Sync tokens (RFC 6578 §3.2) are URIs naming a collection's id and a point in its change log:
 * `http://lambda-dav.invalid/sync/<collection id>/<sequence>`.
 */
import type { CollectionRecord } from "../store/collections.js";

const PREFIX = "http://lambda-dav.invalid/sync/";

export function syncToken(col: Pick<CollectionRecord, "id" | "seq">): string {
  return `${PREFIX}${col.id}/${col.seq}`;
}

export function parseSyncToken(token: string): { id: string; seq: number } | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const m = /^([A-Za-z0-9_-]+)\/(\d{1,12})$/.exec(token.slice(PREFIX.length));
  return m ? { id: m[1], seq: Number(m[2]) } : undefined;
}
