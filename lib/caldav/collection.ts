/**
 * Calendar collections (RFC 4791 §4.2, §5.3.2): what a calendar object resource must be to be
 * stored, the default calendar of a new user, and GET on a calendar (every object merged into one
 * VCALENDAR, for export and subscription).
 */
import { Forbidden } from "../errors.js";
import { mediaType } from "../http/message.js";
import { checkUid } from "../webdav/limits.js";
import type { CollectionType } from "../webdav/registry.js";
import { cal } from "../xml/names.js";
import { DEFAULT_COMPONENTS, MAX_DATE_TIME, MIN_DATE_TIME } from "./constraints.js";
import { calendarExporter } from "./export.js";
import { splitCalendar } from "./split.js";
import { validateCalendarObject } from "./validate.js";

export const calendars: CollectionType = {
  kind: "calendar",
  resourcetype: cal("calendar"),
  contentType: "text/calendar; charset=utf-8",
  homeDisplayName: "Calendars",
  locationOk: cal("calendar-collection-location-ok"),
  uidConflict: cal("no-uid-conflict"),
  creationDefaults: { components: DEFAULT_COMPONENTS },
  defaultCollection: (owner) => ({
    kind: "calendar",
    owner,
    name: "default",
    props: { "{DAV:}displayname": "Calendar" },
    components: DEFAULT_COMPONENTS,
  }),
  validateMember(col, body, contentType, config) {
    const type = mediaType(contentType);
    // Absent or generic types are tolerated (some clients omit it); another specific type fails the
    // precondition with 403 (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1), not 415.
    if (type && type !== "text/calendar" && type !== "application/octet-stream" && type !== "text/plain") {
      throw new Forbidden(`Calendar objects must be text/calendar, not ${type}.`, {
        name: cal("supported-calendar-data"),
      });
    }
    const info = validateCalendarObject(body, {
      supportedComponents: col.components ?? DEFAULT_COMPONENTS,
      maxResourceSize: config.maxResourceSize,
      minDateTime: MIN_DATE_TIME,
      maxDateTime: MAX_DATE_TIME,
    });
    checkUid(info.uid, cal("valid-calendar-object-resource"));
    return {
      body,
      contentType: "text/calendar; charset=utf-8",
      uid: info.uid,
      comp: info.componentType,
      spanStart: info.spanStart,
      spanEnd: info.spanEnd,
    };
  },
  imports: { mediaTypes: ["text/calendar"], split: splitCalendar, extension: ".ics" },
  exporter: (col) => calendarExporter({ name: col.props["{DAV:}displayname"] ?? col.name }),
};
