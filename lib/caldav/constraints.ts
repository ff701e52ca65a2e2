/**
 * What calendars accept, in one place: the component types a calendar may be created for, the
 * default set, and the date range (RFC 4791 §5.2.3, §5.2.6, §5.2.7) that PUT enforces and the
 * calendar's properties announce.
 */
/** Component types a supported-calendar-component-set may name. */
export const CALENDAR_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"];
/** A calendar created without a supported-calendar-component-set accepts these. */
export const DEFAULT_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL"];
/** CALDAV:min-date-time and max-date-time. */
export const MIN_DATE_TIME = "19000101T000000Z";
export const MAX_DATE_TIME = "29991231T235959Z";
