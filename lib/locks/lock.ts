/**
 * LOCK and UNLOCK (RFC 4918 §9.10, §9.11): write locks, exclusive or shared, of depth 0 or
 * infinity, with a bounded timeout; a LOCK without a body refreshes the lock its If header names.
 */
import { randomUUID } from "node:crypto";
import { BadRequest, Conflict, DavError, Locked, PreconditionFailed } from "../errors.js";
import type { CollectionRecord, CollectionRef } from "../store/collections.js";
import { nests } from "../store/folders.js";
import { AlreadyExists, EtagMismatch } from "../store/errors.js";
import { putObject } from "../store/objects.js";
import type { DavResponse } from "../http/message.js";
import {
  MAX_LOCK_SECONDS,
  createLock,
  LockConflict,
  LockNotFound,
  locksCovering,
  refreshLock,
  removeLock,
  type LockRecord,
} from "../store/locks.js";
import type { XmlNode } from "../xml/build.js";
import { XmlWriter } from "../xml/build.js";
import { dav } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import { serializeContent } from "../xml/serialize.js";
import type { MethodContext, RequestContext } from "../webdav/registry.js";
import { checkName } from "../webdav/limits.js";
import { depthOf } from "../webdav/request.js";
import { lockScopeOf } from "./scope.js";
import { addressOfHref, type Address } from "../webdav/paths.js";

/** Timeouts a client may ask for are cut to this (RFC 4918 §10.7: the server may choose). */
export const MAX_TIMEOUT_SECONDS = MAX_LOCK_SECONDS;
/** A DAV:owner is a note for people (RFC 4918 §14.17): a few kilobytes are plenty. */
const MAX_OWNER_BYTES = 4096;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

export interface LockPlan {
  /** Absent: a refresh (RFC 4918 §9.10.2). */
  info?: { scope: "exclusive" | "shared"; ownerXml?: string };
  depth: "0" | "infinity";
  timeout: number;
}

/** RFC 4918 §10.7: the first timeout of the list this server can give, bounded. */
function timeoutOf(header: string | undefined): number {
  for (const t of (header ?? "").split(",").map((s) => s.trim())) {
    if (/^infinite$/i.test(t)) return MAX_TIMEOUT_SECONDS;
    const m = /^second-(\d{1,12})$/i.exec(t);
    if (m) return Math.max(1, Math.min(Number(m[1]), MAX_TIMEOUT_SECONDS));
  }
  return DEFAULT_TIMEOUT_SECONDS;
}

export function prepareLock(m: RequestContext): LockPlan {
  const depth = depthOf(m.req, "infinity");
  if (depth === "1") throw new BadRequest("A lock has Depth 0 or infinity (RFC 4918 §9.10.3).");
  const timeout = timeoutOf(m.req.headers["timeout"]);
  if (!m.body) return { depth, timeout };
  if (m.body.name !== dav("lockinfo"))
    throw new BadRequest("A LOCK body is a DAV:lockinfo (RFC 4918 §14.11).");
  const scope = child(m.body, dav("lockscope"))?.children[0]?.name;
  if (scope !== dav("exclusive") && scope !== dav("shared")) {
    throw new BadRequest("DAV:lockscope must hold DAV:exclusive or DAV:shared.");
  }
  if (child(m.body, dav("locktype"))?.children[0]?.name !== dav("write")) {
    throw new BadRequest("Only write locks exist (RFC 4918 §7): DAV:locktype must hold DAV:write.");
  }
  const owner = child(m.body, dav("owner"));
  const ownerXml = owner ? serializeContent(owner) : undefined;
  if (ownerXml && Buffer.byteLength(ownerXml) > MAX_OWNER_BYTES) {
    throw new BadRequest(
      `DAV:owner holds ${Buffer.byteLength(ownerXml)} bytes; at most ${MAX_OWNER_BYTES} are kept.`,
    );
  }
  return {
    info: {
      scope: scope === dav("exclusive") ? "exclusive" : "shared",
      ownerXml: owner ? serializeContent(owner) : undefined,
    },
    depth,
    timeout,
  };
}

/** DAV:activelock (RFC 4918 §14.1) of one lock. */
export function activeLock(l: LockRecord): XmlNode {
  return {
    name: dav("activelock"),
    value: [
      { name: dav("locktype"), value: [{ name: dav("write") }] },
      { name: dav("lockscope"), value: [{ name: dav(l.scope) }] },
      { name: dav("depth"), value: l.depth === "0" ? "0" : "infinity" },
      ...(l.owner !== undefined ? [{ name: dav("owner"), value: { raw: l.owner } }] : []),
      { name: dav("timeout"), value: `Second-${Math.max(0, Math.round((l.expires - Date.now()) / 1000))}` },
      { name: dav("locktoken"), value: [{ name: dav("href"), value: l.token }] },
      { name: dav("lockroot"), value: [{ name: dav("href"), value: l.root }] },
    ],
  };
}

function lockAnswer(status: number, l: LockRecord, withToken: boolean): DavResponse {
  const w = new XmlWriter("{DAV:}prop");
  w.node(w.root, { name: dav("lockdiscovery"), value: [activeLock(l)] });
  return {
    status,
    headers: {
      "content-type": "application/xml; charset=utf-8",
      ...(withToken ? { "lock-token": `<${l.token}>` } : {}),
    },
    body: w.toString(),
  };
}

