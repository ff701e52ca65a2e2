/**
 * COPY and MOVE (RFC 4918 §9.8, §9.9) of calendar objects and vCards, within and between a user's
 * collections of one kind, and of whole collections within their home. A member's MOVE is one
 * transaction (lib/store/transfer.ts); a collection's MOVE renames it and keeps its id, so its
 * members go with it untouched. The destination's rules apply as for a PUT there: its kind
 * validates the body (403 with its precondition) and its UIDs must stay unique (409).
 */
import {
  BadGateway,
  BadRequest,
  Conflict,
  Forbidden,
  NotFound,
  PreconditionFailed,
  DavError as DavErrorClass,
  fromStoreError,
  type DavError,
} from "../errors.js";
import { decodePath, type DavResponse } from "../http/message.js";
import {
  collectionEtag,
  createCollection,
  deleteCollection,
  getCollection,
  isShared,
  listFolders,
  renameCollection,
  type CollectionRecord,
} from "../store/collections.js";
import {
  AlreadyExists,
  EtagMismatch as StoreEtagMismatch,
  NotFound as StoreNotFound,
  ParentMissing,
  SharedCollection,
  UidConflict,
} from "../store/errors.js";
import { satisfies } from "../store/expectation.js";
import { getObject, listObjects, putObject } from "../store/objects.js";
import { inFolder, nests, within } from "../store/folders.js";
import { transferObject } from "../store/transfer.js";
import { distinctGuards, type Guard } from "../store/tx.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import { checkAccess, requirePrivilege } from "./access.js";
import { checkName } from "./limits.js";
import { writeExpectation } from "./objects.js";
import {
  addressHref,
  asFile,
  asFolder,
  collectionHref,
  objectHref,
  parseAddress,
  type Address,
} from "./paths.js";
import type { RequestContext, ResourceContext } from "./registry.js";
import { depthOf } from "./request.js";
import { collectionTarget, memberHref, type CollectionTarget, type ObjectTarget } from "./target.js";

export interface CopyMovePlan {
  destination: Address;
  overwrite: boolean;
  depth: "0" | "1" | "infinity";
}

