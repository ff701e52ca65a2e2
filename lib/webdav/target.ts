/**
 * Resolving a request URL once: the server turns the address into a target (the root, the
 * principal, a home, a collection with its record, an object with its metadata, or an unmapped
 * name with its parent) before dispatch, reading the store as little as possible, and every
 * handler works on that. Listing a target's children for Depth: 1 lives here too.
 */
import {
  collectionEtag,
  createCollection,
  getCollection,
  listCollections,
  listFolders,
  type CollectionRecord,
} from "../store/collections.js";
import { AlreadyExists } from "../store/errors.js";
import type { Store } from "../store/client.js";
import type { CollectionKind } from "../store/keys.js";
import { getCollectionAndObject, getObject, listObjects, type ObjectRecord } from "../store/objects.js";
import type { UserRecord } from "../store/users.js";
import {
  addressHref,
  collectionHref,
  homeHref,
  homesHref,
  inFolder,
  nests,
  objectHref,
  parentFolder,
  principalHref,
  type Address,
} from "./paths.js";

export type HomeTarget = { type: "home"; href: string; kind: CollectionKind; user: string };
export type CollectionTarget = { type: "collection"; href: string; col: CollectionRecord };
export type ObjectTarget = { type: "object"; href: string; col: CollectionRecord; obj: ObjectRecord };

/** Something that exists. */
export type Resource =
  | { type: "root"; href: string }
  | { type: "principals"; href: string }
  | { type: "principal"; href: string; user: UserRecord }
  | { type: "homes"; href: string; kind: CollectionKind }
  | HomeTarget
  | CollectionTarget
  | ObjectTarget;

/**
 * Nothing is mapped here; `parent` is the collection or home that would hold it, if that exists.
 * `assumed`: not looked up, because the write's own condition demands absence (a create, or a PUT
 * with If-None-Match: *).
 */
export type Unmapped = {
  type: "unmapped";
  href: string;
  parent?: HomeTarget | CollectionTarget;
  assumed?: true;
};

export type Target = Resource | Unmapped;

/**
 * How much resolution reads of the resource the URL names: nothing ("skip": the write's own
 * condition decides whether it exists; its parent collection is still read), its metadata, or an
 * object's body too.
 */
export type MemberRead = "skip" | "meta" | "body";

/** The target of an address for `principal`, reading as much of a member as `member` says. */
export async function resolveTarget(
  store: Store,
  address: Address,
  principal: UserRecord,
  member: MemberRead = "meta",
): Promise<Target> {
  const href = addressHref(address);
  switch (address.type) {
    case "root":
      return { type: "root", href };
    case "principals":
      return { type: "principals", href };
    case "principal":
      // Access was checked before resolution: only the user's own principal gets here.
      return { type: "principal", href, user: principal };
    case "homes":
      return { type: "homes", href, kind: address.kind };
    case "home":
      return homeTarget(address.kind, address.user);
    case "collection": {
      if (nests(address.kind))
        return resolveFolder(store, address.kind, address.user, address.collection, member);
      if (member === "skip")
        return { type: "unmapped", href, parent: homeTarget(address.kind, address.user), assumed: true };
      const col = await getCollection(store, {
        kind: address.kind,
        owner: address.user,
        name: address.collection,
      });
      return col
        ? collectionTarget(col)
        : { type: "unmapped", href, parent: homeTarget(address.kind, address.user) };
    }
    case "object": {
      if (nests(address.kind)) return resolveInFolder(store, address, member);
      const ref = { kind: address.kind, owner: address.user, name: address.collection };
      if (member === "skip") {
        const col = await getCollection(store, ref);
        if (!col) return { type: "unmapped", href };
        return { type: "unmapped", href, parent: collectionTarget(col), assumed: true };
      }
      const cacheKey = `${ref.kind}\n${ref.owner}\n${ref.name}`;
      const { col, obj } = await getCollectionAndObject(
        store,
        ref,
        address.object,
        member === "body",
        collectionIds.get(cacheKey),
      );
      remember(cacheKey, col?.id);
      if (!col) return { type: "unmapped", href };
      return obj ? objectTarget(col, obj) : { type: "unmapped", href, parent: collectionTarget(col) };
    }
    default:
      return { type: "unmapped", href };
  }
}

/**
 * The ids collections had when last seen by this warm function, so that a member's request reads
 * the collection and the member in one round trip. Only a guess: the collection is read in the
 * same batch and wins when they differ. Bounded, oldest first out.
 */
const collectionIds = new Map<string, string>();
const MAX_REMEMBERED = 1000;
function remember(key: string, id: string | undefined): void {
  collectionIds.delete(key);
  if (id === undefined) return;
  collectionIds.set(key, id);
  if (collectionIds.size > MAX_REMEMBERED) collectionIds.delete(collectionIds.keys().next().value!);
}

/**
 * The root folder of a files home. A user provisioned before files homes existed gets it on first
 * use: creating it is idempotent (the create's condition is that it does not exist).
 */
async function rootFolder(store: Store, kind: CollectionKind, owner: string): Promise<CollectionRecord> {
  const ref = { kind, owner, name: "" };
  const found = await getCollection(store, ref);
  if (found) return found;
  try {
    return await createCollection(store, ref);
  } catch (err) {
    if (!(err instanceof AlreadyExists)) throw err;
    return (await getCollection(store, ref))!;
  }
}

