/**
 * HTTP Basic authentication (RFC 7617) against the users in DynamoDB. Successful checks are cached
 * for a minute in the warm Lambda (keyed by an HMAC of the credentials under a per-process key, so
 * no password is kept), so scrypt does not run on every request. Failures are counted per user in
 * DynamoDB and answered ever more slowly; a correct password is never slowed or refused, so an
 * attacker cannot lock a user out.
 */
import { createHmac, randomBytes } from "node:crypto";
import { Unauthorized } from "../errors.js";
import type { DavRequest } from "../http/message.js";
import {
  clearAuthFailures,
  getUser,
  recordAuthFailure,
  USER_NAME,
  type Store,
  type UserRecord,
} from "../store/users.js";
import { appPasswordStands, checkAppPassword } from "./app-passwords.js";
import { hashPassword, verifyPassword } from "./password.js";
import { sleep } from "../store/transact.js";

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 1000;
const processKey = randomBytes(32);
/** A success: the user, until when, and the app password it was (re-checked on every hit). */
const cache = new Map<string, { user: UserRecord; expires: number; app?: string }>();
let dummyHash: Promise<string> | undefined;

/** Per table too: one process may serve several (the tests do), and a user of one is not of another. */
function cacheKey(table: string, user: string, password: string): string {
  return createHmac("sha256", processKey)
    .update(table)
    .update("\0")
    .update(user)
    .update("\0")
    .update(password)
    .digest("base64");
}

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Delay before answering the n-th failure in a row: none for the first three, then doubling up to 3 s. */
export function failureDelayMs(failures: number): number {
  return failures <= 3 ? 0 : Math.min(3000, 100 * 2 ** (failures - 4));
}

export interface AuthOptions {
  realm: string;
  /** Only app passwords open the DAV endpoints (the main password is for the account page). */
  appPasswordsOnly?: boolean;
  /** Tests shorten the slow-down. */
  delay?: (ms: number) => Promise<void>;
}

export async function authenticate(store: Store, req: DavRequest, options: AuthOptions): Promise<UserRecord> {
  const creds = parseBasic(req.headers["authorization"]);
  if (!creds) throw new Unauthorized(options.realm);
  const key = cacheKey(store.tableName, creds.user, creds.password);
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) {
    // A revoked app password is refused on the next request, in every warm function.
    if (hit.app ? await appPasswordStands(store, hit.user.name, hit.app) : !options.appPasswordsOnly)
      return hit.user;
    if (hit.app) cache.delete(key);
  }

  const user = USER_NAME.test(creds.user) ? await getUser(store, creds.user) : undefined;
  // An app password names its own hash; otherwise the main one (unless only app passwords count).
  const app = user ? await checkAppPassword(store, user.name, creds.password) : undefined;
  let ok = app !== undefined;
  if (!ok && !options.appPasswordsOnly) {
    // Spend the same scrypt time for unknown users, so timing does not reveal which names exist.
    const hash = user?.passwordHash ?? (await (dummyHash ??= hashPassword(randomBytes(16).toString("hex"))));
    ok = (await verifyPassword(creds.password, hash)) && user !== undefined;
  }
  if (!ok || !user) {
    const failures = USER_NAME.test(creds.user) ? await recordAuthFailure(store, creds.user) : 1;
    await (options.delay ?? sleep)(failureDelayMs(failures));
    throw new Unauthorized(options.realm, "Wrong user name or password.");
  }
  // Only uncached successes reach here (about once a minute per user and warm function), so this stays cheap.
  await clearAuthFailures(store, user.name);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, { user, expires: Date.now() + CACHE_TTL_MS, ...(app ? { app } : {}) });
  return user;
}

/** Forget cached successes for a user (after provisioning changed the record). */
export function updateCachedUser(user: UserRecord): void {
  for (const entry of cache.values()) if (entry.user.name === user.name) entry.user = user;
}