/** Reads Destination (RFC 4918 §10.3), Overwrite (§10.6) and Depth before anything is resolved. */
export function prepareCopyMove(m: RequestContext): CopyMovePlan {
  const raw = m.req.headers["destination"]?.trim();
  if (!raw) throw new BadRequest(`${m.req.method} needs a Destination header (RFC 4918 §10.3).`);
  let path: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new BadRequest(`The Destination '${raw.slice(0, 200)}' is not a URL.`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new BadRequest(`The Destination must be an http or https URL, not ${url.protocol}.`);
    }
    const host = m.req.headers["host"]?.toLowerCase();
    // `h` and `h:443` (or `h:80`) name one server: the URL parser drops a default port.
    const requested =
      host && (URL.canParse(`${url.protocol}//${host}`) ? new URL(`${url.protocol}//${host}`).host : host);
    if (requested && url.host.toLowerCase() !== requested) {
      throw new BadGateway(
        `The Destination is on another server (${url.host}); this server copies only within itself.`,
      );
    }
    path = url.pathname;
  } else if (raw.startsWith("//")) {
    throw new BadRequest(
      "The Destination '//…' names a host without a scheme; send an absolute URL or path.",
    );
  } else if (raw.startsWith("/")) {
    path = raw.replace(/[?#].*$/, "");
  } else {
    throw new BadRequest("The Destination must be an absolute URL or an absolute path.");
  }
  const decoded = decodePath(path);
  if (decoded === undefined) throw new BadRequest("The Destination has an invalid percent-encoding.");
  const overwrite = (m.req.headers["overwrite"] ?? "T").trim().toUpperCase();
  if (overwrite !== "T" && overwrite !== "F")
    throw new BadRequest("The Overwrite header is T or F (RFC 4918 §10.6).");
  return {
    destination: parseAddress(decoded),
    overwrite: overwrite === "T",
    depth: depthOf(m.req, "infinity"),
  };
}

const base = (m: ResourceContext) => ({ ctx: m.ctx, user: m.user, tokens: m.tokens });

export const copy = (m: ResourceContext, plan: CopyMovePlan) => copyOrMove(m, plan, false);
export const move = (m: ResourceContext, plan: CopyMovePlan) => copyOrMove(m, plan, true);

async function copyOrMove(m: ResourceContext, given: CopyMovePlan, isMove: boolean): Promise<DavResponse> {
  const t = m.target;
  // In a files home a Destination with or without its trailing slash names what the source is.
  const dst = t.type === "collection" ? asFolder(given.destination) : asFile(given.destination);
  const plan = { ...given, destination: dst };
  checkAccess(dst, m.user.name);
  if (dst.type !== "unknown" && dst.type !== "well-known" && addressHref(dst) === t.href) {
    throw new Forbidden("The source and the destination are the same resource (RFC 4918 §9.8.5).");
  }
  if (t.type === "collection" && nests(t.col.kind)) {
    if (t.col.name === "" && isMove) throw new Forbidden("The files home itself cannot be moved.");
    if (dst.type === "collection" && dst.kind === t.col.kind) {
      if (within(dst.collection, t.col.name) || within(t.col.name, dst.collection)) {
        throw new Forbidden(
          "A folder cannot be copied or moved into itself, nor onto a folder that holds it.",
        );
      }
    }
  }
  // Overwrite: T onto a resource of the other sort (a file onto a folder, or back) replaces it
  // in the write's own transaction.
  const other = await otherSort(m, t, dst, plan.overwrite);
  const answer =
    t.type === "object"
      ? await member(m, t, plan, isMove, other)
      : t.type === "collection"
        ? await collection(m, t, plan, isMove, other)
        : undefined;
  if (answer) return other && answer.status === 201 ? { ...answer, status: 204 } : answer;
  throw new Forbidden(
    `Only calendars, address books and their members can be ${isMove ? "moved" : "copied"}.`,
  );
}

/** A resource of the other sort at the destination, which the write replaces: the guards its removal needs. */
interface OtherSort {
  guards: Guard[];
}

/**
 * In a files home a file and a folder never share a name: a file copied or moved onto a folder
 * (or a folder onto a file) replaces it under Overwrite: T (RFC 4918 §9.8.4, §9.9.3), within the
 * one transaction of the write, so a refusal (a lock, the quota, a bad Depth) leaves it standing;
 * under Overwrite: F it is a 412. Nothing is written here.
 */
async function otherSort(
  m: ResourceContext,
  t: ResourceContext["target"],
  dst: Address,
  overwrite: boolean,
): Promise<OtherSort | undefined> {
  if (!("kind" in dst) || !nests(dst.kind) || (t.type !== "object" && t.type !== "collection"))
    return undefined;
  const store = m.ctx.store;
  const refuse = () => new PreconditionFailed(`Overwrite: F, and ${addressHref(dst)} exists.`);
  if (t.type === "object" && dst.type === "object") {
    const folder = await getCollection(store, {
      kind: dst.kind,
      owner: dst.user,
      name: inFolder(dst.collection, dst.object),
    });
    if (!folder) return undefined;
    if (!overwrite) throw refuse();
    if (t.col.kind === folder.kind && within(t.col.name, folder.name)) {
      throw new Forbidden("A file cannot replace a folder that holds it.");
    }
    const guards = await m.registry.collectionGuards({
      ...base(m),
      kind: folder.kind,
      owner: folder.owner,
      name: folder.name,
      op: "delete",
    });
    return { guards };
  }
  const file = asFile(dst);
  if (t.type !== "collection" || file.type !== "object") return undefined;
  const parent = await getCollection(store, { kind: file.kind, owner: file.user, name: file.collection });
  const obj = parent && (await getObject(store, parent.id, file.object, false));
  if (!parent || !obj) return undefined;
  if (!overwrite) throw refuse();
  return {
    guards: m.registry.guards({ ...base(m), col: parent, name: obj.name, op: "delete", membership: true }),
  };
}

async function member(
  m: ResourceContext,
  t: ObjectTarget,
  plan: CopyMovePlan,
  isMove: boolean,
  other: OtherSort | undefined,
): Promise<DavResponse> {
  const dst = plan.destination;
  if (dst.type !== "object") {
    // RFC 4918 §9.8.5: a member cannot be made where its collection would be missing or is no collection.
    throw new Conflict("The Destination must name a member of a calendar or address book.");
  }
  checkName(dst.object, "resource");
  const ref = { kind: dst.kind, owner: dst.user, name: dst.collection };
  const col = await getCollection(m.ctx.store, ref);
  if (!col) {
    throw new Conflict(
      `The destination collection ${collectionHref(dst.kind, dst.user, dst.collection)} does not exist.`,
    );
  }
  // Into a calendar shared with the requester: as a PUT there, a new member needs bind.
  requirePrivilege(collectionTarget(col), dav("bind"));
  if (!t.obj.body) throw new NotFound(`There is no resource at ${t.href}.`);
  const type = m.registry.collectionType(col.kind);
  // The destination's kind decides what it stores, as for a PUT there (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1).
  const validated = type.validateMember(col, t.obj.body, t.obj.contentType, m.ctx.config, dst.object);
  // A file keeps its dead properties at the destination (RFC 4918 §9.8.2, §9.9.1).
  const object = { ...validated, name: dst.object, dead: t.obj.dead };
  const common = { ...base(m), membership: true };
  const writes = [
    { ...common, col, name: dst.object, op: "put" as const },
    ...(isMove ? [{ ...common, col: t.col, name: t.obj.name, op: "delete" as const }] : []),
  ];
  // Both writes may name one lock (their collection's): each part once.
  const guards = distinctGuards([...writes.flatMap((w) => m.registry.guards(w)), ...(other?.guards ?? [])]);
  try {
    const result = await transferObject(m.ctx.store, {
      from: { kind: t.col.kind, owner: t.col.owner, name: t.col.name },
      name: t.obj.name,
      to: ref,
      object,
      move: isMove,
      overwrite: plan.overwrite,
      expect: writeExpectation(m, t.col),
      guards,
      quota: m.ctx.config.quotaBytes,
      replaceFolder: other !== undefined,
    });
    for (const w of writes) await m.registry.afterWrite(w.op === "put" ? { ...w, etag: result.etag } : w);
    return { status: result.created ? 201 : 204, headers: { etag: result.etag } };
  } catch (err) {
    throw destinationError(err, col, type.uidConflict, dst.object) ?? err;
  }
}

/** A store error about the destination, in the destination's terms. */
function destinationError(
  err: unknown,
  col: CollectionRecord,
  uidConflict: string,
  name: string,
): DavError | undefined {
  if (err instanceof AlreadyExists) {
    return new PreconditionFailed(`Overwrite: F, and ${memberHref(col, name)} exists.`);
  }
  if (err instanceof UidConflict) {
    const href = memberHref(col, err.existingName);
    return new Conflict(`UID ${err.uid} is already used by ${href} in the destination collection.`, {
      name: uidConflict,
      hrefs: [href],
    });
  }
  if (err instanceof ParentMissing) return new Conflict("The destination collection no longer exists.");
  if (err instanceof StoreNotFound) return new NotFound("The source no longer exists.");
  return undefined;
}

async function collection(
  m: ResourceContext,
  t: CollectionTarget,
  plan: CopyMovePlan,
  isMove: boolean,
  other: OtherSort | undefined,
): Promise<DavResponse> {
  const dst = plan.destination;
  if (dst.type === "object" && dst.kind === t.col.kind) {
    throw new Forbidden("Collections live directly in a home; a calendar or address book cannot be nested.");
  }
  if (dst.type !== "collection") throw new Conflict("The Destination must name a collection in a home.");
  if (dst.kind !== t.col.kind) {
    // RFC 4918 §16: the collection's live properties (its kind, component set, time zone) have no place there.
    throw new Conflict(`A ${t.col.kind} keeps its properties only in a ${t.col.kind} home.`, {
      name: dav("preserved-live-properties"),
    });
  }
  checkName(dst.collection, "collection");
  if (isMove && plan.depth !== "infinity") {
    throw new BadRequest(
      "MOVE of a collection moves all it holds: Depth must be infinity (RFC 4918 §9.9.2).",
    );
  }
  if (!isMove && plan.depth === "1")
    throw new BadRequest("COPY of a collection takes Depth 0 or infinity (RFC 4918 §9.8.3).");
  // RFC 9110 §13.1.1: the client's conditions are on the source, as it stands when it is moved.
  const expect = writeExpectation(m, t.col);
  if (!satisfies(expect, collectionEtag(t.col))) {
    throw new PreconditionFailed("The collection was changed by someone else (ETag mismatch).");
  }
  const pinned =
    expect.ifMatch !== undefined || expect.ifNoneMatch !== undefined || expect.holds !== undefined;
  const existing = await getCollection(m.ctx.store, {
    kind: dst.kind,
    owner: dst.user,
    name: dst.collection,
  });
  if (existing && !plan.overwrite)
    throw new PreconditionFailed(`Overwrite: F, and ${addressHref(dst)} exists.`);
  // A view stands for someone else's collection, and a shared one for its sharees' views: neither is replaced.
  if (existing && (existing.view || isShared(existing)))
    throw new SharedCollection("the destination is shared");
  if (isMove && t.col.view) throw new SharedCollection("a view keeps its name");
  const write = { ctx: m.ctx, user: m.user, kind: dst.kind, owner: dst.user, tokens: m.tokens };
  // What the locks involved must permit: the destination's creation (or its replacement), and for a
  // MOVE the source's removal; one set of guards in the one transaction.
  const guards = async (ops: Parameters<typeof m.registry.collectionGuards>[0][], extra: Guard[] = []) =>
    distinctGuards([...(await Promise.all(ops.map((w) => m.registry.collectionGuards(w)))).flat(), ...extra]);
  const atDestination = [
    { ...write, name: dst.collection, op: existing ? ("delete" as const) : ("create" as const) },
  ];
  // The subfolders a MOVE or a deep COPY makes must all have names this server accepts, before anything is written.
  const below =
    nests(t.col.kind) && plan.depth === "infinity"
      ? await listFolders(m.ctx.store, t.col, "descendants")
      : [];
  for (const sub of below) checkName(dst.collection + sub.name.slice(t.col.name.length), "collection");
  if (isMove) {
    try {
      await renameCollection(
        m.ctx.store,
        t.col,
        dst.collection,
        existing,
        await guards([...atDestination, { ...write, name: t.col.name, op: "delete" }], other?.guards),
        pinned,
        other !== undefined,
      );
    } catch (err) {
      if (err instanceof AlreadyExists)
        throw new PreconditionFailed(`${addressHref(dst)} was created meanwhile.`);
      if (err instanceof StoreNotFound) throw new NotFound(`There is no collection at ${t.href}.`);
      if (err instanceof StoreEtagMismatch) {
        throw new PreconditionFailed("The collection changed since its conditions were checked.");
      }
      throw err;
    }
    return { status: existing ? 204 : 201, headers: {} };
  }
  if (existing) await deleteCollection(m.ctx.store, existing, { guards: await guards(atDestination) });
  const created = await createCollection(
    m.ctx.store,
    {
      kind: t.col.kind,
      owner: dst.user,
      name: dst.collection,
      props: t.col.props,
      dead: t.col.dead,
      components: t.col.components,
    },
    await guards([{ ...write, name: dst.collection, op: "create" }], other?.guards),
    other !== undefined,
  );
  if (plan.depth === "0") return { status: existing ? 204 : 201, headers: {} };
  // RFC 4918 §9.8.8: members that cannot be copied are named in a 207; the others stay copied.
  const failures: MultistatusResponse[] = [];
  await copyMembers(m, t.col, created, failures);
  // A folder's subfolders follow, parents before their children (RFC 4918 §9.8.3).
  below.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (const sub of below) {
    const name = dst.collection + sub.name.slice(t.col.name.length);
    const href = collectionHref(sub.kind, dst.user, name);
    try {
      const copied = await createCollection(
        m.ctx.store,
        { kind: sub.kind, owner: dst.user, name, props: sub.props, dead: sub.dead },
        await guards([{ ...write, name, op: "create" }]),
      );
      await copyMembers(m, sub, copied, failures);
    } catch (err) {
      const answer = fromStoreError(err);
      if (!(answer instanceof DavErrorClass)) throw err;
      failures.push({ href, status: answer.status });
    }
  }
  if (failures.length) return multistatusResponse(renderMultistatus(failures));
  return { status: existing ? 204 : 201, headers: {} };
}

/** COPY of a collection's members into its copy, one by one; each failure is a response of the 207. */
async function copyMembers(
  m: ResourceContext,
  from: CollectionRecord,
  created: CollectionRecord,
  failures: MultistatusResponse[],
): Promise<void> {
  for (const obj of await listObjects(m.ctx.store, from.id, true)) {
    const href = objectHref(created.kind, created.owner, created.name, obj.name);
    try {
      const write = { ...base(m), col: created, name: obj.name, op: "put" as const, membership: true };
      const result = await putObject(
        m.ctx.store,
        created,
        {
          ...m.registry
            .collectionType(created.kind)
            .validateMember(created, obj.body!, obj.contentType, m.ctx.config, obj.name),
          name: obj.name,
          dead: obj.dead,
        },
        { ifNoneMatch: "*" },
        { first: created, existing: null, guards: m.registry.guards(write), quota: m.ctx.config.quotaBytes },
      );
      await m.registry.afterWrite({ ...write, etag: result.etag });
    } catch (err) {
      const answer = fromStoreError(err);
      if (!(answer instanceof DavErrorClass)) throw err;
      failures.push({ href, status: answer.status });
    }
  }
}
