/**
 * Access, in two steps. Before resolution, on the address: a user reaches only URLs under their
 * own principal and homes, so another user's data stays out of reach whatever is shared. After
 * resolution, on the target: privileges (RFC 3744 §3). A user holds every privilege on what they
 * own; a collection shared with them appears in their own home as a view (store/views.ts), on
 * which they hold what the owner granted: read, or read and write. Each method names the
 * privilege it needs, which is checked once per request against the resolved target.
 */
import { Forbidden } from "../errors.js";
import type { CollectionRecord } from "../store/collections.js";
import { cal, dav } from "../xml/names.js";
import { ownerOf, type Address } from "./paths.js";
import type { Target } from "./target.js";

/** Refuse access to anything that belongs to another user (RFC 3744 §7.1.1 need-privileges). */
export function checkAccess(address: Address, principal: string): void {
  const owner = ownerOf(address);
  if (owner !== undefined && owner !== principal) {
    throw new Forbidden("You may only access your own principal, calendars and address books.", {
      name: dav("need-privileges"),
    });
  }
}

/** Sharing a collection with others (CalendarServer sharing): only its owner holds it. */
export const SHARE = dav("share");

/** What a read-only sharee holds (CalDAV's read-free-busy is aggregated in DAV:read, RFC 4791 §6.1.1). */
const READ = [dav("read"), cal("read-free-busy"), dav("read-current-user-privilege-set")];
/** DAV:write and what it aggregates (RFC 3744 §3.2). */
const WRITE = [dav("write"), dav("write-properties"), dav("write-content"), dav("bind"), dav("unbind")];
/** What an owner holds of RFC 3744's. */
const OWN = [...READ, ...WRITE, dav("read-acl"), SHARE];

/** The collection a target is in or is, when it was reached through a sharee's view. */
export function viewed(t: Target): CollectionRecord | undefined {
  if (t.type === "collection" || t.type === "object") return t.col.view ? t.col : undefined;
  if (t.type === "unmapped" && t.parent?.type === "collection") return viewed(t.parent);
  return undefined;
}

/**
 * The privileges the requester holds on a target (its current-user-privilege-set): all on their
 * own resources (with `extra`, the privileges modules define), the grant's on a view and its members.
 */
export function privilegesOn(t: Target, extra: readonly string[] = []): string[] {
  const col = viewed(t);
  if (!col) return [...new Set([...OWN, ...extra])];
  return col.view!.access === "read-write" ? [...READ, ...WRITE] : [...READ];
}

/** Refuse with 403 need-privileges (RFC 3744 §7.1.1) unless the requester holds `privilege` on the target. */
export function requirePrivilege(t: Target, privilege: string): void {
  const col = viewed(t);
  // What a user owns they hold every privilege on.
  if (!col || privilegesOn(t).includes(privilege)) return;
  const local = privilege.replace(/^\{[^}]*\}/, "");
  throw new Forbidden(
    `${col.owner} shares this ${col.kind === "addressbook" ? "address book" : "calendar"} with you read-only: you lack the ${local} privilege here.`,
    {
      name: dav("need-privileges"),
      children: [
        {
          name: dav("resource"),
          value: [
            { name: dav("href"), value: t.href },
            { name: dav("privilege"), value: [{ name: privilege }] },
          ],
        },
      ],
    },
  );
}
