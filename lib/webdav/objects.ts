/**
 * GET, HEAD, PUT and DELETE (RFC 4918 §9.4, §9.6, §9.7; RFC 4791 §5.3.2). The member's kind of
 * collection validates what a PUT stores; the client's If-Match, If-None-Match and If header go to
 * the store, which checks them against the state each round of the write reads and demands that
 * state in the write's DynamoDB condition, so a stale ETag fails with 412 even when two writers
 * race; modules' guards (locks, tasks) take part in the same transaction.
 */
import {
  BadRequest,
  Conflict,
  Forbidden,
  InsufficientStorage,
  NotFound,
  PreconditionFailed,
} from "../errors.js";
import type { DavRequest, DavResponse } from "../http/message.js";
import {
  collectionEtag,
  deleteCollection,
  listFolders,
  type CollectionRecord,
} from "../store/collections.js";
import { ParentMissing } from "../store/errors.js";
import type { Expectation } from "../store/expectation.js";
import { checkExpectation, deleteObject, listObjects, memberPages, putObject } from "../store/objects.js";
import { resumePurges } from "../store/purge.js";
import { leaveShare } from "../store/shares.js";
import { checkName } from "./limits.js";
import { collectionHref, nests } from "./paths.js";
import type { Address } from "./paths.js";
import type { MemberRead, ObjectTarget } from "./target.js";
import type { Exporter, MethodContext, Registry, ResourceContext } from "./registry.js";
import { expectationOf } from "./request.js";

/**
 * The client's conditions on a member write: If-Match, If-None-Match and the If header. An ETag
 * the client had of another form of the member (a vCard read as 4.0) stands for the stored one.
 */
export function writeExpectation(m: MethodContext, col?: CollectionRecord): Expectation {
  const expect = expectationOf(m.req);
  const variants = col && m.registry.collectionType(col.kind).variants;
  const stored = (tags: Expectation["ifMatch"]) =>
    variants && Array.isArray(tags) ? tags.map((t) => variants.storedEtag(t)) : tags;
  // RFC 6638 §8.3: the schedule tag the client's copy had.
  const scheduleTag = m.req.headers["if-schedule-tag-match"]?.trim();
  return {
    ifMatch: stored(expect.ifMatch),
    ifNoneMatch: stored(expect.ifNoneMatch),
    ...m.ifHeader,
    ...(scheduleTag ? { scheduleTag } : {}),
  };
}

/** PUT with If-None-Match: * reads nothing of the member: the write's condition demands its absence. */
export const putReads = (req: DavRequest): MemberRead =>
  expectationOf(req).ifNoneMatch === "*" ? "skip" : "meta";

