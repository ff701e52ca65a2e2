/**
 * The CalDAV module (RFC 4791 calendar-access): calendars as a kind of collection, MKCALENDAR, the
 * calendar REPORTs, the calendar and principal properties, and the read-free-busy privilege.
 * Everything CalDAV adds to the server is listed here.
 */
import { createCollectionAt } from "../webdav/mkcol.js";
import { multiget } from "../webdav/multiget.js";
import type { DavModule } from "../webdav/registry.js";
import { inKind } from "../webdav/target.js";
import { cal } from "../xml/names.js";
import { calendars } from "./collection.js";
import { prepareMkcalendar } from "./mkcalendar.js";
import { caldavProperties } from "./properties.js";
import { calendarQuery, freeBusyQuery } from "./reports.js";

/** Calendar reports run on a calendar, or on one of its objects (RFC 4791 §7.8, §7.9, §7.10). */
const onCalendar = inKind("calendar");

export const caldav: DavModule = {
  name: "caldav",
  compliance: ["calendar-access"],
  privileges: [cal("read-free-busy")],
  methods: {
    MKCALENDAR: {
      allowedOn: (a) => a.type === "collection" && a.kind === "calendar",
      // In an address-book home or inside a calendar: 403 calendar-collection-location-ok (409 without a parent).
      explainsOn: (a) => a.type === "collection" || a.type === "object",
      creates: true,
      // Whether something exists at the URL is the create's own condition (405 when it does).
      member: () => "skip",
      xmlBody: { unreadable: 400 },
      prepare: prepareMkcalendar,
      run: createCollectionAt,
    },
  },
  reports: [
    { name: cal("calendar-multiget"), on: onCalendar, run: multiget },
    { name: cal("calendar-query"), on: onCalendar, run: calendarQuery },
    { name: cal("free-busy-query"), on: onCalendar, run: freeBusyQuery },
  ],
  properties: caldavProperties,
  collections: [calendars],
};
