/**
 * App passwords: a password per device that works for Basic auth on the DAV endpoints and can be
 * revoked alone. Shown once when made (`<id>.<secret>`, 33 characters), stored as a salted scrypt
 * hash; the id in front names the one hash to check.
 */
import { randomBytes } from "node:crypto";
import { createAppPassword, getAppPassword, touchAppPassword } from "../store/app-passwords.js";
import type { Store } from "../store/users.js";
import { hashPassword, verifyPassword } from "./password.js";

const FORMAT = /^([A-Za-z0-9_-]{8})\.([A-Za-z0-9_-]{24})$/;

/** The id an app password names, when it has the form of one. */
export function appPasswordId(password: string): string | undefined {
  return FORMAT.exec(password)?.[1];
}

export async function newAppPassword(
  store: Store,
  user: string,
  name: string,
): Promise<{ id: string; password: string }> {
  const label = name.trim();
  if (!label || label.length > 64 || [...label].some((c) => c.charCodeAt(0) < 0x20))
    throw new RangeError("an app password's name is 1 to 64 printable characters");
  const id = randomBytes(6).toString("base64url");
  const password = `${id}.${randomBytes(18).toString("base64url")}`;
  await createAppPassword(store, {
    id,
    user,
    name: label,
    hash: await hashPassword(password),
    created: new Date().toISOString(),
  });
  return { id, password };
}

/** Whether `password` is one of the user's app passwords (its id, when it is). */
export async function checkAppPassword(
  store: Store,
  user: string,
  password: string,
): Promise<string | undefined> {
  const id = appPasswordId(password);
  if (!id) return undefined;
  const stored = await getAppPassword(store, user, id);
  if (!stored || !(await verifyPassword(password, stored.hash))) return undefined;
  await touchAppPassword(store, user, id);
  return id;
}

/** Whether an app password a warm function accepted before still exists (one small read, no scrypt). */
export async function appPasswordStands(store: Store, user: string, id: string): Promise<boolean> {
  return (await getAppPassword(store, user, id)) !== undefined;
}
