/**
 * The CalDAV module (RFC 4791 calendar-access): calendars as a kind of collection, MKCALENDAR, the
 * calendar REPORTs, the calendar and principal properties, and the read-free-busy privilege.
 * Everything CalDAV adds to the server is listed here.
 */
import { multiget } from "../webdav/multiget.js";
import type { DavModule } from "../webdav/registry.js";
import { cal } from "../xml/names.js";
import { calendars } from "./collection.js";
import { mkcalendar } from "./mkcalendar.js";
import { caldavProperties } from "./properties.js";
import { calendarQuery, freeBusyQuery, onCalendar } from "./reports.js";

export const caldav: DavModule = {
  name: "caldav",
  compliance: ["calendar-access"],
  privileges: [cal("read-free-busy")],
  methods: {
    MKCALENDAR: {
      allowedOn: (a) => a.type === "collection" && a.kind === "calendar",
      creates: true,
      xmlBody: { unreadable: 400 },
      run: mkcalendar,
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
