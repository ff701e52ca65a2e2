/**
 * What calendars accept, in one place: the component types a calendar may be created for, the
 * default set, the date range (RFC 4791 §5.2.3, §5.2.6, §5.2.7) that PUT enforces and the
 * calendar's properties announce, and how components nest (for PUT and for query filters).
 */
/** Component types a supported-calendar-component-set may name. */
export const CALENDAR_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"];
/** A calendar created without a supported-calendar-component-set accepts these. */
export const DEFAULT_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL"];
/** CALDAV:min-date-time and max-date-time. */
export const MIN_DATE_TIME = "19000101T000000Z";
export const MAX_DATE_TIME = "29991231T235959Z";

/** Sub-components RFC 5545 §3.6 and RFC 7953 allow, by parent, in lower case (X- ones go anywhere). */
export const CHILD_COMPONENTS: Record<string, string[]> = {
  vcalendar: ["vevent", "vtodo", "vjournal", "vfreebusy", "vtimezone", "vavailability"],
  vevent: ["valarm"],
  vtodo: ["valarm"],
  vtimezone: ["standard", "daylight"],
  vavailability: ["available"],
};
