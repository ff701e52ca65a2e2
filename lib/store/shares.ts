/**
 * Sharing a calendar or address book with another user (the layout is in views.ts). Each change
 * is one transaction: the owner's grant (conditioned on the collection's id and on `shareSeq` as
 * read, so two changes of one collection's grants serialise) together with the sharee's view or
 * invitation, and the sharee's home log where a view comes or goes (a sync of their home sees it).
 */
import { GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import {
  getOwnCollection,
  listCollections,
  namesInHome,
  sharesAsRead,
  strMap,
  throughView,
  viewParts,
  type CollectionRecord,
} from "./collections.js";
import { NotFound, StoreError } from "./errors.js";
import { collectionKey, inviteKey, type CollectionKind } from "./keys.js";
import { queryAll, type Item } from "./query.js";
import { RETRY, withRetries } from "./transact.js";
import { allOf, equals, pathEquals, WriteTx } from "./tx.js";
import { grantAttr, viewOfAttr, type Access, type ShareGrant } from "./views.js";

/** A share the store refuses (with itself, of a view, of a kind that is not shared, past the limit). */
export class ShareRefused extends StoreError {}

/** Sharees one collection may have: each view's removal takes three parts of the owner's delete. */
export const MAX_SHAREES = 25;

/** A pending invitation, as the invited user's notification collection lists it. */
export interface Invitation {
  kind: CollectionKind;
  owner: string;
  name: string;
  id: string;
  access: Access;
  since: string;
  /** The owner's display name of the collection when invited. */
  title: string;
}

const shareable = (kind: CollectionKind) => kind === "calendar" || kind === "addressbook";

/** The owner's item as it must still be: the same collection, its grants unchanged since read. */
const grantsAsRead = (col: CollectionRecord) => allOf(equals("id", { S: col.id }), sharesAsRead(col));

/** Part `grant`: set (or, with `grant` undefined, remove) one sharee's grant on the owner's item. */
function setGrant(tx: WriteTx, col: CollectionRecord, user: string, grant: ShareGrant | undefined): void {
  tx.update(
    "grant",
    collectionKey(col.kind, col.owner, col.name),
    (e) => {
      const shares = col.shares ?? {};
      const next = { ...shares };
      if (grant) next[user] = grant;
      else delete next[user];
      const map: AttributeValue = {
        M: Object.fromEntries(Object.entries(next).map(([u, g]) => [u, grantAttr(g)])),
      };
      return `SET ${e.name("shares")} = ${e.value(map)} ADD ${e.name("shareSeq")} ${e.value({ N: "1" })}`;
    },
    grantsAsRead(col),
  );
}

/** A name for a new view in the sharee's home that nothing there holds. */
async function freeViewName(store: Store, col: CollectionRecord, user: string): Promise<string> {
  const taken = await namesInHome(store, col.kind, user);
  const base = `${col.owner}-${col.name}`;
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!taken.has(name)) return name;
  }
}

/** The owner's collection as it is now, or NotFound. */
async function current(store: Store, col: CollectionRecord): Promise<CollectionRecord> {
  const now = await getOwnCollection(store, col);
  if (!now || now.id !== col.id) throw new NotFound("the collection no longer exists");
  return now;
}

/**
 * Share the owner's collection with `user`, or change the access of a share. A new share is an
 * invitation the sharee accepts or declines, unless `autoAccept`: then their view is made at once.
 * A share already accepted keeps its view and changes only its access. Returns the grant.
 */
export async function grantShare(
  store: Store,
  first: CollectionRecord,
  user: string,
  access: Access,
  options: { autoAccept?: boolean } = {},
): Promise<ShareGrant> {
  if (first.view) throw new ShareRefused("only the owner shares a collection");
  if (!shareable(first.kind)) throw new ShareRefused(`collections of kind ${first.kind} are not shared`);
  if (user === first.owner) throw new ShareRefused("a collection is not shared with its owner");
  let col = first;
  return withRetries(async () => {
    const held = col.shares?.[user];
    if (!held && Object.keys(col.shares ?? {}).length >= MAX_SHAREES)
      throw new ShareRefused(`a collection may be shared with at most ${MAX_SHAREES} users`);
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    let grant: ShareGrant;
    if (held?.status === "accepted") {
      grant = { ...held, access };
    } else if (options.autoAccept) {
      const view = await freeViewName(store, col, user);
      grant = { access, status: "accepted", view, since: now };
      await viewParts(store, tx, "put", col, user, view, now);
    } else {
      grant = { access, status: "pending", since: now };
      tx.put("invite", {
        ...inviteKey(col.kind, user, col.id),
        kind: { S: col.kind },
        owner: { S: col.owner },
        name: { S: col.name },
        id: { S: col.id },
        access: { S: access },
        since: { S: now },
        title: { S: col.props["{DAV:}displayname"] ?? col.name },
      });
    }
    setGrant(tx, col, user, grant);
    const failed = await tx.commit();
    if (!failed) return grant;
    // Another change of the grants came first, or the view's name was taken meanwhile: again, as it is now.
    col = await current(store, col);
    return RETRY;
  });
}

/**
 * End a share: the grant goes from the owner's item and the sharee's view (or invitation) from
 * their home, in one transaction, so the sharee's next request finds nothing there.
 */
