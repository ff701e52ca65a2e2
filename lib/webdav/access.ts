/** The access rule, checked on the address before resolution: a user reaches only their own data. */
import { Forbidden } from "../errors.js";
import { dav } from "../xml/names.js";
import { ownerOf, type Address } from "./paths.js";

/** Refuse access to anything that belongs to another user (RFC 3744 §7.1.1 need-privileges). */
export function checkAccess(address: Address, principal: string): void {
  const owner = ownerOf(address);
  if (owner !== undefined && owner !== principal) {
    throw new Forbidden("You may only access your own principal, calendars and address books.", {
      name: dav("need-privileges"),
    });
  }
}