export async function lock(m: MethodContext, plan: LockPlan): Promise<DavResponse> {
  const scope = lockScopeOf(m.address);
  if (!scope) throw new Conflict("Nothing can be locked here.");
  if (m.address.type === "object") checkName(m.address.object, "resource");
  if (m.address.type === "collection") checkName(m.address.collection, "collection");
  const t = m.target;
  if (t.type === "unmapped" && t.parent?.type !== "collection" && m.address.type === "object") {
    // RFC 4918 §9.10.4: a LOCK on an unmapped URL whose parent does not exist.
    throw new Conflict("The parent collection does not exist.");
  }
  if (t.type === "unmapped" && m.address.type !== "object")
    throw new Conflict("Nothing exists at this URL to lock.");
  const store = m.ctx.store;
  if (!plan.info) {
    // A refresh: the If header names the lock (RFC 4918 §9.10.2).
    const covering = await locksCovering(store, scope.owner, scope.path, scope.ancestors);
    const held = covering.find((l) => m.tokens.includes(l.token));
    if (!held)
      throw new PreconditionFailed(
        "A LOCK without a body refreshes the lock its If header names; it names none here.",
      );
    const root = addressOfHref(held.root);
    const refreshed = await refreshLock(
      store,
      scope.owner,
      held.root,
      held.token,
      plan.timeout,
      root && rootedIn(root),
    );
    return lockAnswer(200, refreshed, false);
  }
  try {
    const granted = await createLock(
      store,
      {
        owner: scope.owner,
        path: scope.path,
        scope: plan.info.scope,
        depth: scope.collection ? plan.depth : "0",
        ownerXml: plan.info.ownerXml,
        principal: m.user.name,
        timeout: plan.timeout,
        ancestors: scope.ancestors,
        collection: scope.collection,
        within: rootedIn(m.address),
      },
      `urn:uuid:${randomUUID()}`,
    );
    if (t.type === "unmapped" && t.parent?.type === "collection") await createEmpty(m, t.parent.col, granted);
    return lockAnswer(t.type === "unmapped" ? 201 : 200, granted, true);
  } catch (err) {
    if (err instanceof LockConflict) {
      throw new Locked(`${err.root} is locked.`, { name: dav("no-conflicting-lock"), hrefs: [err.root] });
    }
    throw err;
  }
}

/**
 * The calendar or address book a lock at this address is rooted in (a member's, or the collection
 * itself), whose item records when its last lock runs out; none for a home or a files folder,
 * whose locks member writes always check path by path.
 */
function rootedIn(a: Address): CollectionRef | undefined {
  if ((a.type !== "object" && a.type !== "collection") || nests(a.kind)) return undefined;
  return { kind: a.kind, owner: a.user, name: a.collection };
}

/**
 * RFC 4918 §7.3: a LOCK on an unmapped URL makes an empty resource there, where the collection's
 * kind accepts one (a folder does). A calendar or address book holds no empty member: there the
 * lock reserves the URL until a PUT with its token. If the empty resource cannot be written, the
 * lock is taken back, so a failed LOCK leaves nothing behind.
 */
async function createEmpty(m: MethodContext, col: CollectionRecord, granted: LockRecord): Promise<void> {
  if (m.address.type !== "object") return;
  const name = m.address.object;
  let member;
  try {
    member = m.registry
      .collectionType(col.kind)
      .validateMember(col, Buffer.alloc(0), undefined, m.ctx.config, name);
  } catch (err) {
    if (err instanceof DavError) return;
    throw err;
  }
  const write = {
    ctx: m.ctx,
    user: m.user,
    col,
    name,
    op: "put" as const,
    membership: true,
    tokens: [...m.tokens, granted.token],
  };
  try {
    const ref = { kind: col.kind, owner: col.owner, name: col.name };
    const result = await putObject(
      m.ctx.store,
      ref,
      { ...member, name },
      { ifNoneMatch: "*" },
      {
        first: col,
        existing: null,
        guards: m.registry.guards(write),
      },
    );
    await m.registry.afterWrite({ ...write, etag: result.etag });
  } catch (err) {
    // Written meanwhile by someone else: the lock now covers what is there.
    if (err instanceof EtagMismatch || err instanceof AlreadyExists) return;
    await removeLock(m.ctx.store, col.owner, granted.root, granted.token).catch(() => undefined);
    throw err;
  }
}

export async function unlock(m: MethodContext): Promise<DavResponse> {
  const header = m.req.headers["lock-token"]?.trim();
  const token = header && /^<([^<>]+)>$/.exec(header)?.[1];
  if (!token) throw new BadRequest("UNLOCK needs a Lock-Token header: <urn:uuid:…> (RFC 4918 §10.5).");
  const scope = lockScopeOf(m.address);
  const mismatch = () =>
    new Conflict("The token names no lock on the request URI.", {
      name: dav("lock-token-matches-request-uri"),
    });
  if (!scope) throw mismatch();
  const held = (await locksCovering(m.ctx.store, scope.owner, scope.path, scope.ancestors)).find(
    (l) => l.token === token,
  );
  if (!held) throw mismatch();
  try {
    await removeLock(m.ctx.store, scope.owner, held.root, token);
  } catch (err) {
    if (err instanceof LockNotFound) throw mismatch();
    throw err;
  }
  return { status: 204, headers: {} };
}

export type { XmlElement };
