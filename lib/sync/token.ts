/**
 * Sync tokens (RFC 6578 §3.2) are URIs naming a change log and a point in it:
 * `http://lambda-dav.invalid/sync/<log id>/<sequence>`, where the log is a collection's (its random
 * id) or a home's (`home-<kind>-<owner, base64url>`).
 */
import type { CollectionRecord } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";

const PREFIX = "http://lambda-dav.invalid/sync/";

export function syncToken(col: Pick<CollectionRecord, "id" | "seq">): string {
  return `${PREFIX}${col.id}/${col.seq}`;
}

/** The log id of a home's sync tokens. */
export function homeLogId(kind: CollectionKind, owner: string): string {
  return `home-${kind}-${Buffer.from(owner).toString("base64url")}`;
}

export function parseSyncToken(token: string): { id: string; seq: number } | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const m = /^([A-Za-z0-9_-]+)\/(\d{1,12})$/.exec(token.slice(PREFIX.length));
  return m ? { id: m[1], seq: Number(m[2]) } : undefined;
}
