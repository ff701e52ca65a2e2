/**
 * Sharing as the store keeps it. The owner's collection item holds its grants (`shares`: sharee →
 * access and status) and a counter (`shareSeq`) every change of them advances, so a delete of the
 * collection that read the grants cannot miss one added meanwhile. An accepted share puts a view
 * item in the sharee's home under a name of its own (`C#<name>`, so it holds that name against the
 * sharee's own collections): it points at the owner's collection by owner, name and id, and keeps
 * the sharee's own display name and colour. A pending invitation is an `INVITE#<id>` item in the
 * sharee's home, which their notification collection lists. Reading a view follows it to the
 * owner's item (collections.ts): one collection, reached by two paths.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { Item } from "./query.js";

export type Access = "read" | "read-write";
export type ShareStatus = "pending" | "accepted" | "declined";

/** One sharee's grant on the owner's collection. */
export interface ShareGrant {
  access: Access;
  status: ShareStatus;
  /** The name of the sharee's view, once accepted. */
  view?: string;
  /** When it was granted (ISO time). */
  since: string;
}

/** How a sharee reaches a shared collection: the record read through their view carries it. */
export interface ViewInfo {
  /** The sharee, in whose home the view is. */
  user: string;
  /** The view's name in the sharee's home. */
  name: string;
  access: Access;
  /** The sharee's own properties (display name, colour, order), shown instead of the owner's. */
  props: Record<string, string>;
  created: string;
}

/** The properties a sharee keeps for themselves on a view; other properties are the owner's. */
export const PER_USER_PROPERTIES = [
  "{DAV:}displayname",
  "{http://apple.com/ns/ical/}calendar-color",
  "{http://apple.com/ns/ical/}calendar-order",
];

/** What a view item points at. */
export interface ViewOf {
  owner: string;
  name: string;
  id: string;
}

export const isViewItem = (item: Item) => item.viewOf?.M !== undefined;

export function viewOfItem(item: Item): ViewOf {
  const m = item.viewOf.M!;
  return { owner: m.owner.S!, name: m.name.S!, id: m.id.S! };
}

export const viewOfAttr = (v: ViewOf): AttributeValue => ({
  M: { owner: { S: v.owner }, name: { S: v.name }, id: { S: v.id } },
});

export function grantsFromAttr(a: AttributeValue | undefined): Record<string, ShareGrant> {
  return Object.fromEntries(
    Object.entries(a?.M ?? {}).map(([user, g]) => [
      user,
      {
        access: g.M!.access.S as Access,
        status: g.M!.status.S as ShareStatus,
        ...(g.M!.view?.S ? { view: g.M!.view.S } : {}),
        since: g.M!.since.S!,
      },
    ]),
  );
}

export const grantAttr = (g: ShareGrant): AttributeValue => ({
  M: {
    access: { S: g.access },
    status: { S: g.status },
    ...(g.view ? { view: { S: g.view } } : {}),
    since: { S: g.since },
  },
});
