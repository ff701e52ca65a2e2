/**
 * The sync-collection REPORT (RFC 6578) on calendars and address books. Both the initial sync
 * (empty token) and a delta sync read the collection's change log with one key-range Query, so a
 * second sync costs work in proportion to what changed: the changed members are then fetched with
 * BatchGetItem, and removed ones are reported as 404. The log is complete from sequence 0, so a
 * truncated answer (DAV:limit) can always hand out a token in the middle of it (§3.6).
 */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { changesBetween } from "../store/change-log.js";
import { getObjects } from "../store/objects.js";
import { memberResponse, needsBody, parseMemberProps } from "../webdav/member-response.js";
import { collectionHref, objectHref } from "../webdav/paths.js";
import { propertyEnv } from "../webdav/propfind.js";
import type { MethodContext } from "../webdav/registry.js";
import { wantsMinimal } from "../webdav/request.js";
import type { Resource } from "../webdav/target.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import { parseSyncToken, syncToken } from "./token.js";

const invalidToken = (why: string) =>
  new Forbidden(`Invalid sync token: ${why}. Do a full sync.`, { name: dav("valid-sync-token") });

export async function syncCollection(
  m: MethodContext & { target: Resource },
  body: XmlElement,
): Promise<DavResponse> {
  if (m.target.type !== "collection") throw new Error("sync-collection runs on collections only");
  const col = m.target.col;

  const level = child(body, dav("sync-level"))?.text.trim() ?? "1";
  if (level !== "1" && level !== "infinite") throw new BadRequest(`Unsupported sync-level '${level}'.`);
  const tokenText = child(body, dav("sync-token"))?.text.trim() ?? "";
  let from = 0;
  const initial = tokenText === "";
  if (!initial) {
    const token = parseSyncToken(tokenText);
    if (!token) throw invalidToken("not a token of this server");
    if (token.id !== col.id) throw invalidToken("it belongs to another collection");
    if (token.seq > col.seq) throw invalidToken("it is newer than the collection");
    from = token.seq;
  }
  const limitText = child(child(body, dav("limit")) ?? body, dav("nresults"))?.text.trim();
  const limit = limitText !== undefined && child(body, dav("limit")) ? Number(limitText) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new BadRequest("DAV:nresults must be a positive integer.");

  // Latest operation per member since the token, in log order.
  const changes = await changesBetween(m.ctx.store, col.id, from, col.seq);
  const latest = new Map<string, { op: string; seq: number }>();
  for (const c of changes) {
    if (c.op === "props") continue;
    latest.delete(c.name);
    latest.set(c.name, { op: c.op, seq: c.seq });
  }
  let entries = [...latest.entries()];
  if (initial) entries = entries.filter(([, e]) => e.op !== "delete");

  let newSeq = col.seq;
  let truncated = false;
  if (limit !== undefined && entries.length > limit) {
    entries.sort((x, y) => x[1].seq - y[1].seq);
    entries = entries.slice(0, limit);
    newSeq = entries[entries.length - 1][1].seq;
    truncated = true;
  }

  const props = parseMemberProps(m.registry, body);
  const names = entries.filter(([, e]) => e.op === "put").map(([n]) => n);
  const objects = await getObjects(m.ctx.store, col.id, names, needsBody(props));
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  const responses: MultistatusResponse[] = [];
  for (const [name] of entries) {
    const obj = objects.get(name);
    if (obj) responses.push(memberResponse(col, obj, props, env, minimal));
    else if (!initial) responses.push({ href: objectHref(col.kind, col.owner, col.name, name), status: 404 });
  }
  if (truncated) {
    // RFC 6578 §3.6: the request-URI with 507 says "there is more; sync again from the new token".
    responses.push({
      href: collectionHref(col.kind, col.owner, col.name),
      status: 507,
      error: { name: dav("number-of-matches-within-limits") },
    });
  }
  return multistatusResponse(
    renderMultistatus(responses, { syncToken: syncToken({ id: col.id, seq: newSeq }) }),
  );
}
