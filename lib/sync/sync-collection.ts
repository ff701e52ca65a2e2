/**
 * The sync-collection REPORT (RFC 6578) on calendars, address books and their homes. On a
 * collection, both the initial sync (empty token) and a delta sync read the collection's change
 * log with one key-range Query, so a second sync costs work in proportion to what changed: the
 * changed members are then fetched with BatchGetItem, and removed ones are reported as 404. The log
 * is complete from sequence 0, so a truncated answer (DAV:limit) can always hand out a token in the
 * middle of it (§3.6). On a home (as Apple Calendar polls it) the members are the collections: a
 * delta reports those created, changed (properties or members) or removed since the token, from
 * the home's own log and the sequences of the collections the token has seen.
 */
import { BadRequest, DavError, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { changesBetween, homeChangesBetween, type ChangeEntry } from "../store/change-log.js";
import { getHomeSeq, listCollections, type CollectionRecord } from "../store/collections.js";
import { getObjects } from "../store/objects.js";
import { memberResponse, needsBody, parseMemberProps } from "../webdav/member-response.js";
import { collectionHref } from "../webdav/paths.js";
import { propertyEnv, propstatsFor } from "../webdav/propfind.js";
import type { ResourceContext } from "../webdav/registry.js";
import { wantsMinimal } from "../webdav/request.js";
import { collectionTarget, colHref, memberHref, type HomeTarget } from "../webdav/target.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import { homeLogId, parseSyncToken, syncToken } from "./token.js";

const invalidToken = (why: string) =>
  new Forbidden(`Invalid sync token: ${why}. Do a full sync.`, { name: dav("valid-sync-token") });

interface SyncRequest {
  level: "1" | "infinite";
  /** The point of the log the client has seen: 0 for an initial sync. */
  from: number;
  /** A home token's record of its collections' sequences. */
  seen?: Map<string, number>;
  initial: boolean;
  limit?: number;
}

/** The body's sync-level, sync-token (checked against the log it must belong to) and limit. */
function readRequest(body: XmlElement, log: { id: string; seq: number }): SyncRequest {
  const level = child(body, dav("sync-level"))?.text.trim() ?? "1";
  if (level !== "1" && level !== "infinite") throw new BadRequest(`Unsupported sync-level '${level}'.`);
  const tokenText = child(body, dav("sync-token"))?.text.trim() ?? "";
  let from = 0;
  let seen: Map<string, number> | undefined;
  if (tokenText !== "") {
    const token = parseSyncToken(tokenText);
    if (!token) throw invalidToken("not a token of this server");
    if (token.id !== log.id) throw invalidToken("it belongs to another collection");
    if (token.seq > log.seq) throw invalidToken("it is newer than the collection");
    from = token.seq;
    if (token.mark !== undefined) {
      seen = decodeSeen(token.mark);
      if (!seen) throw invalidToken("its record of collections is damaged");
    }
  }
  const limitText = child(child(body, dav("limit")) ?? body, dav("nresults"))?.text.trim();
  const limit = limitText !== undefined && child(body, dav("limit")) ? Number(limitText) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new BadRequest("DAV:nresults must be a positive integer.");
  return { level, from, seen, initial: tokenText === "", limit };
}

/**
 * The latest change per name since the token, in log order, at most `limit` of them: with the
 * point of the log the answer reaches (the new token) and whether it stopped short. `skipProps`:
 * changes of the collection's own properties are no member's; `initial`: nothing was there before,
 * so deletions are not reported.
 */
function latestChanges(
  changes: ChangeEntry[],
  upTo: number,
  limit: number | undefined,
  options: { skipProps: boolean; initial: boolean },
) {
  const latest = new Map<string, { op: string; seq: number }>();
  for (const c of changes) {
    if (options.skipProps && c.op === "props") continue;
    latest.delete(c.name);
    latest.set(c.name, { op: c.op, seq: c.seq });
  }
  let entries = [...latest.entries()];
  if (options.initial) entries = entries.filter(([, e]) => e.op !== "delete");
  if (limit === undefined || entries.length <= limit) return { entries, seq: upTo, truncated: false };
  entries = entries.sort((x, y) => x[1].seq - y[1].seq).slice(0, limit);
  return { entries, seq: entries[entries.length - 1][1].seq, truncated: true };
}

/** RFC 6578 §3.6: the request-URI with 507 says "there is more; sync again from the new token". */
const more = (href: string): MultistatusResponse => ({
  href,
  status: 507,
  error: { name: dav("number-of-matches-within-limits") },
});

export async function syncCollection(m: ResourceContext, body: XmlElement): Promise<DavResponse> {
  if (m.target.type === "home") return syncHome(m, m.target, body);
  if (m.target.type !== "collection") throw new Error("sync-collection runs on collections and homes only");
  const col = m.target.col;
  const request = readRequest(body, col);
  const changes = await changesBetween(m.ctx.store, col.id, request.from, col.seq);
  const { entries, seq, truncated } = latestChanges(changes, col.seq, request.limit, {
    skipProps: true,
    initial: request.initial,
  });
  const props = parseMemberProps(m.registry, body);
  const names = entries.filter(([, e]) => e.op === "put").map(([n]) => n);
  const objects = await getObjects(m.ctx.store, col.id, names, needsBody(props));
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  const responses: MultistatusResponse[] = [];
  for (const [name] of entries) {
    const obj = objects.get(name);
    if (obj) responses.push(memberResponse(col, obj, props, env, minimal));
    else if (!request.initial) responses.push({ href: memberHref(col, name), status: 404 });
  }
  if (truncated) responses.push(more(colHref(col)));
  return multistatusResponse(renderMultistatus(responses, { syncToken: syncToken({ id: col.id, seq }) }));
}

/**
 * sync-collection on a home: its collections. A delta reports those the home's log names since
 * the token (created, properties changed, deleted) and those whose own sequence moved since the
 * token, which carries the sequence of every collection it has seen (their members changed).
 */
async function syncHome(m: ResourceContext, home: HomeTarget, body: XmlElement): Promise<DavResponse> {
  // The sequence first, then the listing: a change in between shows in both, never in neither.
  const seq = await getHomeSeq(m.ctx.store, home.kind, home.user);
  const log = { id: homeLogId(home.kind, home.user), seq };
  const request = readRequest(body, log);
  if (request.level === "infinite") {
    throw new Forbidden("sync-level infinite is not supported on a home; sync each collection.", {
      name: dav("sync-traversal-supported"),
    });
  }
  const props = parseMemberProps(m.registry, body);
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  // Collections shared with the user are in their home too (as their views name them).
  const listed = await listCollections(m.ctx.store, home.kind, home.user, { views: true });
  const nameOf = (c: CollectionRecord) => c.view?.name ?? c.name;
  const response = (col: CollectionRecord): MultistatusResponse => {
    const t = collectionTarget(col);
    return { href: t.href, propstats: propstatsFor(t, props.request, env, minimal) };
  };
  const token = (logSeq: number, seen: Map<string, number>) =>
    syncToken({ id: log.id, seq: logSeq, mark: encodeSeen(seen) });
  const now = new Map(listed.map((c) => [c.id, c.seq] as const));
  if (request.initial) {
    // Collections older than the home's log have no entry in it, so the first answer is a listing.
    if (request.limit !== undefined && listed.length > request.limit) {
      throw new DavError(
        507,
        `The home holds ${listed.length} collections, more than the limit of ${request.limit}.`,
        { name: dav("number-of-matches-within-limits") },
      );
    }
    return multistatusResponse(renderMultistatus(listed.map(response), { syncToken: token(seq, now) }));
  }
  const seen = request.seen ?? new Map<string, number>();
  const changes = await homeChangesBetween(m.ctx.store, home.kind, home.user, request.from, seq);
  const fromLog = latestChanges(changes, seq, request.limit, { skipProps: false, initial: false });
  const byName = new Map(listed.map((c) => [nameOf(c), c] as const));
  const responses: MultistatusResponse[] = fromLog.entries.map(([name, e]) => {
    const col = byName.get(name);
    return col && e.op !== "delete"
      ? response(col)
      : { href: collectionHref(home.kind, home.user, name), status: 404 };
  });
  if (fromLog.truncated) {
    // The next page resumes in the log; member changes wait for the page that ends it. What this
    // page reported is seen as it is now.
    const reported = new Map(seen);
    for (const [name] of fromLog.entries) {
      const col = byName.get(name);
      if (col) reported.set(col.id, col.seq);
    }
    responses.push(more(home.href));
    return multistatusResponse(renderMultistatus(responses, { syncToken: token(fromLog.seq, reported) }));
  }
  const named = new Set(fromLog.entries.map(([name]) => name));
  const touched = listed.filter((c) => !named.has(nameOf(c)) && seen.get(c.id) !== c.seq);
  const room = request.limit === undefined ? touched.length : Math.max(0, request.limit - responses.length);
  const next = new Map(now);
  // What does not fit keeps the sequence the client saw, so the next page reports it.
  for (const c of touched.slice(room)) {
    const before = seen.get(c.id);
    if (before === undefined) next.delete(c.id);
    else next.set(c.id, before);
  }
  responses.push(...touched.slice(0, room).map(response));
  if (touched.length > room) responses.push(more(home.href));
  return multistatusResponse(renderMultistatus(responses, { syncToken: token(seq, next) }));
}

/** A home token's record of the collections it has seen: id and sequence of each, base64url. */
function encodeSeen(seen: Map<string, number>): string {
  return Buffer.from([...seen].map(([id, n]) => `${id}:${n}`).join(",")).toString("base64url");
}

function decodeSeen(mark: string): Map<string, number> | undefined {
  const text = Buffer.from(mark, "base64url").toString("utf8");
  const seen = new Map<string, number>();
  for (const part of text === "" ? [] : text.split(",")) {
    const m = /^([A-Za-z0-9_-]+):(\d{1,12})$/.exec(part);
    if (!m) return undefined;
    seen.set(m[1], Number(m[2]));
  }
  return seen;
}
