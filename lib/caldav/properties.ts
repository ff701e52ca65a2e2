/**
 * CalDAV's live properties: the principal's calendar-home-set (RFC 4791 §6.2.1),
 * the calendar collection's (RFC 4791 §5.2), Apple's colour and order, and CALDAV:calendar-data
 * (§9.6), which REPORTs compute from each member's body.
 */
import { homeHref } from "../webdav/paths.js";
import { anyText, href, storedText } from "../webdav/properties.js";
import { PropertyRejected, type MemberPropertyDef, type PropertyDef } from "../webdav/registry.js";
import { isCollectionOf, memberHref } from "../webdav/target.js";
import { apple, cal } from "../xml/names.js";
import { parseCalendarDataRequest, renderCalendarData, type CalendarDataSpec } from "./calendar-data.js";
import { timezoneProblem } from "./timezone.js";
import { CALENDAR_COMPONENTS, DEFAULT_COMPONENTS, MAX_DATE_TIME, MIN_DATE_TIME } from "./constraints.js";

const isCal = isCollectionOf("calendar");

function validColor(text: string) {
  const t = text.trim();
  if (!/^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/.test(t))
    throw new PropertyRejected(409, "calendar-color must be #RRGGBB or #RRGGBBAA");
  return { text: t };
}

function validOrder(text: string) {
  const t = text.trim();
  if (!/^-?\d{1,9}$/.test(t)) throw new PropertyRejected(409, "calendar-order must be an integer");
  return { text: t };
}

/** RFC 4791 §5.2.2: a VCALENDAR holding exactly one valid VTIMEZONE, and nothing else. */
function validTimezone(text: string) {
  const problem = timezoneProblem(text);
  if (problem) throw new PropertyRejected(409, `calendar-timezone ${problem}`, cal("valid-calendar-data"));
  return { text };
}

/** RFC 4791 §5.2.3: settable when the calendar is created, protected afterwards. */
function componentSet(comps: string[]) {
  if (comps.length === 0 || comps.some((c) => !CALENDAR_COMPONENTS.includes(c))) {
    throw new PropertyRejected(403, "unsupported component type", cal("supported-calendar-component"));
  }
  return { components: comps };
}

/** RFC 4791 §9.6: the object's text, or the part of it (comp/prop, expand, limits) the request names. */
const calendarData: MemberPropertyDef<CalendarDataSpec | undefined> = {
  // A bare <C:calendar-data/> asks for the whole object.
  parse: (el) =>
    el.children.length || Object.keys(el.attrs).length ? parseCalendarDataRequest(el) : undefined,
  render: (col, obj, spec) =>
    col.kind === "calendar"
      ? renderCalendarData(obj.body.toString("utf8"), spec, {
          timezone: col.props[cal("calendar-timezone")],
          href: memberHref(col, obj.name),
        })
      : undefined,
};

export const caldavProperties: PropertyDef[] = [
  // Principal properties (RFC 4791 §6.2.1; the scheduling ones are the scheduling module's).
  {
    name: cal("calendar-home-set"),
    get: (r) => (r.type === "principal" ? [href(homeHref("calendar", r.user.name))] : undefined),
  },
  // Calendar collection properties (RFC 4791 §5.2).
  {
    name: cal("calendar-description"),
    set: { on: ["calendar"], parse: anyText },
    get: (r) => (isCal(r) ? storedText(r, cal("calendar-description")) : undefined),
  },
  {
    name: cal("calendar-timezone"),
    set: { on: ["calendar"], parse: (el) => validTimezone(el.text) },
    get: (r) => (isCal(r) ? storedText(r, cal("calendar-timezone")) : undefined),
  },
  {
    name: cal("supported-calendar-component-set"),
    set: {
      on: ["calendar"],
      atCreationOnly: true,
      parse: (el) =>
        componentSet(
          el.children
            .filter((c) => c.name === cal("comp"))
            .map((c) => (c.attrs["{}name"] ?? "").toUpperCase()),
        ),
    },
    get: (r) =>
      r.type === "collection" && isCal(r)
        ? (r.col.components ?? DEFAULT_COMPONENTS).map((c) => ({ name: cal("comp"), attrs: { name: c } }))
        : undefined,
  },
  {
    name: cal("supported-calendar-data"),
    get: (r) =>
      isCal(r)
        ? [{ name: cal("calendar-data"), attrs: { "content-type": "text/calendar", version: "2.0" } }]
        : undefined,
  },
  {
    name: cal("max-resource-size"),
    get: (r, env) => (isCal(r) ? String(env.config.maxResourceSize) : undefined),
  },
  { name: cal("min-date-time"), get: (r) => (isCal(r) ? MIN_DATE_TIME : undefined) },
  { name: cal("max-date-time"), get: (r) => (isCal(r) ? MAX_DATE_TIME : undefined) },
  {
    name: apple("calendar-color"),
    set: { on: ["calendar"], parse: (el) => validColor(el.text) },
    get: (r) => (isCal(r) ? storedText(r, apple("calendar-color")) : undefined),
  },
  {
    name: apple("calendar-order"),
    set: { on: ["calendar"], parse: (el) => validOrder(el.text) },
    get: (r) => (isCal(r) ? storedText(r, apple("calendar-order")) : undefined),
  },
  { name: cal("calendar-data"), get: () => undefined, member: calendarData },
];