export async function put(m: MethodContext): Promise<DavResponse> {
  const { address: a, target } = m;
  if (a.type !== "object") throw new Error("PUT is allowed on member URLs only");
  if (m.req.headers["content-range"]) throw new BadRequest("Partial PUT (Content-Range) is not supported.");
  const parent = target.type === "unmapped" ? target.parent : undefined;
  const col = target.type === "object" ? target.col : parent?.type === "collection" ? parent.col : undefined;
  if (!col) {
    throw new Conflict(
      `The parent collection ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
    );
  }
  checkName(a.object, "resource");
  const type = m.registry.collectionType(col.kind);
  const validate = (body: Buffer) =>
    type.validateMember(col, body, m.req.headers["content-type"], m.ctx.config, a.object);
  let member = validate(m.req.body);
  const write = {
    ctx: m.ctx,
    user: m.user,
    col,
    name: a.object,
    op: "put" as const,
    membership: target.type !== "object",
    tokens: m.tokens,
  };
  const expect = writeExpectation(m, col);
  const existing = target.type === "object" ? target.obj : undefined;
  if (existing || (target.type === "unmapped" && !target.assumed)) checkExpectation(expect, existing);
  // Modules may refuse the write, store another body (scheduling's SCHEDULE-STATUS) and add to it.
  const plan = await m.registry.planWrite({
    ...write,
    req: m.req,
    body: member.body,
    existing,
  });
  if (plan.body) member = validate(plan.body);
  const result = await putObject(
    m.ctx.store,
    { kind: a.kind, owner: a.user, name: a.collection },
    { ...member, name: a.object, scheduleTag: plan.scheduleTag },
    expect,
    {
      first: col,
      existing:
        target.type === "object"
          ? target.obj
          : target.type === "unmapped" && target.assumed
            ? undefined
            : null,
      guards: [...m.registry.guards(write), ...(plan.guards ?? [])],
      quota: m.ctx.config.quotaBytes,
    },
  );
  await m.registry.afterWrite({ ...write, etag: result.etag });
  await plan.afterCommit?.(result.etag);
  // RFC 4791 §5.3.4: the ETag only when the stored body is byte-identical to the request's.
  return {
    status: result.created ? 201 : 204,
    headers: { ...(plan.body ? {} : { etag: result.etag }), ...plan.headers },
  };
}

/** What GET and HEAD serve of a member: the stored body, or the form the request asks for. */
interface Served {
  body?: Buffer | string;
  headers: Record<string, string>;
}

function served(m: ResourceContext, t: ObjectTarget): Served {
  const variants = m.registry.collectionType(t.col.kind).variants;
  const headers: Record<string, string> = {
    "content-type": t.obj.contentType,
    etag: t.obj.etag,
    "last-modified": new Date(t.obj.modified).toUTCString(),
    // RFC 9110 §12.5.5: a cache must not give one form to a client that asked for the other.
    ...(variants ? { vary: "Accept" } : {}),
    ...(t.obj.scheduleTag ? { "schedule-tag": t.obj.scheduleTag } : {}),
  };
  const variant = variants && t.obj.body ? variants.select(m.req, { ...t.obj, body: t.obj.body }) : undefined;
  if (!variant) return { body: t.obj.body, headers };
  return {
    body: variant.body,
    headers: { ...headers, "content-type": variant.contentType, etag: variant.etag },
  };
}

/** RFC 9110 §13.1.1-2 on a read: 304 for a matching If-None-Match, 412 for a failing If-Match, else undefined. */
function readPrecondition(m: ResourceContext, { headers }: Served): DavResponse | undefined {
  const { ifNoneMatch: inm, ifMatch: im } = expectationOf(m.req);
  // RFC 9110 §13.2.2: If-Match is evaluated first; only when it holds does If-None-Match decide.
  if (im && im !== "*" && !im.includes(headers.etag))
    throw new PreconditionFailed("The ETag does not match.", undefined, headers.etag);
  if (inm === "*" || (Array.isArray(inm) && inm.includes(headers.etag))) return { status: 304, headers };
  return undefined;
}

export async function get(m: ResourceContext): Promise<DavResponse> {
  const t = m.target;
  if (t.type === "collection") {
    const type = m.registry.collectionType(t.col.kind);
    let body: string;
    if (type.exporter) {
      body = await exportBody(m, t.col, type.exporter(t.col));
    } else {
      const [folders, objects] = await Promise.all([
        listFolders(m.ctx.store, t.col, "children"),
        listObjects(m.ctx.store, t.col.id),
      ]);
      body = type.index!(t.col, folders, objects);
    }
    return { status: 200, headers: { "content-type": type.contentType, etag: collectionEtag(t.col) }, body };
  }
  if (t.type !== "object") throw new Error("GET is allowed on collections and members only");
  const form = served(m, t);
  const answered = readPrecondition(m, form);
  if (answered) return answered;
  if (form.body === undefined) throw new NotFound(`There is no resource at ${t.href}.`);
  return { status: 200, headers: form.headers, body: form.body };
}

/** HEAD answers from metadata (a member's size is stored), unless the request asks for another form of it. */
export async function head(m: ResourceContext): Promise<DavResponse> {
  const t = m.target;
  if (t.type === "collection") {
    // The export's length is unknown until it is built, so it is not claimed (RFC 9110 §9.3.2).
    const type = m.registry.collectionType(t.col.kind);
    return { status: 200, headers: { "content-type": type.contentType, etag: collectionEtag(t.col) } };
  }
  if (t.type !== "object") throw new Error("HEAD is allowed on collections and members only");
  const form = served(m, t);
  const length = typeof form.body === "string" ? Buffer.byteLength(form.body) : t.obj.size;
  return (
    readPrecondition(m, form) ?? {
      status: 200,
      headers: { ...form.headers, "content-length": String(length) },
    }
  );
}

/** HEAD reads a member's body only when its collection may serve it in another form than stored. */
export const headReads = (req: DavRequest, a: Address, registry: Registry): MemberRead =>
  a.type === "object" && registry.collectionType(a.kind).variants?.asked(req) ? "body" : "meta";

export async function del(m: ResourceContext): Promise<DavResponse> {
  const t = m.target;
  const store = m.ctx.store;
  if (t.type === "object") {
    const write = {
      ctx: m.ctx,
      user: m.user,
      col: t.col,
      name: t.obj.name,
      op: "delete" as const,
      membership: true,
      tokens: m.tokens,
    };
    const expect = writeExpectation(m, t.col);
    checkExpectation(expect, t.obj);
    const plan = await m.registry.planWrite({ ...write, req: m.req, existing: t.obj });
    try {
      await deleteObject(
        store,
        { kind: t.col.kind, owner: t.col.owner, name: t.col.name },
        t.obj.name,
        expect,
        { first: t.col, existing: t.obj, guards: [...m.registry.guards(write), ...(plan.guards ?? [])] },
      );
    } catch (err) {
      // RFC 4918 §9.6: deleting what is not there (here: not even its collection) is a 404, not a conflict.
      if (err instanceof ParentMissing) throw new NotFound(`There is no resource at ${t.href}.`);
      throw err;
    }
    await m.registry.afterWrite(write);
    await plan.afterCommit?.(undefined);
    return { status: 204, headers: {} };
  }
  if (t.type !== "collection") throw new Error("DELETE is allowed on collections and members only");
  if (nests(t.col.kind) && t.col.name === "") throw new Forbidden("The files home itself cannot be deleted.");
  if (t.col.view) {
    // A sharee deleting the view in their home leaves the share; the owner's collection stays.
    await leaveShare(store, t.col);
    return { status: 204, headers: {} };
  }
  // deleteCollection checks the client's conditions against the version read (412), in every round.
  const expect = writeExpectation(m);
  try {
    // Under the client's conditions the delete's DynamoDB condition also demands the version they were checked on.
    const conditioned =
      (expect.ifMatch !== undefined && expect.ifMatch !== "*") || expect.holds !== undefined;
    const guards = await m.registry.collectionGuards({
      ctx: m.ctx,
      user: m.user,
      kind: t.col.kind,
      owner: t.col.owner,
      name: t.col.name,
      op: "delete",
      tokens: m.tokens,
    });
    await deleteCollection(store, t.col, { unchanged: conditioned, expect, guards });
  } catch (err) {
    if (err instanceof ParentMissing) throw new NotFound(`There is no collection at ${t.href}.`);
    throw err;
  }
  // Finish any purge an earlier crash left half done.
  await resumePurges(store);
  return { status: 204, headers: {} };
}

/**
 * A collection's export, read page by page and written member by member (never every member
 * parsed at once), refused with 507 past what one response may carry (the front door's limit,
 * DAV_MAX_RESPONSE_BYTES): the CLI's export has no such limit.
 */
async function exportBody(m: ResourceContext, col: CollectionRecord, exporter: Exporter): Promise<string> {
  const parts = [exporter.head];
  let bytes = Buffer.byteLength(exporter.head) + Buffer.byteLength(exporter.tail);
  for await (const page of memberPages(m.ctx.store, col.id)) {
    for (const obj of page) {
      const part = exporter.member(obj.body!);
      bytes += Buffer.byteLength(part);
      if (bytes > m.ctx.config.maxResponseBytes) {
        throw new InsufficientStorage(
          `The export is larger than one response may be (${m.ctx.config.maxResponseBytes} bytes): POST to this collection with ?task=export to get it in parts, or export it with \`npm run admin -- export ${col.owner}/${col.name}\`.`,
        );
      }
      parts.push(part);
    }
  }
  parts.push(exporter.tail);
  return parts.join("");
}