export async function revokeShare(store: Store, first: CollectionRecord, user: string): Promise<boolean> {
  let col = first;
  return withRetries(async () => {
    const held = col.shares?.[user];
    if (!held) return false;
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    setGrant(tx, col, user, undefined);
    if (held.view) await viewParts(store, tx, "delete", col, user, held.view, now);
    else tx.delete("invite", inviteKey(col.kind, user, col.id));
    const failed = await tx.commit();
    if (!failed) return true;
    col = await current(store, col);
    return RETRY;
  });
}

/**
 * The sharee's answer to an invitation to the collection `ref` (owner and name, with its id):
 * accepting makes their view (returned), declining keeps the owner's grant as declined.
 */
export async function answerInvitation(
  store: Store,
  user: string,
  ref: { kind: CollectionKind; owner: string; name: string; id?: string },
  accept: boolean,
): Promise<CollectionRecord | undefined> {
  let col = await getOwnCollection(store, ref);
  return withRetries(async () => {
    if (!col || (ref.id !== undefined && col.id !== ref.id)) throw new NotFound("no such shared collection");
    const held = col.shares?.[user];
    if (!held) throw new NotFound("the collection is not shared with you");
    if (accept && held.status === "accepted") return viewRecord(col, user);
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    let view: string | undefined;
    if (accept) {
      view = await freeViewName(store, col, user);
      await viewParts(store, tx, "put", col, user, view, now);
      setGrant(tx, col, user, { ...held, status: "accepted", view });
    } else {
      if (held.view) await viewParts(store, tx, "delete", col, user, held.view, now);
      tx.delete("invite", inviteKey(col.kind, user, col.id));
      setGrant(tx, col, user, { access: held.access, status: "declined", since: held.since });
    }
    const failed = await tx.commit();
    if (!failed) {
      if (!view) return undefined;
      return viewRecord(
        { ...col, shares: { ...col.shares, [user]: { ...held, status: "accepted", view } } },
        user,
      );
    }
    col = await getOwnCollection(store, ref);
    return RETRY;
  });
}

/** The collection as `user`'s view shows it (its per-user properties not read: a new view has none). */
function viewRecord(col: CollectionRecord, user: string): CollectionRecord | undefined {
  const view = col.shares?.[user]?.view;
  if (!view) return undefined;
  return throughView(col, {
    owner: { S: user },
    name: { S: view },
    viewOf: viewOfAttr(col),
    props: { M: {} },
    created: { S: col.shares![user].since },
  });
}

/** The sharee leaves a share by deleting their view: the owner's grant stays, as declined. */
export function leaveShare(store: Store, viewed: CollectionRecord): Promise<unknown> {
  if (!viewed.view) throw new ShareRefused("not a view of a shared collection");
  return answerInvitation(store, viewed.view.user, viewed, false);
}

/** Set or remove the sharee's own properties on their view (display name, colour), leaving the owner's. */
export async function updateViewProps(
  store: Store,
  viewed: CollectionRecord,
  set: Record<string, string>,
  remove: string[],
): Promise<CollectionRecord> {
  const view = viewed.view;
  if (!view) throw new ShareRefused("not a view of a shared collection");
  const props = { ...view.props, ...set };
  for (const p of remove) delete props[p];
  const tx = new WriteTx(store).update(
    "view",
    collectionKey(viewed.kind, view.user, view.name),
    (e) => `SET ${e.name("props")} = ${e.value(strMap(props))}`,
    pathEquals(["viewOf", "id"], { S: viewed.id }),
  );
  if (await tx.commit()) throw new NotFound("the view no longer exists");
  return { ...viewed, view: { ...view, props } };
}

/** The invitations waiting for `user`'s answer, of every kind that is shared. */
export async function listInvitations(store: Store, user: string): Promise<Invitation[]> {
  const lists = await Promise.all(
    (["calendar", "addressbook"] as const).map((kind) =>
      queryAll(
        store,
        {
          KeyConditionExpression: "pk = :p AND begins_with(sk, :i)",
          ExpressionAttributeValues: {
            ":p": inviteKey(kind, user, "").pk,
            ":i": { S: "INVITE#" },
          },
          ConsistentRead: true,
        },
        invitationOf,
      ),
    ),
  );
  return lists.flat();
}

/** One invitation of `user`'s, by the shared collection's id. */
export async function getInvitation(
  store: Store,
  kind: CollectionKind,
  user: string,
  id: string,
): Promise<Invitation | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: inviteKey(kind, user, id), ConsistentRead: true }),
  );
  return Item ? invitationOf(Item) : undefined;
}

function invitationOf(i: Item): Invitation {
  return {
    kind: i.kind.S as CollectionKind,
    owner: i.owner.S!,
    name: i.name.S!,
    id: i.id.S!,
    access: i.access.S as Access,
    since: i.since.S!,
    title: i.title?.S ?? i.name.S!,
  };
}

/** The collections `user` shares with others, of one kind (for the account page and the CLI). */
export async function sharedBy(
  store: Store,
  kind: CollectionKind,
  user: string,
): Promise<CollectionRecord[]> {
  return (await listCollections(store, kind, user)).filter((c) => Object.keys(c.shares ?? {}).length > 0);
}
