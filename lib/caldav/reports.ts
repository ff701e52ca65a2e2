/**
 * CalDAV REPORTs: calendar-query (RFC 4791 §7.8) and free-busy-query (§7.10), on a calendar or one
 * of its objects. Time-range queries read candidates through the span index and parse only those;
 * calendar-multiget is the shared multiget of the WebDAV core.
 */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import type { CollectionRecord } from "../store/collections.js";
import { getObjects, listObjects, type ObjectRecord } from "../store/objects.js";
import { objectsOverlapping } from "../store/span-index.js";
import type { Store } from "../store/client.js";
import { memberResponse, parseMemberProps } from "../webdav/member-response.js";
import { propertyEnv } from "../webdav/propfind.js";
import type { ResourceContext } from "../webdav/registry.js";
import { depthOf, wantsMinimal } from "../webdav/request.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { cal } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import { filterTimeRange, matchesCalendarFilter, parseCalendarFilter, type CompFilter } from "./filter.js";
import { freeBusy } from "./freebusy.js";
import { utcToSeconds } from "./ical-time.js";
import { timezoneProblem } from "./timezone.js";

/** The calendar a report runs on, and the one object when it runs on an object (read with its body). */
function scope(m: ResourceContext): { col: CollectionRecord; only?: ObjectRecord } {
  const t = m.target;
  if (t.type === "object") return { col: t.col, only: t.obj };
  if (t.type === "collection") return { col: t.col };
  throw new Error("calendar reports run on calendars only");
}

/**
 * The objects a filter can match, with their bodies: through the span index and a batch read when
 * the filter has a time range, else one paginated listing that carries the bodies already.
 */
async function candidates(
  m: ResourceContext,
  col: CollectionRecord,
  filter: CompFilter,
  only?: ObjectRecord,
): Promise<ObjectRecord[]> {
  if (only) return [only];
  const fetch = async (names: string[]) => {
    const found = await getObjects(m.ctx.store, col.id, names, true);
    return names.flatMap((n) => found.get(n) ?? []);
  };
  const range = filterTimeRange(filter);
  const wanted = filter.compFilters.filter((f) => !f.isNotDefined).map((f) => f.name.toUpperCase());
  const matchesComp = (comp: string) => !wanted.length || wanted.includes(comp.toUpperCase());
  if (range) {
    const hits = await objectsOverlapping(m.ctx.store, col.id, range);
    return fetch(hits.filter((c) => matchesComp(c.comp)).map((c) => c.name));
  }
  return (await listObjects(m.ctx.store, col.id, true)).filter((o) => matchesComp(o.comp));
}

/** The query's CALDAV:timezone (RFC 4791 §9.8), else the calendar's own. */
function timezoneOf(body: XmlElement, col: CollectionRecord): string | undefined {
  const tz = child(body, cal("timezone"))?.text;
  if (!tz || !tz.trim()) return col.props[cal("calendar-timezone")];
  const problem = timezoneProblem(tz);
  if (problem) throw new Forbidden(`CALDAV:timezone ${problem}.`, { name: cal("valid-calendar-data") });
  return tz;
}

export async function calendarQuery(m: ResourceContext, body: XmlElement): Promise<DavResponse> {
  const { col, only } = scope(m);
  const filterEl = child(body, cal("filter"));
  if (!filterEl) throw new Forbidden("calendar-query needs a CALDAV:filter.", { name: cal("valid-filter") });
  const filter = parseCalendarFilter(filterEl);
  const timezone = timezoneOf(body, col);
  // RFC 3253 §3.6 makes a missing Depth 0, which on a calendar matches nothing; a client that omits
  // it means the calendar's objects (as other servers take it), so only an explicit Depth: 0 does.
  if (!only && depthOf(m.req, "1") === "0") {
    // Depth 0 on the calendar itself: the collection is not a calendar object, so nothing matches.
    return multistatusResponse(renderMultistatus([]));
  }
  const props = parseMemberProps(m.registry, body);
  const objects = await candidates(m, col, filter, only);
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

/** The bodies of a calendar's events and VFREEBUSYs that may overlap the range (what free-busy reads). */
export async function busyTexts(store: Store, colId: string, range: { start: string; end: string }) {
  const names = (await objectsOverlapping(store, colId, range))
    .filter((c) => c.comp === "VEVENT" || c.comp === "VFREEBUSY")
    .map((c) => c.name);
  const objects = await getObjects(store, colId, names, true);
  return [...objects.values()].map((o) => o.body!.toString("utf8"));
}

export async function freeBusyQuery(m: ResourceContext, body: XmlElement): Promise<DavResponse> {
  const { col } = scope(m);
  const tr = child(body, cal("time-range"));
  const start = tr?.attrs["{}start"];
  const end = tr?.attrs["{}end"];
  if (!tr || !start || !end || utcToSeconds(start) === undefined || utcToSeconds(end) === undefined) {
    throw new BadRequest(
      "free-busy-query needs a CALDAV:time-range with UTC start and end (e.g. 20260101T000000Z).",
    );
  }
  const texts = await busyTexts(m.ctx.store, col.id, { start, end });
  const text = freeBusy(texts, { start, end }, { timezone: col.props[cal("calendar-timezone")] });
  return { status: 200, headers: { "content-type": "text/calendar; charset=utf-8" }, body: text };
}
