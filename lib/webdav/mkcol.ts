/**
 * Creating collections: plain MKCOL (RFC 4918 §9.3) and extended MKCOL (RFC 5689), and the shared
 * path MKCALENDAR (RFC 4791 §5.3.1, registered by CalDAV) takes too. Collections live directly in
 * a user's calendar or address-book home; "must not exist yet" is the DynamoDB condition of the
 * create itself, and the initial properties, planned like a PROPPATCH, are part of the same write.
 */
import { Conflict, Forbidden, MethodNotAllowed, UnsupportedMediaType } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { createCollection } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import { XmlWriter } from "../xml/build.js";
import { statusLine } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { checkName } from "./limits.js";
import { collectionHref } from "./paths.js";
import { planPropertyUpdate, propertyOps, propstatsOf, type Outcome } from "./property-update.js";
import type { MethodContext, Registry } from "./registry.js";

/** The kind a resourcetype asks for; "plain" for a bare DAV:collection. Throws for unknown kinds. */
function kindFromResourcetype(
  registry: Registry,
  el: XmlElement | undefined,
): CollectionKind | "plain" | undefined {
  if (!el) return undefined;
  const names = el.children.map((c) => c.name);
  for (const type of registry.collections.values()) if (names.includes(type.resourcetype)) return type.kind;
  if (names.every((n) => n === dav("collection"))) return "plain";
  throw new Forbidden(
    `Cannot create a collection of type ${names.filter((n) => n !== dav("collection")).join(", ")}.`,
    { name: dav("valid-resourcetype") },
  );
}

/** The MKCOL/MKCALENDAR failure body: the propstats directly under the response root (RFC 5689 §3). */
function failureBody(root: string, outcomes: Outcome[]): string {
  const w = new XmlWriter(root);
  for (const ps of propstatsOf(outcomes)) {
    const propstat = w.el(w.root, "{DAV:}propstat");
    const prop = w.el(propstat, "{DAV:}prop");
    for (const p of ps.props) w.node(prop, p);
    w.el(propstat, "{DAV:}status", statusLine(ps.status));
    if (ps.error) w.el(w.el(propstat, "{DAV:}error"), ps.error.name);
    if (ps.description) w.el(propstat, "{DAV:}responsedescription", ps.description);
  }
  return w.toString();
}

/**
 * Create a collection at the request URL: of `requested` kind, or of the home's kind when the
 * request does not say; `body` is the mkcol / mkcalendar element, if any.
 */
export async function createCollectionAt(
  m: MethodContext,
  requested: CollectionKind | undefined,
  body: XmlElement | undefined,
  responseRoot: string,
): Promise<DavResponse> {
  const { address: a, target } = m;
  if (target.type !== "unmapped") {
    throw new MethodNotAllowed("A resource already exists at this URL.", m.registry.allow(a).join(", "), {
      name: dav("resource-must-be-null"),
    });
  }
  if (a.type === "object") {
    // Inside an existing collection: calendars cannot nest (403); inside nothing: the parent is missing (409).
    if (target.parent) {
      throw new Forbidden("Collections cannot be created inside a calendar or address book.", {
        name: m.registry.collectionType(requested ?? a.kind).locationOk,
      });
    }
    throw new Conflict(
      `The parent collection ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
    );
  }
  if (a.type !== "collection") throw new Conflict("The parent collection does not exist.");
  checkName(a.collection, "collection");
  const kind = requested ?? a.kind;
  const type = m.registry.collectionType(kind);
  if (kind !== a.kind) {
    throw new Forbidden(
      kind === "calendar"
        ? "Calendars can only be created in a calendar home (/calendars/<user>/)."
        : "Address books can only be created in an address-book home (/addressbooks/<user>/).",
      { name: type.locationOk },
    );
  }
  const ops = body ? propertyOps(body, false) : [];
  const resourcetype = ops.some((op) => op.el.name === dav("resourcetype"));
  const plan = planPropertyUpdate(
    m.registry,
    kind,
    ops.filter((op) => op.el.name !== dav("resourcetype")),
    { creating: true, handled: resourcetype ? [dav("resourcetype")] : [] },
  );
  if (plan.failed) {
    return {
      status: 403,
      headers: { "content-type": "application/xml; charset=utf-8" },
      body: failureBody(responseRoot, plan.outcomes),
    };
  }
  await createCollection(m.ctx.store, {
    kind,
    owner: a.user,
    name: a.collection,
    props: plan.change.setProps,
    dead: plan.change.setDead,
    components: plan.change.components ?? type.creationDefaults?.components,
  });
  return {
    status: 201,
    headers: { location: collectionHref(kind, a.user, a.collection), "cache-control": "no-cache" },
  };
}

/** MKCOL: plain, or extended with a resourcetype and initial properties (RFC 5689). */
export async function mkcol(m: MethodContext): Promise<DavResponse> {
  const body = m.body;
  if (body && body.name !== dav("mkcol"))
    throw new UnsupportedMediaType("MKCOL bodies must be a DAV:mkcol element (RFC 5689).");
  const resourcetype = body
    ? propertyOps(body, false).find((op) => op.el.name === dav("resourcetype"))?.el
    : undefined;
  const type = kindFromResourcetype(m.registry, resourcetype);
  // A plain collection in a home becomes a collection of the home's kind: that is all a home can hold.
  return createCollectionAt(m, type === "plain" ? undefined : type, body, dav("mkcol-response"));
}
