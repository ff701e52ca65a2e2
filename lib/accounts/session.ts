/**
 * The account page's session: a signed cookie (`lda_session=<user>.<expires>.<signature>`,
 * HMAC-SHA256 under a server secret kept in the table), `HttpOnly`, `SameSite=Strict`, `Secure`
 * over HTTPS, expiring after eight hours. The signature also covers the user's password hash, so
 * changing the password ends every session. CSRF tokens are the HMAC of the session cookie:
 * every form carries one, and a POST without the right one is refused.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { DavRequest } from "../http/message.js";
import { serverSecret } from "../store/secrets.js";
import { getUser, type Store, type UserRecord } from "../store/users.js";

export const COOKIE = "lda_session";
const LIFETIME_MS = 8 * 3600_000;

const keys = new WeakMap<Store, Promise<Buffer>>();
function key(store: Store): Promise<Buffer> {
  let k = keys.get(store);
  if (!k) {
    k = serverSecret(store, "account-session");
    // A failed read is tried again on the next request rather than kept.
    k.catch(() => keys.delete(store));
    keys.set(store, k);
  }
  return k;
}

const mac = (k: Buffer, ...parts: string[]) =>
  createHmac("sha256", k).update(parts.join("\0")).digest("base64url");

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export async function newSession(store: Store, user: UserRecord, now = Date.now()): Promise<string> {
  const expires = String(now + LIFETIME_MS);
  return `${user.name}.${expires}.${mac(await key(store), "session", user.name, expires, user.passwordHash)}`;
}

export function cookieOf(req: DavRequest): string | undefined {
  for (const part of (req.headers["cookie"] ?? "").split(/;\s*/)) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq) === COOKIE) return part.slice(eq + 1);
  }
  return undefined;
}

/** The user a request's session cookie stands for, if it is valid and current. */
export async function sessionUser(
  store: Store,
  req: DavRequest,
): Promise<{ user: UserRecord; cookie: string } | undefined> {
  const cookie = cookieOf(req);
  const m = cookie && /^(.{1,64})\.(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!m) return undefined;
  const [, name, expires, sig] = m;
  if (Number(expires) < Date.now()) return undefined;
  const user = await getUser(store, name);
  if (!user || !same(sig, mac(await key(store), "session", name, expires, user.passwordHash)))
    return undefined;
  return { user, cookie: cookie! };
}

export async function csrfToken(store: Store, cookie: string): Promise<string> {
  return mac(await key(store), "csrf", cookie);
}

export async function csrfValid(store: Store, cookie: string, token: string | undefined): Promise<boolean> {
  return token !== undefined && same(token, await csrfToken(store, cookie));
}

export function setCookie(value: string, secure: boolean, maxAge = LIFETIME_MS / 1000): string {
  return `${COOKIE}=${value}; Path=/account/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}