const folderOf = (store: Store, kind: CollectionKind, owner: string, name: string) =>
  name === "" ? rootFolder(store, kind, owner) : getCollection(store, { kind, owner, name });

/** A folder of a files home (its parent is read too, for a create there). */
async function resolveFolder(
  store: Store,
  kind: CollectionKind,
  owner: string,
  name: string,
  member: MemberRead,
): Promise<Target> {
  const href = collectionHref(kind, owner, name);
  const parentName = parentFolder(name);
  const [col, parent] = await Promise.all([
    member === "skip" ? undefined : folderOf(store, kind, owner, name),
    parentName === undefined ? undefined : folderOf(store, kind, owner, parentName),
  ]);
  if (col) return collectionTarget(col);
  return {
    type: "unmapped",
    href,
    parent: parent ? collectionTarget(parent) : undefined,
    ...(member === "skip" ? { assumed: true as const } : {}),
  };
}

/**
 * `/files/u/a/b` without a trailing slash: file `b` in folder `a`, or folder `a/b`. Both are
 * looked up at once; even a PUT that skips reading the member learns whether a folder is there.
 */
async function resolveInFolder(
  store: Store,
  a: Extract<Address, { type: "object" }>,
  member: MemberRead,
): Promise<Target> {
  const parent = await folderOf(store, a.kind, a.user, a.collection);
  const href = objectHref(a.kind, a.user, a.collection, a.object);
  if (!parent) return { type: "unmapped", href };
  const [obj, folder] = await Promise.all([
    member === "skip" ? undefined : getObject(store, parent.id, a.object, member === "body"),
    getCollection(store, { kind: a.kind, owner: a.user, name: inFolder(a.collection, a.object) }),
  ]);
  if (folder) return collectionTarget(folder);
  if (obj) return objectTarget(parent, obj);
  return {
    type: "unmapped",
    href,
    parent: collectionTarget(parent),
    ...(member === "skip" ? { assumed: true as const } : {}),
  };
}

export function homeTarget(kind: CollectionKind, user: string): HomeTarget {
  return { type: "home", href: homeHref(kind, user), kind, user };
}

/** Where the requester sees a collection: in its owner's home, or (shared with them) in their own. */
export function colHref(col: CollectionRecord): string {
  return col.view
    ? collectionHref(col.kind, col.view.user, col.view.name)
    : collectionHref(col.kind, col.owner, col.name);
}

/** Where the requester sees a member of a collection (through their view, when it is shared with them). */
export function memberHref(col: CollectionRecord, name: string): string {
  return col.view
    ? objectHref(col.kind, col.view.user, col.view.name, name)
    : objectHref(col.kind, col.owner, col.name, name);
}

export function collectionTarget(col: CollectionRecord): CollectionTarget {
  return { type: "collection", href: colHref(col), col };
}

export function objectTarget(col: CollectionRecord, obj: ObjectRecord): ObjectTarget {
  return { type: "object", href: memberHref(col, obj.name), col, obj };
}

/** The ETag a target answers conditions with: an object's, a collection's version, none elsewhere. */
export function etagOf(t: Target): string | undefined {
  if (t.type === "object") return t.obj.etag;
  if (t.type === "collection") return collectionEtag(t.col);
  return undefined;
}

/** The user a resource belongs to, if any. */
export function ownerOfResource(r: Resource): string | undefined {
  switch (r.type) {
    case "principal":
      return r.user.name;
    case "home":
      return r.user;
    case "collection":
    case "object":
      return r.col.owner;
    default:
      return undefined;
  }
}

/** A calendar or address book of this kind, or a member of one. */
export const inKind = (kind: CollectionKind) => (r: Resource) =>
  (r.type === "collection" || r.type === "object") && r.col.kind === kind;

/** A calendar or address book of this kind. */
export const isCollectionOf = (kind: CollectionKind) => (r: Resource) =>
  r.type === "collection" && r.col.kind === kind;

/** Members for Depth: 1, limited to what the principal may see; `kinds`: the homes this server serves. */
export async function childrenOf(
  store: Store,
  r: Resource,
  principal: UserRecord,
  kinds: readonly CollectionKind[],
): Promise<Resource[]> {
  switch (r.type) {
    case "root":
      return [
        { type: "principals", href: "/principals/" },
        ...kinds.map((kind) => ({ type: "homes" as const, href: homesHref(kind), kind })),
      ];
    case "principals":
      return [{ type: "principal", href: principalHref(principal.name), user: principal }];
    case "homes":
      // A files home is its root folder.
      if (nests(r.kind)) return [collectionTarget(await rootFolder(store, r.kind, principal.name))];
      return [homeTarget(r.kind, principal.name)];
    case "home":
      return (await listCollections(store, r.kind, r.user, { views: true })).map(collectionTarget);
    case "collection": {
      const [folders, objects] = await Promise.all([
        nests(r.col.kind) ? listFolders(store, r.col, "children") : [],
        listObjects(store, r.col.id),
      ]);
      return [...folders.map(collectionTarget), ...objects.map((o) => objectTarget(r.col, o))];
    }
    default:
      return [];
  }
}
