/**
 * POST to the scheduling outbox (RFC 6638 §5, CalDAV scheduling's free-busy lookup): a VFREEBUSY
 * REQUEST naming attendees answers a CALDAV:schedule-response with each one's busy time, from
 * the calendars they mark opaque (schedule-calendar-transp) and the events that are not
 * TRANSPARENT or cancelled. This is what Apple Calendar's availability panel asks.
 */
import { freeBusy } from "../caldav/freebusy.js";
import { busyTexts } from "../caldav/reports.js";
import { utcToSeconds } from "../caldav/ical-time.js";
import { Forbidden, UnsupportedMediaType } from "../errors.js";
import { mediaType, type DavResponse } from "../http/message.js";
import { listCollections } from "../store/collections.js";
import type { Store } from "../store/users.js";
import type { ResourceContext } from "../webdav/registry.js";
import { XmlWriter } from "../xml/build.js";
import { cal, dav, NS } from "../xml/names.js";
import { Addresses } from "./addresses.js";
import { MAX_ATTENDEES } from "./implicit.js";
import { isSchedulingBox } from "./deliver.js";
import { normalAddress, readMessage, type Message } from "./itip.js";

export const TRANSP = cal("schedule-calendar-transp");

/** The longest range one request may ask about: each attendee's events in it are read and expanded. */
const MAX_RANGE_DAYS = 366;

const invalid = (message: string) => new Forbidden(message, { name: cal("valid-scheduling-message") });

export async function outboxPost(m: ResourceContext): Promise<DavResponse> {
  const type = mediaType(m.req.headers["content-type"]);
  if (type !== "text/calendar") {
    throw new UnsupportedMediaType("A scheduling request is text/calendar (RFC 6638 §5).", {
      name: cal("supported-calendar-data"),
    });
  }
  let msg: Message;
  try {
    msg = readMessage(m.req.body.toString("utf8"));
  } catch {
    throw new Forbidden("The scheduling request is not valid iCalendar.", {
      name: cal("valid-calendar-data"),
    });
  }
  const fb = msg.root.getFirstSubcomponent("vfreebusy");
  if (msg.method !== "REQUEST" || !fb) {
    throw invalid(
      "The outbox answers free-busy requests (METHOD:REQUEST with a VFREEBUSY); invitations are sent by storing the event in a calendar.",
    );
  }
  const who = new Addresses(m.ctx.store);
  const organizer = fb.getFirstPropertyValue("organizer");
  if (!organizer || !(await who.isMine(m.user.name, String(organizer)))) {
    throw new Forbidden("The ORGANIZER of a free-busy request must be one of your own addresses.", {
      name: cal("organizer-allowed"),
    });
  }
  const times = ["dtstart", "dtend"].map((p) => {
    const t = fb.getFirstPropertyValue(p) as { toString(): string; isDate?: boolean } | null;
    const utc = t ? String(t).replace(/[-:]/g, "").replace(/\.\d+/, "") : "";
    return utcToSeconds(utc) === undefined ? undefined : utc;
  });
  const [start, end] = times;
  if (!start || !end) throw invalid("A free-busy request needs DTSTART and DTEND in UTC.");
  const span = utcToSeconds(end)! - utcToSeconds(start)!;
  if (span <= 0 || span > MAX_RANGE_DAYS * 86400) {
    throw invalid(
      `A free-busy request asks about a range of up to ${MAX_RANGE_DAYS} days, ending after it starts.`,
    );
  }
  const attendees = fb.getAllProperties("attendee").map((a) => String(a.getFirstValue()));
  if (attendees.length === 0) throw invalid("A free-busy request names its ATTENDEEs.");
  if (attendees.length > MAX_ATTENDEES)
    throw invalid(`A free-busy request names at most ${MAX_ATTENDEES} attendees.`);
  // Echoed into the reply's content lines: one line each, whatever the request held.
  const line = (v: unknown) =>
    String(v)
      .replace(/[\r\n]+/g, " ")
      .slice(0, 1000);
  const uid = fb.getFirstPropertyValue("uid");
  const w = new XmlWriter(cal("schedule-response"), [NS.CALDAV]);
  for (const address of attendees) {
    const r = await who.resolve(address);
    const resp = w.el(w.root, cal("response"));
    w.el(w.el(resp, cal("recipient")), dav("href"), address);
    if (r.type !== "user") {
      // 3.7: this server holds no calendar of that address (RFC 6638 §3.2.9).
      w.el(resp, cal("request-status"), "3.7;Invalid calendar user");
      continue;
    }
    const texts = await userBusyTexts(m.ctx.store, r.name, { start, end });
    const reply = freeBusy(
      texts,
      { start, end },
      {
        method: "REPLY",
        lines: [
          ...(uid ? [`UID:${line(uid)}`] : []),
          `ORGANIZER:${line(organizer)}`,
          `ATTENDEE:${line(normalAddress(address))}`,
        ],
      },
    );
    w.el(resp, cal("request-status"), "2.0;Success");
    w.el(resp, cal("calendar-data"), reply);
  }
  return { status: 200, headers: { "content-type": "application/xml; charset=utf-8" }, body: w.toString() };
}

/** The events of a user's opaque calendars that overlap the range. */
async function userBusyTexts(
  store: Store,
  owner: string,
  range: { start: string; end: string },
): Promise<string[]> {
  const cols = (await listCollections(store, "calendar", owner)).filter(
    (c) => !isSchedulingBox(c) && c.props[TRANSP] !== "transparent",
  );
  const texts: string[] = [];
  for (const col of cols) texts.push(...(await busyTexts(store, col.id, range)));
  return texts;
}
