/**
 * Properties of members in REPORT responses: the ordinary PROPFIND properties plus the body-derived
 * ones, CALDAV:calendar-data (with comp/prop subsetting and expansion) and CARDDAV:address-data.
 */
import { BadRequest } from "../errors.js";
import {
  parseCalendarDataRequest,
  renderCalendarData,
  type CalendarDataSpec,
} from "../caldav/calendar-data.js";
import type { CollectionRecord } from "../store/collections.js";
import type { ObjectRecord } from "../store/objects.js";
import type { MultistatusResponse } from "../xml/multistatus.js";
import { cal, card, dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { parsePropfind, propstatsFor, type PropRequest } from "./propfind.js";
import type { PropertyEnv } from "./properties.js";
import { objectResource } from "./resource.js";

const CALENDAR_DATA = cal("calendar-data");
const ADDRESS_DATA = card("address-data");

export interface MemberProps {
  request: PropRequest;
  /** Set when calendar-data was asked for (undefined spec: the whole object). */
  calendarData?: { spec?: CalendarDataSpec };
  addressData?: boolean;
}

/** Whether bodies must be fetched to answer. */
export const needsBody = (p: MemberProps) => p.calendarData !== undefined || p.addressData === true;

/** Read the DAV:prop / allprop / propname child of a REPORT body. */
export function parseMemberProps(report: XmlElement): MemberProps {
  const el = report.children.find((c) => [dav("prop"), dav("allprop"), dav("propname")].includes(c.name));
  if (!el) return { request: { kind: "prop", names: [dav("getetag")] } };
  const request = parsePropfind({ ...report, name: dav("propfind"), children: [el], nodes: [el] });
  const out: MemberProps = { request };
  if (request.kind === "prop") {
    const cd = el.children.find((c) => c.name === CALENDAR_DATA);
    if (cd)
      out.calendarData = {
        spec: cd.children.length || Object.keys(cd.attrs).length ? parseCalendarDataRequest(cd) : undefined,
      };
    if (el.children.some((c) => c.name === ADDRESS_DATA)) out.addressData = true;
  }
  return out;
}

export function memberResponse(
  col: CollectionRecord,
  obj: ObjectRecord,
  props: MemberProps,
  env: PropertyEnv,
  minimal: boolean,
): MultistatusResponse {
  const r = objectResource(col, obj);
  const request: PropRequest =
    props.request.kind === "prop"
      ? { kind: "prop", names: props.request.names.filter((n) => n !== CALENDAR_DATA && n !== ADDRESS_DATA) }
      : props.request;
  const propstats = propstatsFor(r, request, env, minimal);
  const extra = [];
  if (props.calendarData && col.kind === "calendar") {
    if (!obj.body) throw new BadRequest("calendar-data needs the object body");
    const timezone = col.props[cal("calendar-timezone")];
    extra.push({
      name: CALENDAR_DATA,
      value: renderCalendarData(obj.body.toString("utf8"), props.calendarData.spec, { timezone }),
    });
  }
  if (props.addressData && col.kind === "addressbook" && obj.body) {
    extra.push({ name: ADDRESS_DATA, value: obj.body.toString("utf8") });
  }
  if (extra.length) {
    const ok = propstats.find((p) => p.status === 200);
    if (ok) ok.props.push(...extra);
    else propstats.unshift({ status: 200, props: extra });
  }
  return { href: r.href, propstats };
}
