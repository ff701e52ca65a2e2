/**
 * Calendar user addresses (RFC 6638 §2.4.1): a user here is `mailto:` their e-mail address (and
 * their name, when it is one) and the URL of their principal, absolute or as a path; an ORGANIZER
 * or ATTENDEE in any of these forms is that user. Every other `mailto:` is someone outside,
 * reached by e-mail; any other URL names no calendar user this server knows.
 */
import { getUser, userByEmail, type Store, type UserRecord } from "../store/users.js";
import { parseAddress, pathFromHref, principalHref } from "../webdav/paths.js";
import { normalAddress } from "./itip.js";

export type Recipient =
  | { type: "user"; name: string; address: string }
  | { type: "email"; email: string; address: string }
  | { type: "unknown"; address: string };

/** The user's own addresses, as `calendar-user-address-set` lists them (mailto first: clients use the first). */
export function ownAddresses(user: Pick<UserRecord, "name" | "email">, origin?: string): string[] {
  const out: string[] = [];
  const email = user.email ?? (user.name.includes("@") ? user.name : undefined);
  if (email) out.push(`mailto:${email}`);
  if (origin) out.push(origin + principalHref(user.name));
  out.push(principalHref(user.name));
  return out;
}

/** The user whose principal a URL (or path) names. */
function principalOf(address: string): string | undefined {
  if (!/^(https?:\/\/|\/)/i.test(address)) return undefined;
  const path = pathFromHref(address);
  if (!path) return undefined;
  try {
    const a = parseAddress(path);
    return a.type === "principal" ? a.user : undefined;
  } catch {
    return undefined;
  }
}

/** One e-mail address (RFC 5321 addr-spec, no list, no display name), at most 254 characters. */
const MAILBOX = /^[^\s@,;:<>()[\]"\\]+@[^\s@,;:<>()[\]"\\]+$/;
/** Longer addresses are no one's: they would not fit a key, and no mail system takes them. */
const MAX_ADDRESS = 320;

/** Who a calendar user address is: a user here, someone reached by e-mail, or unknown (RFC 6638 §3.2.9: 3.7). */
export async function resolveAddress(store: Store, address: string): Promise<Recipient> {
  const a = normalAddress(address);
  if (a.length > MAX_ADDRESS) return { type: "unknown", address: a };
  if (/^mailto:/i.test(a)) {
    const email = a.slice(7);
    if (email.length > 254 || !MAILBOX.test(email)) return { type: "unknown", address: a };
    // The e-mail index decides; a user named by an address nobody has as e-mail is that user.
    const name = (await userByEmail(store, email)) ?? ((await getUser(store, email)) ? email : undefined);
    return name ? { type: "user", name, address: a } : { type: "email", email, address: a };
  }
  const name = principalOf(a);
  if (name && (await getUser(store, name))) return { type: "user", name, address: a };
  return { type: "unknown", address: a };
}

/** Resolves addresses once per request: ownership and delivery ask about the same ones. */
export class Addresses {
  private readonly known = new Map<string, Promise<Recipient>>();

  constructor(private readonly store: Store) {}

  resolve(address: string): Promise<Recipient> {
    const a = normalAddress(address);
    let r = this.known.get(a);
    if (!r) {
      r = resolveAddress(this.store, a);
      this.known.set(a, r);
    }
    return r;
  }

  /** Whether `address` is the user's own (by the same resolution that delivers to it). */
  async isMine(user: string, address: string): Promise<boolean> {
    const r = await this.resolve(address);
    return r.type === "user" && r.name === user;
  }

  /** The first of `addresses` that is the user's own. */
  async mineOf(user: string, addresses: Iterable<string>): Promise<string | undefined> {
    for (const a of addresses) if (await this.isMine(user, a)) return a;
    return undefined;
  }
}
