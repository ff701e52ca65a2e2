/** REPORT (RFC 3253 §3.6): dispatch on the body's root element to the report that knows it. */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { calendarQuery, freeBusyQuery, multiget } from "../caldav/reports.js";
import { syncCollection } from "../sync/sync-collection.js";
import { cal, card, dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { expandProperty } from "./expand-property.js";
import { xmlBody, type MethodContext } from "./method.js";

const REPORTS: Record<string, (m: MethodContext, body: XmlElement) => Promise<DavResponse>> = {
  [dav("sync-collection")]: syncCollection,
  [dav("expand-property")]: expandProperty,
  [cal("calendar-multiget")]: multiget,
  [cal("calendar-query")]: calendarQuery,
  [cal("free-busy-query")]: freeBusyQuery,
  [card("addressbook-multiget")]: multiget,
};

export async function report(m: MethodContext): Promise<DavResponse> {
  const body = xmlBody(m.req);
  if (!body) throw new BadRequest("REPORT needs an XML body naming the report.");
  const run = REPORTS[body.name];
  if (!run)
    throw new Forbidden(`The report ${body.name} is not supported here.`, { name: dav("supported-report") });
  return run(m, body);
}
