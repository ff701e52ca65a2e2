/**
 * Creating collections: plain MKCOL (RFC 4918 §9.3) and extended MKCOL (RFC 5689), and the shared
 * path MKCALENDAR (RFC 4791 §5.3.1, registered by CalDAV) takes too. Collections live directly in
 * a user's calendar or address-book home; "must not exist yet" is the DynamoDB condition of the
 * create itself, and the initial properties, planned like a PROPPATCH, are part of the same write.
 */
import { Conflict, Forbidden, UnsupportedMediaType } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { createCollection } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import { XmlWriter } from "../xml/build.js";
import { writePropstat } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { checkName } from "./limits.js";
import { asFolder, collectionHref, homesHref, nests } from "./paths.js";
import { planPropertyUpdate, propertyOps, propstatsOf, type PropertyOp } from "./property-update.js";
import type { MethodContext, Registry, RequestContext } from "./registry.js";

/** What a creation asks for: the kind (undefined: the home's), the initial properties, and the answer's root. */
export interface CreationRequest {
  kind: CollectionKind | undefined;
  ops: PropertyOp[];
  responseRoot: string;
}

/** The kind a resourcetype asks for; "plain" for a bare DAV:collection. Throws for unknown kinds. */
function kindFromResourcetype(
  registry: Registry,
  el: XmlElement | undefined,
): CollectionKind | "plain" | undefined {
  if (!el) return undefined;
  const names = el.children.map((c) => c.name);
  for (const type of registry.collections.values())
    if (type.resourcetype && names.includes(type.resourcetype)) return type.kind;
  if (names.every((n) => n === dav("collection"))) return "plain";
  throw new Forbidden(
    `Cannot create a collection of type ${names.filter((n) => n !== dav("collection")).join(", ")}.`,
    { name: dav("valid-resourcetype") },
  );
}

/**
 * Create a collection at the request URL, of the requested kind or the home's. Resolution did not
 * look the URL up: that nothing exists there yet is the condition of the write itself.
 */
export async function createCollectionAt(m: MethodContext, request: CreationRequest): Promise<DavResponse> {
  const { target } = m;
  // In a files home `/files/u/a/b` names folder a/b as well as file b: MKCOL makes the folder.
  const a = asFolder(m.address);
  if (a.type === "collection" && nests(a.kind) && target.type === "unmapped" && !target.parent) {
    throw new Conflict(
      `The parent collection of ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
    );
  }
  if (a.type === "object") {
    // Inside an existing collection: calendars cannot nest (403); inside nothing: the parent is missing (409).
    if (target.type === "object" || (target.type === "unmapped" && target.parent)) {
      throw new Forbidden("Collections cannot be created inside a calendar or address book.", {
        name: m.registry.collectionType(request.kind ?? a.kind).locationOk,
      });
    }
    throw new Conflict(
      `The parent collection ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
    );
  }
  if (a.type !== "collection") throw new Error("creating methods are allowed on collection URLs only");
  checkName(a.collection, "collection");
  const kind = request.kind ?? a.kind;
  const type = m.registry.collectionType(kind);
  if (kind !== a.kind) {
    throw new Forbidden(`Collections of this kind can only be created in ${homesHref(kind)}<user>/.`, {
      name: type.locationOk,
    });
  }
  const resourcetype = request.ops.some((op) => op.el.name === dav("resourcetype"));
  const plan = planPropertyUpdate(
    m.registry,
    kind,
    request.ops.filter((op) => op.el.name !== dav("resourcetype")),
    { creating: true, handled: resourcetype ? [dav("resourcetype")] : [] },
  );
  if (plan.failed) {
    const w = new XmlWriter(request.responseRoot);
    for (const ps of propstatsOf(plan.outcomes)) writePropstat(w, w.root, ps);
    return { status: 403, headers: { "content-type": "application/xml; charset=utf-8" }, body: w.toString() };
  }
  // Something already there: the create's condition fails, and errors.ts answers 405 resource-must-be-null.
  const write = { ctx: m.ctx, user: m.user, kind, owner: a.user, name: a.collection, tokens: m.tokens };
  await createCollection(
    m.ctx.store,
    {
      kind,
      owner: a.user,
      name: a.collection,
      props: plan.change.setProps,
      dead: plan.change.setDead,
      components: plan.change.components ?? type.creationDefaults?.components,
    },
    await m.registry.collectionGuards({ ...write, op: "create" }),
  );
  return {
    status: 201,
    headers: { location: collectionHref(kind, a.user, a.collection), "cache-control": "no-cache" },
  };
}

/** The DAV:set properties of an mkcol / mkcalendar body (RFC 5689 §5.1, RFC 4791 §9.3). */
export const initialProperties = (body: XmlElement | undefined) => (body ? propertyOps(body, false) : []);

/** MKCOL: plain, or extended with a resourcetype and initial properties (RFC 5689), checked before resolution. */
export function prepareMkcol(m: RequestContext): CreationRequest {
  if (m.body && m.body.name !== dav("mkcol"))
    throw new UnsupportedMediaType("MKCOL bodies must be a DAV:mkcol element (RFC 5689).");
  const ops = initialProperties(m.body);
  const type = kindFromResourcetype(m.registry, ops.find((op) => op.el.name === dav("resourcetype"))?.el);
  // A plain collection in a home becomes a collection of the home's kind: that is all a home can hold.
  return { kind: type === "plain" ? undefined : type, ops, responseRoot: dav("mkcol-response") };
}
