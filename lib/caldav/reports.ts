/**
 * CalDAV REPORTs: calendar-multiget (RFC 4791 §7.9), calendar-query (§7.8) and free-busy-query
 * (§7.10). Time-range queries read candidates through the span index and parse only those.
 */
import { BadRequest, Forbidden, NotFound } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { getCollection, type CollectionRecord } from "../store/collections.js";
import { getObjects, listObjects, type ObjectRecord } from "../store/objects.js";
import { objectsOverlapping } from "../store/span-index.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { cal, dav } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import type { MethodContext } from "../webdav/method.js";
import { depthOf, wantsMinimal } from "../webdav/method.js";
import { memberResponse, needsBody, parseMemberProps } from "../webdav/member-props.js";
import { parseAddress, pathFromHref } from "../webdav/paths.js";
import { propertyEnv } from "../webdav/propfind.js";
import { filterTimeRange, matchesCalendarFilter, parseCalendarFilter, type CompFilter } from "./filter.js";
import { freeBusy } from "./freebusy.js";
import { utcToSeconds } from "./ical-time.js";

async function targetCollection(m: MethodContext): Promise<{ col: CollectionRecord; only?: string }> {
  const a = m.address;
  if (a.type !== "collection" && a.type !== "object") {
    throw new Forbidden("This report works on a calendar or its objects.", { name: dav("supported-report") });
  }
  const col = await getCollection(m.ctx.store, { kind: a.kind, owner: a.user, name: a.collection });
  if (!col) throw new NotFound();
  return { col, only: a.type === "object" ? a.object : undefined };
}

/** RFC 4791 §7.9 / RFC 6352 §8.7: members named by href; unknown ones answer 404 in the multistatus. */
export async function multiget(m: MethodContext, body: XmlElement): Promise<DavResponse> {
  const props = parseMemberProps(body);
  const hrefs = body.children.filter((c) => c.name === dav("href")).map((h) => h.text.trim());
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  // Group the requested hrefs by collection, so each collection is read once and its members in batches.
  const groups = new Map<
    string,
    {
      names: { href: string; name: string }[];
      kind: "calendar" | "addressbook";
      user: string;
      collection: string;
    }
  >();
  const responses: MultistatusResponse[] = [];
  for (const href of hrefs) {
    const path = pathFromHref(href);
    let address;
    try {
      address = path ? parseAddress(path) : undefined;
    } catch {
      address = undefined;
    }
    if (!address || address.type !== "object") {
      responses.push({ href, status: 404 });
      continue;
    }
    if (address.user !== m.user.name) {
      responses.push({ href, status: 403 });
      continue;
    }
    const key = `${address.kind}/${address.collection}`;
    if (!groups.has(key))
      groups.set(key, { names: [], kind: address.kind, user: address.user, collection: address.collection });
    groups.get(key)!.names.push({ href, name: address.object });
  }
  for (const g of groups.values()) {
    const col = await getCollection(m.ctx.store, { kind: g.kind, owner: g.user, name: g.collection });
    const objects = col
      ? await getObjects(
          m.ctx.store,
          col.id,
          g.names.map((n) => n.name),
          needsBody(props),
        )
      : new Map<string, ObjectRecord>();
    for (const { href, name } of g.names) {
      const obj = objects.get(name);
      responses.push(col && obj ? memberResponse(col, obj, props, env, minimal) : { href, status: 404 });
    }
  }
  return multistatusResponse(renderMultistatus(responses));
}

/** The candidates a filter can match: by index span when it has a time range, else every member. */
/**
 * The objects a filter can match, with their bodies: through the span index and a batch read when
 * the filter has a time range, else one paginated listing that carries the bodies already.
 */
async function candidates(
  m: MethodContext,
  col: CollectionRecord,
  filter: CompFilter,
  only?: string,
): Promise<ObjectRecord[]> {
  const fetch = async (names: string[]) => {
    const found = await getObjects(m.ctx.store, col.id, names, true);
    return names.flatMap((n) => found.get(n) ?? []);
  };
  if (only) return fetch([only]);
  const range = filterTimeRange(filter);
  const wanted = filter.compFilters.filter((f) => !f.isNotDefined).map((f) => f.name.toUpperCase());
  const matchesComp = (comp: string) => !wanted.length || wanted.includes(comp.toUpperCase());
  if (range) {
    const hits = await objectsOverlapping(m.ctx.store, col.id, range);
    return fetch(hits.filter((c) => matchesComp(c.comp)).map((c) => c.name));
  }
  return (await listObjects(m.ctx.store, col.id, true)).filter((o) => matchesComp(o.comp));
}

function timezoneOf(body: XmlElement, col: CollectionRecord): string | undefined {
  const tz = child(body, cal("timezone"))?.text;
  return tz && tz.trim() ? tz : col.props[cal("calendar-timezone")];
}

export async function calendarQuery(m: MethodContext, body: XmlElement): Promise<DavResponse> {
  const { col, only } = await targetCollection(m);
  const filterEl = child(body, cal("filter"));
  if (!filterEl) throw new Forbidden("calendar-query needs a CALDAV:filter.", { name: cal("valid-filter") });
  const filter = parseCalendarFilter(filterEl);
  if (!only && depthOf(m.req, "0") === "0") {
    // Depth 0 on the calendar itself: the collection is not a calendar object, so nothing matches.
    return multistatusResponse(renderMultistatus([]));
  }
  const props = parseMemberProps(body);
  const objects = await candidates(m, col, filter, only);
  const timezone = timezoneOf(body, col);
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  const responses: MultistatusResponse[] = [];
  for (const obj of objects) {
    if (!obj.body) continue;
    if (!matchesCalendarFilter(obj.body.toString("utf8"), filter, { timezone })) continue;
    responses.push(memberResponse(col, obj, props, env, minimal));
  }
  return multistatusResponse(renderMultistatus(responses));
}

export async function freeBusyQuery(m: MethodContext, body: XmlElement): Promise<DavResponse> {
  const { col } = await targetCollection(m);
  const tr = child(body, cal("time-range"));
  const start = tr?.attrs["{}start"];
  const end = tr?.attrs["{}end"];
  if (!tr || !start || !end || utcToSeconds(start) === undefined || utcToSeconds(end) === undefined) {
    throw new BadRequest(
      "free-busy-query needs a CALDAV:time-range with UTC start and end (e.g. 20260101T000000Z).",
    );
  }
  const names = (await objectsOverlapping(m.ctx.store, col.id, { start, end }))
    .filter((c) => c.comp === "VEVENT" || c.comp === "VFREEBUSY")
    .map((c) => c.name);
  const objects = await getObjects(m.ctx.store, col.id, names, true);
  const texts = [...objects.values()].map((o) => o.body!.toString("utf8"));
  const text = freeBusy(texts, { start, end }, { timezone: col.props[cal("calendar-timezone")] });
  return { status: 200, headers: { "content-type": "text/calendar; charset=utf-8" }, body: text };
}
