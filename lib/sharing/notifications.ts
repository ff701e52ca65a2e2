/**
 * The notification collection of CalendarServer sharing (caldav-sharing §5.2): `/notifications/
 * <user>/`, named by the principal's CS:notification-URL, lists the invitations waiting for the
 * user's answer, one `<id>.xml` each (CS:invite-notification, §5.3.3). The user answers with a
 * CS:invite-reply POST to their home, on the account page, or by deleting the notification, which
 * declines it. Only its user reaches it; it is read-only otherwise.
 */
import { DavError, NotFound } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { getInvitation, listInvitations, type Invitation } from "../store/shares.js";
import { collectionHref, encodeSegment, principalHref } from "../webdav/paths.js";
import type { Endpoint } from "../webdav/registry.js";
import { depthOf } from "../webdav/request.js";
import { XmlWriter, type XmlNode } from "../xml/build.js";
import { multistatusResponse, renderMultistatus } from "../xml/multistatus.js";
import { dav, NS } from "../xml/names.js";
import { answer } from "./sharing.js";
import { cs } from "./requests.js";

export const NOTIFICATIONS = "notifications";
export const notificationsHref = (user: string) => `/${NOTIFICATIONS}/${encodeSegment(user)}/`;

const etagOf = (i: Invitation) => `"${i.id}-${Date.parse(i.since)}"`;
const member = (i: Invitation) => `${i.kind === "calendar" ? "cal" : "card"}-${i.id}.xml`;

/** The CS:notification document of one invitation. */
function notificationXml(user: string, i: Invitation): string {
  const w = new XmlWriter(cs("notification"), [NS.CS]);
  w.el(w.root, cs("dtstamp"), i.since.replace(/[-:]/g, "").replace(/\.\d+/, ""));
  const n = w.el(w.root, cs("invite-notification"));
  w.att(n, "shared-type", i.kind === "calendar" ? "calendar" : "addressbook");
  const nodes: XmlNode[] = [
    { name: cs("uid"), value: i.id },
    { name: dav("href"), value: principalHref(user) },
    { name: cs("invite-noresponse") },
    { name: cs("hosturl"), value: [{ name: dav("href"), value: collectionHref(i.kind, i.owner, i.name) }] },
    {
      name: cs("organizer"),
      value: [
        { name: dav("href"), value: principalHref(i.owner) },
        { name: cs("common-name"), value: i.owner },
      ],
    },
    { name: cs("access"), value: [{ name: cs(i.access === "read-write" ? "read-write" : "read") }] },
    { name: cs("summary"), value: i.title },
  ];
  for (const node of nodes) w.node(n, node);
  return w.toString();
}

function propfind(user: string, invitations: Invitation[], depth: string, memberOnly = false): DavResponse {
  const base = notificationsHref(user);
  const responses = [
    {
      href: base,
      propstats: [
        {
          status: 200,
          props: [
            { name: dav("resourcetype"), value: [{ name: dav("collection") }, { name: cs("notification") }] },
            { name: dav("displayname"), value: "Notifications" },
          ],
        },
      ],
    },
  ].slice(memberOnly ? 1 : 0);
  const members = [
    ...(depth === "0" ? [] : invitations).map((i) => ({
      href: base + member(i),
      propstats: [
        {
          status: 200,
          props: [
            { name: dav("resourcetype"), value: "" },
            { name: dav("getetag"), value: etagOf(i) },
            { name: dav("getcontenttype"), value: "application/xml; charset=utf-8" },
            { name: cs("notificationtype"), value: [{ name: cs("invite-notification") }] },
          ],
        },
      ],
    })),
  ];
  return multistatusResponse(renderMultistatus([...responses, ...members]));
}

export const notificationsEndpoint: Endpoint = {
  methods: ["PROPFIND", "GET", "DELETE"],
  async handle({ ctx, req, user }, segments) {
    // Someone else's notifications exist for nobody but them.
    if (segments[0] !== user.name || segments.length > 2)
      throw new NotFound("There are no notifications here.");
    const name = segments[1];
    const found = async () => {
      const m = /^(cal|card)-([\w-]{1,64})\.xml$/.exec(name ?? "");
      const i =
        m && (await getInvitation(ctx.store, m[1] === "cal" ? "calendar" : "addressbook", user.name, m[2]));
      if (!i) throw new NotFound("There is no such notification (it was answered, or withdrawn).");
      return i;
    };
    if (req.method === "PROPFIND") {
      if (name !== undefined) {
        const i = await found();
        return propfind(user.name, [i], "1", true);
      }
      return propfind(user.name, await listInvitations(ctx.store, user.name), depthOf(req, "0"));
    }
    if (req.method === "GET" && name !== undefined) {
      const i = await found();
      return {
        status: 200,
        headers: { "content-type": "application/xml; charset=utf-8", etag: etagOf(i) },
        body: notificationXml(user.name, i),
      };
    }
    if (req.method === "DELETE" && name !== undefined) {
      const i = await found();
      await answer(ctx.store, user.name, i, false);
      return { status: 204, headers: {} };
    }
    throw new DavError(405, `${req.method} is not supported here.`, undefined, {
      allow: name === undefined ? "OPTIONS, PROPFIND" : "OPTIONS, PROPFIND, GET, DELETE",
    });
  },
};
