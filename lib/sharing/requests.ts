/**
 * The bodies of the sharing protocols: CalendarServer's `CS:share` (set and remove sharees, as
 * Apple Calendar and sabre/dav clients send it, caldav-sharing §5.3.2), the WebDAV resource
 * sharing draft's `D:share-resource` (draft-pot-webdav-resource-sharing §5.3), and the sharee's
 * `CS:invite-reply`. Sharees are named by `mailto:` address, principal URL, or user name.
 */
import { BadRequest } from "../errors.js";
import { mediaType, type DavRequest } from "../http/message.js";
import type { Access } from "../store/views.js";
import { xmlBody } from "../webdav/request.js";
import { clark, dav, NS } from "../xml/names.js";
import { child, children, type XmlElement } from "../xml/parse.js";

export const cs = (local: string) => clark(NS.CS, local);

export interface ShareChange {
  /** How the request names the sharee (as written). */
  href: string;
  /** Undefined: remove the share. */
  access?: Access;
}

export type SharingRequest =
  { type: "share"; changes: ShareChange[] } | { type: "reply"; hosturl: string; accept: boolean };

const ROOTS = ["share", "share-resource", "invite-reply"];

/** Whether a POST is one of these (its root element, read cheaply; the body is parsed in `prepare`). */
export function isSharingRequest(req: DavRequest): boolean {
  const type = mediaType(req.headers["content-type"]);
  if (type !== "application/xml" && type !== "text/xml") return false;
  const head = req.body.toString("utf8", 0, 2048);
  return ROOTS.some((r) => new RegExp(`<([A-Za-z_][\\w.-]*:)?${r}[\\s>/]`).test(head));
}

const hrefOf = (el: XmlElement) => child(el, dav("href"))?.text.trim();

export function parseSharingRequest(req: DavRequest): SharingRequest {
  const root = xmlBody(req);
  if (!root) throw new BadRequest("The sharing request has no body.");
  if (root.name === cs("share")) {
    const changes: ShareChange[] = [];
    for (const set of children(root, cs("set"))) {
      const href = hrefOf(set);
      if (!href) throw new BadRequest("CS:set needs a DAV:href naming the sharee.");
      changes.push({ href, access: child(set, cs("read-write")) ? "read-write" : "read" });
    }
    for (const remove of children(root, cs("remove"))) {
      const href = hrefOf(remove);
      if (!href) throw new BadRequest("CS:remove needs a DAV:href naming the sharee.");
      changes.push({ href });
    }
    return { type: "share", changes };
  }
  if (root.name === dav("share-resource")) {
    const changes = children(root, dav("sharee")).map((s): ShareChange => {
      const href = hrefOf(s);
      if (!href) throw new BadRequest("DAV:sharee needs a DAV:href naming the sharee.");
      const access = child(s, dav("share-access"))?.children[0]?.name;
      if (access === dav("no-access")) return { href };
      if (access === dav("read-write")) return { href, access: "read-write" };
      if (access === dav("read")) return { href, access: "read" };
      throw new BadRequest("DAV:share-access must be DAV:read, DAV:read-write or DAV:no-access.");
    });
    return { type: "share", changes };
  }
  if (root.name === cs("invite-reply")) {
    const hosturl = child(root, cs("hosturl"));
    const host = hosturl && hrefOf(hosturl);
    if (!host)
      throw new BadRequest("CS:invite-reply needs CS:hosturl with the shared collection's DAV:href.");
    const accept = Boolean(child(root, cs("invite-accepted")));
    if (!accept && !child(root, cs("invite-declined")))
      throw new BadRequest("CS:invite-reply needs CS:invite-accepted or CS:invite-declined.");
    return { type: "reply", hosturl: host, accept };
  }
  throw new BadRequest(
    `A sharing request is CS:share, DAV:share-resource or CS:invite-reply, not ${root.name}.`,
  );
}
