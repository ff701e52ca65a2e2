/**
 * Sync tokens (RFC 6578 §3.2) are URIs naming a change log and a point in it:
 * `http://lambda-dav.invalid/sync/<log id>/<sequence>`, where the log is a collection's (its random
 * id) or a home's (`home-<kind>-<owner, base64url>`); a home's token also carries `.<mark>`, the
 * sequences of the collections it has seen (base64url), so a delta can name those whose members
 * changed.
 */
import type { CollectionRecord } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";

const PREFIX = "http://lambda-dav.invalid/sync/";

export function syncToken(log: Pick<CollectionRecord, "id" | "seq"> & { mark?: string }): string {
  return `${PREFIX}${log.id}/${log.seq}${log.mark !== undefined ? `.${log.mark}` : ""}`;
}

/** The log id of a home's sync tokens. */
export function homeLogId(kind: CollectionKind, owner: string): string {
  return `home-${kind}-${Buffer.from(owner).toString("base64url")}`;
}

export function parseSyncToken(token: string): { id: string; seq: number; mark?: string } | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const m = /^([A-Za-z0-9_-]+)\/(\d{1,12})(?:\.([A-Za-z0-9_-]*))?$/.exec(token.slice(PREFIX.length));
  if (!m) return undefined;
  return { id: m[1], seq: Number(m[2]), ...(m[3] !== undefined ? { mark: m[3] } : {}) };
}
