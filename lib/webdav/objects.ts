/**
 * GET, HEAD, PUT and DELETE (RFC 4918 §9.4, §9.6, §9.7; RFC 4791 §5.3.2). The client's
 * If-Match / If-None-Match travel into the DynamoDB condition of the write, so a stale ETag fails
 * with 412 even when two writers race.
 */
import {
  BadRequest,
  Conflict,
  Forbidden,
  MethodNotAllowed,
  NotFound,
  PreconditionFailed,
} from "../errors.js";
import type { DavRequest, DavResponse } from "../http/message.js";
import { deleteCollection, getCollection, resumePurges } from "../store/collections.js";
import { deleteObject, getObject, listObjects, putObject, type Expectation } from "../store/objects.js";
import type { MethodContext } from "./method.js";
import { collectionHref, objectHref } from "./paths.js";
import { ParentMissing } from "../store/errors.js";
import { validateMember } from "./content.js";
import { ctag } from "../sync/token.js";
import { mergeCalendars } from "../caldav/export.js";

/**
 * Parse If-Match / If-None-Match (RFC 9110 §13.1.1-2). If-Match uses the strong comparison, so a
 * weak tag never matches; If-None-Match uses the weak comparison, so `W/"x"` matches a stored `"x"`.
 */
export function expectationOf(req: DavRequest): Expectation {
  const parse = (v: string | undefined, weak: "drop" | "strip"): "*" | string[] | undefined => {
    if (v === undefined) return undefined;
    const t = v.trim();
    if (t === "*") return "*";
    const tags = t.match(/(W\/)?"[^"]*"/g);
    if (!tags) throw new BadRequest(`Malformed entity-tag list '${t}'.`);
    return weak === "drop"
      ? tags.filter((tag) => !tag.startsWith("W/"))
      : tags.map((tag) => tag.replace(/^W\//, ""));
  };
  return {
    ifMatch: parse(req.headers["if-match"], "drop"),
    ifNoneMatch: parse(req.headers["if-none-match"], "strip"),
  };
}

export async function put(m: MethodContext): Promise<DavResponse> {
  const a = m.address;
  if (a.type !== "object") {
    if (a.type === "collection" || a.type === "home") {
      throw new MethodNotAllowed(
        "PUT on a collection is not allowed; PUT members into it.",
        "OPTIONS, PROPFIND, GET",
      );
    }
    throw new Forbidden("Resources can only be created inside a calendar or address book.");
  }
  if (m.req.headers["content-range"]) throw new BadRequest("Partial PUT (Content-Range) is not supported.");
  const ref = { kind: a.kind, owner: a.user, name: a.collection };
  const col = await getCollection(m.ctx.store, ref);
  if (!col)
    throw new Conflict(
      `The parent collection ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
    );
  const member = validateMember(col, a.object, m.req.body, m.req.headers["content-type"], m.ctx.config);
  const result = await putObject(m.ctx.store, ref, member, expectationOf(m.req), col);
  // The stored body is byte-identical to the request's, so the ETag is safe to give (RFC 4791 §5.3.4).
  return { status: result.created ? 201 : 204, headers: { etag: result.etag } };
}

export async function get(m: MethodContext): Promise<DavResponse> {
  const a = m.address;
  if (a.type === "collection") return getCollectionExport(m);
  if (a.type !== "object")
    throw new MethodNotAllowed("GET is not supported here; use PROPFIND.", "OPTIONS, PROPFIND");
  const col = await getCollection(m.ctx.store, { kind: a.kind, owner: a.user, name: a.collection });
  const obj = col ? await getObject(m.ctx.store, col.id, a.object) : undefined;
  if (!obj || !obj.body)
    throw new NotFound(`There is no resource at ${objectHref(a.kind, a.user, a.collection, a.object)}.`);
  const headers: Record<string, string> = {
    "content-type": obj.contentType,
    etag: obj.etag,
    "last-modified": new Date(obj.modified).toUTCString(),
  };
  const { ifNoneMatch: inm, ifMatch: im } = expectationOf(m.req);
  if (inm === "*" || (Array.isArray(inm) && inm.includes(obj.etag))) return { status: 304, headers };
  if (im && im !== "*" && !im.includes(obj.etag))
    throw new PreconditionFailed("The ETag does not match.", undefined, obj.etag);
  return { status: 200, headers, body: obj.body };
}

/** GET on a calendar: the whole calendar as one text/calendar, for export and subscription. */
async function getCollectionExport(m: MethodContext): Promise<DavResponse> {
  const a = m.address;
  if (a.type !== "collection") throw new NotFound();
  const col = await getCollection(m.ctx.store, { kind: a.kind, owner: a.user, name: a.collection });
  if (!col) throw new NotFound(`There is no collection at ${collectionHref(a.kind, a.user, a.collection)}.`);
  // One paginated Query with the bodies: a listing first and a batch read after would read everything twice.
  const objects = await listObjects(m.ctx.store, col.id, true);
  const bodies = objects.map((o) => o.body!.toString("utf8"));
  const etag = ctag(col);
  if (col.kind === "calendar") {
    const text = mergeCalendars(bodies, { name: col.props["{DAV:}displayname"] ?? col.name });
    return { status: 200, headers: { "content-type": "text/calendar; charset=utf-8", etag }, body: text };
  }
  return {
    status: 200,
    headers: { "content-type": "text/vcard; charset=utf-8", etag },
    body: bodies.map((b) => (b.endsWith("\n") ? b : `${b}\r\n`)).join(""),
  };
}

export async function head(m: MethodContext): Promise<DavResponse> {
  const res = await get(m);
  const length =
    res.body === undefined ? 0 : typeof res.body === "string" ? Buffer.byteLength(res.body) : res.body.length;
  return { status: res.status, headers: { ...res.headers, "content-length": String(length) } };
}

export async function del(m: MethodContext): Promise<DavResponse> {
  const a = m.address;
  const store = m.ctx.store;
  if (a.type === "object") {
    try {
      await deleteObject(
        store,
        { kind: a.kind, owner: a.user, name: a.collection },
        a.object,
        expectationOf(m.req),
      );
    } catch (err) {
      // RFC 4918 §9.6: deleting what is not there (here: not even its collection) is a 404, not a conflict.
      if (err instanceof ParentMissing) {
        throw new NotFound(`There is no resource at ${objectHref(a.kind, a.user, a.collection, a.object)}.`);
      }
      throw err;
    }
    return { status: 204, headers: {} };
  }
  if (a.type === "collection") {
    const col = await getCollection(store, { kind: a.kind, owner: a.user, name: a.collection });
    if (!col)
      throw new NotFound(`There is no collection at ${collectionHref(a.kind, a.user, a.collection)}.`);
    const im = expectationOf(m.req).ifMatch;
    if (im && im !== "*" && !im.includes(ctag(col))) throw new PreconditionFailed("The collection changed.");
    try {
      // With If-Match, the delete's DynamoDB condition also demands the version the client named.
      await deleteCollection(store, col, { unchanged: im !== undefined && im !== "*" });
    } catch (err) {
      if (err instanceof ParentMissing) {
        throw new NotFound(`There is no collection at ${collectionHref(a.kind, a.user, a.collection)}.`);
      }
      throw err;
    }
    // Finish any purge an earlier crash left half done.
    await resumePurges(store);
    return { status: 204, headers: {} };
  }
  throw new Forbidden("This resource cannot be deleted.");
}
