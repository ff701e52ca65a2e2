/**
 * The sharing module: calendars and address books shared between users of the deployment, read
 * or read-write, by the CalendarServer sharing protocol (POST of CS:share to the collection, the
 * sharee's CS:invite-reply to their home, CS:invite / CS:shared-url, the notification collection)
 * and the resource-sharing draft's DAV:share-resource. The store keeps one collection reached by
 * two paths (store/views.ts); the privileges a view grants are checked by the core (access.ts).
 */
import { Forbidden, NotFound } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { isShared, type CollectionRecord } from "../store/collections.js";
import type { ShareGrant } from "../store/views.js";
import { SHARE } from "../webdav/access.js";
import { addressOfHref, collectionHref, principalHref, type Address } from "../webdav/paths.js";
import { href } from "../webdav/properties.js";
import type { DavModule, PropertyEnv, ResourceContext } from "../webdav/registry.js";
import type { Resource } from "../webdav/target.js";
import { XmlWriter, type XmlNode } from "../xml/build.js";
import { dav, NS } from "../xml/names.js";
import { notificationsEndpoint, notificationsHref, NOTIFICATIONS } from "./notifications.js";
import { cs, isSharingRequest, parseSharingRequest, type SharingRequest } from "./requests.js";
import { answer, setShare, shareeNamed } from "./sharing.js";

const SHARED_KINDS = ["calendar", "addressbook"];
const sharedKind = (a: Address) => "kind" in a && SHARED_KINDS.includes(a.kind);
/** CS:share goes to a calendar or address book; CS:invite-reply to the sharee's home. */
const postable = (a: Address) => (a.type === "collection" || a.type === "home") && sharedKind(a);

/** A calendar or address book of its kind's own (not a scheduling inbox or outbox) can be shared. */
function shareable(col: CollectionRecord, env: Pick<PropertyEnv, "registry">): boolean {
  return (
    SHARED_KINDS.includes(col.kind) &&
    env.registry.resourcetypeOf(col) === env.registry.collectionType(col.kind).resourcetype
  );
}

const STATUS: Record<ShareGrant["status"], string> = {
  pending: "invite-noresponse",
  accepted: "invite-accepted",
  declined: "invite-declined",
};

/** CS:invite (caldav-sharing §5.2.2): the organizer and every sharee with their access and answer. */
function invite(col: CollectionRecord): XmlNode[] {
  return [
    {
      name: cs("organizer"),
      value: [href(principalHref(col.owner)), { name: cs("common-name"), value: col.owner }],
    },
    ...Object.entries(col.shares ?? {}).map(([user, g]) => ({
      name: cs("user"),
      value: [
        href(principalHref(user)),
        { name: cs("common-name"), value: user },
        { name: cs(STATUS[g.status]) },
        { name: cs("access"), value: [{ name: cs(g.access === "read-write" ? "read-write" : "read") }] },
      ],
    })),
  ];
}

/** A collection with grants (declined ones too: the owner sees the answer), or a sharee's view. */
const sharedCol = (r: Resource) =>
  r.type === "collection" && (r.col.view || Object.keys(r.col.shares ?? {}).length) ? r.col : undefined;

async function post(m: ResourceContext, request: SharingRequest): Promise<DavResponse> {
  const t = m.target;
  if (request.type === "share") {
    if (t.type !== "collection" || !shareable(t.col, m))
      throw new Forbidden("Only a calendar or address book can be shared (POST CS:share to it).");
    for (const change of request.changes) {
      const sharee = await shareeNamed(m.ctx.store, change.href);
      await setShare(m.ctx, t.col, sharee, change.access);
    }
    return { status: 200, headers: { "content-length": "0" } };
  }
  if (t.type !== "home")
    throw new Forbidden("An invitation is answered by a POST of CS:invite-reply to your home.");
  const host = addressOfHref(request.hosturl);
  if (host?.type !== "collection" || host.kind !== t.kind)
    throw new NotFound(`${request.hosturl} is no ${t.kind} shared with you.`);
  const viewed = await answer(
    m.ctx.store,
    m.user.name,
    { kind: host.kind, owner: host.user, name: host.collection },
    request.accept,
  );
  if (!viewed?.view) return { status: 200, headers: { "content-length": "0" } };
  // caldav-sharing §5.3.2.1: where the accepted collection now is in the sharee's home.
  const w = new XmlWriter(cs("shared-as"), [NS.CS]);
  w.el(w.root, dav("href"), collectionHref(viewed.kind, viewed.view.user, viewed.view.name));
  return { status: 200, headers: { "content-type": "application/xml; charset=utf-8" }, body: w.toString() };
}

export const sharing: DavModule = {
  name: "sharing",
  // POST on a collection is an import (tasks) or a push registration unless its body is a sharing request.
  sharesMethods: ["POST"],
  compliance: ["calendarserver-sharing"],
  privileges: [SHARE],
  methods: {
    POST: {
      allowedOn: postable,
      accepts: isSharingRequest,
      prepare: (m) => parseSharingRequest(m.req),
      // Sharing is the owner's; answering an invitation is the sharee's, in their own home.
      privilege: (m) => (m.target.type === "collection" ? SHARE : undefined),
      run: (m, request) => post(m, request as SharingRequest),
    },
  },
  endpoints: { [NOTIFICATIONS]: notificationsEndpoint },
  markers: (col) => (col.view ? [cs("shared")] : isShared(col) ? [cs("shared-owner")] : []),
  properties: [
    {
      name: cs("invite"),
      get: (r) => {
        const col = sharedCol(r);
        return col ? invite(col) : undefined;
      },
    },
    {
      // On a sharee's view: the collection's URL in its owner's home.
      name: cs("shared-url"),
      get: (r) =>
        r.type === "collection" && r.col.view
          ? [href(collectionHref(r.col.kind, r.col.owner, r.col.name))]
          : undefined,
    },
    {
      name: cs("allowed-sharing-modes"),
      get: (r, env) =>
        r.type === "collection" && !r.col.view && shareable(r.col, env)
          ? [{ name: cs("can-be-shared") }]
          : undefined,
    },
    {
      name: cs("notification-URL"),
      get: (r) => (r.type === "principal" ? [href(notificationsHref(r.user.name))] : undefined),
    },
    {
      // draft-pot-webdav-resource-sharing §4.4.1: what the requester may do with a shared collection.
      name: dav("share-access"),
      get: (r) => {
        if (r.type !== "collection") return undefined;
        if (r.col.view) return [{ name: dav(r.col.view.access === "read-write" ? "read-write" : "read") }];
        return isShared(r.col) ? [{ name: dav("shared-owner") }] : undefined;
      },
    },
  ],
};
