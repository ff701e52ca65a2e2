/**
 * Resolving an address to a resource (reading the store as little as possible), listing a
 * resource's children for Depth: 1, and the access rule: a user reaches only their own principal,
 * homes, collections and objects.
 */
import { Forbidden, NotFound } from "../errors.js";
import { getCollection, listCollections, type CollectionRecord } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import { getObject, listObjects, type ObjectRecord } from "../store/objects.js";
import type { Store, UserRecord } from "../store/users.js";
import { dav } from "../xml/names.js";
import {
  addressHref,
  collectionHref,
  homeHref,
  objectHref,
  ownerOf,
  principalHref,
  type Address,
} from "./paths.js";

export type Resource =
  | { type: "root"; href: string }
  | { type: "principals"; href: string }
  | { type: "principal"; href: string; user: UserRecord }
  | { type: "homes"; href: string; kind: CollectionKind }
  | { type: "home"; href: string; kind: CollectionKind; user: string }
  | { type: "collection"; href: string; col: CollectionRecord }
  | { type: "object"; href: string; col: CollectionRecord; obj: ObjectRecord };

export const isCollection = (r: Resource) => r.type !== "object";

/** Refuse access to anything that belongs to another user. */
export function checkAccess(address: Address, principal: string): void {
  const owner = ownerOf(address);
  if (owner !== undefined && owner !== principal) {
    throw new Forbidden("You may only access your own principal, calendars and address books.", {
      name: dav("need-privileges"),
    });
  }
}

/** The resource at an address, or undefined where nothing is mapped there. */
export async function resolve(
  store: Store,
  address: Address,
  principal: UserRecord,
  withBody = false,
): Promise<Resource | undefined> {
  const href = addressHref(address);
  switch (address.type) {
    case "root":
      return { type: "root", href };
    case "principals":
      return { type: "principals", href };
    case "principal":
      return { type: "principal", href, user: principal };
    case "homes":
      return { type: "homes", href, kind: address.kind };
    case "home":
      return { type: "home", href, kind: address.kind, user: address.user };
    case "collection": {
      const col = await getCollection(store, {
        kind: address.kind,
        owner: address.user,
        name: address.collection,
      });
      return col ? { type: "collection", href, col } : undefined;
    }
    case "object": {
      const col = await getCollection(store, {
        kind: address.kind,
        owner: address.user,
        name: address.collection,
      });
      if (!col) return undefined;
      const obj = await getObject(store, col.id, address.object, withBody);
      return obj ? { type: "object", href, col, obj } : undefined;
    }
    default:
      return undefined;
  }
}

export async function resolveOrThrow(
  store: Store,
  address: Address,
  principal: UserRecord,
  withBody = false,
): Promise<Resource> {
  const r = await resolve(store, address, principal, withBody);
  if (!r) throw new NotFound("Nothing exists at this URL.");
  return r;
}

export function collectionResource(col: CollectionRecord): Resource {
  return { type: "collection", href: collectionHref(col.kind, col.owner, col.name), col };
}

export function objectResource(col: CollectionRecord, obj: ObjectRecord): Resource {
  return { type: "object", href: objectHref(col.kind, col.owner, col.name, obj.name), col, obj };
}

/** Members for Depth: 1, limited to what the principal may see. */
export async function childrenOf(store: Store, r: Resource, principal: UserRecord): Promise<Resource[]> {
  switch (r.type) {
    case "root":
      return [
        { type: "principals", href: "/principals/" },
        { type: "homes", href: "/calendars/", kind: "calendar" },
        { type: "homes", href: "/addressbooks/", kind: "addressbook" },
      ];
    case "principals":
      return [{ type: "principal", href: principalHref(principal.name), user: principal }];
    case "homes":
      return [{ type: "home", href: homeHref(r.kind, principal.name), kind: r.kind, user: principal.name }];
    case "home":
      return (await listCollections(store, r.kind, r.user)).map(collectionResource);
    case "collection":
      return (await listObjects(store, r.col.id)).map((o) => objectResource(r.col, o));
    default:
      return [];
  }
}
