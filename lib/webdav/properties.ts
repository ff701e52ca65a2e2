/**
 * The live-property registry. Each property says which resources have it, how to compute its value,
 * whether `allprop` includes it (RFC 4918 §9.1: the RFC 4918 live properties, never the costly
 * CalDAV ones) and whether clients may set it (PROPPATCH), with a validator for settable values.
 * Dead properties are stored per collection and returned verbatim.
 */
import type { ServerConfig } from "../server.js";
import type { XmlNode, XmlValue } from "../xml/build.js";
import { apple, cal, card, cs, dav, NS } from "../xml/names.js";
import { ctag, syncToken } from "../sync/token.js";
import { homeHref, principalHref } from "./paths.js";
import type { Resource } from "./resource.js";

export interface PropertyEnv {
  principal: string;
  email?: string;
  config: ServerConfig;
}

export interface PropertyDef {
  name: string;
  get(r: Resource, env: PropertyEnv): XmlValue | undefined;
  allprop?: boolean;
  /** Settable through PROPPATCH on these resource types; protected otherwise. */
  settableOn?: ("calendar" | "addressbook")[];
  /** Parse a PROPPATCH value (already text) into what is stored; throw a message for a 409. */
  validate?: (text: string) => string;
}

const href = (h: string): XmlNode => ({ name: dav("href"), value: h });
const empty = (name: string): XmlNode => ({ name });
const httpDate = (iso: string) => new Date(iso).toUTCString();

const isCal = (r: Resource) => r.type === "collection" && r.col.kind === "calendar";
const isBook = (r: Resource) => r.type === "collection" && r.col.kind === "addressbook";
const owned = (r: Resource): string | undefined => {
  switch (r.type) {
    case "principal":
      return r.user.name;
    case "home":
      return r.user;
    case "collection":
    case "object":
      return r.col.owner;
    default:
      return undefined;
  }
};

const PRIVILEGES_OWNER = [
  dav("read"),
  dav("write"),
  dav("write-properties"),
  dav("write-content"),
  dav("bind"),
  dav("unbind"),
  dav("read-acl"),
  dav("read-current-user-privilege-set"),
  cal("read-free-busy"),
];

function reports(r: Resource): string[] {
  if (r.type === "collection") {
    return r.col.kind === "calendar"
      ? [
          cal("calendar-multiget"),
          cal("calendar-query"),
          cal("free-busy-query"),
          dav("sync-collection"),
          dav("expand-property"),
        ]
      : [
          card("addressbook-multiget"),
          card("addressbook-query"),
          dav("sync-collection"),
          dav("expand-property"),
        ];
  }
  return [dav("expand-property")];
}

const text = (r: Resource, name: string) => (r.type === "collection" ? r.col.props[name] : undefined);

function validColor(v: string): string {
  const t = v.trim();
  if (!/^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$/.test(t))
    throw new Error("calendar-color must be #RRGGBB or #RRGGBBAA");
  return t;
}
function validOrder(v: string): string {
  const t = v.trim();
  if (!/^-?\d{1,9}$/.test(t)) throw new Error("calendar-order must be an integer");
  return t;
}
function validTimezone(v: string): string {
  // A VCALENDAR holding exactly one VTIMEZONE (RFC 4791 §5.2.2); checked structurally here, deeply by ical.js in CalDAV.
  const t = v.trim();
  const count = (t.match(/^BEGIN:VTIMEZONE\r?$/gm) ?? []).length;
  if (!/^BEGIN:VCALENDAR\r?$/m.test(t) || !/^END:VCALENDAR\r?$/m.test(t) || count !== 1) {
    throw new Error("calendar-timezone must be a VCALENDAR with exactly one VTIMEZONE");
  }
  return v;
}

export const PROPERTIES: PropertyDef[] = [
  {
    name: dav("resourcetype"),
    allprop: true,
    get(r) {
      switch (r.type) {
        case "object":
          return "";
        case "principal":
          return [empty(dav("collection")), empty(dav("principal"))];
        case "collection":
          return [
            empty(dav("collection")),
            empty(r.col.kind === "calendar" ? cal("calendar") : card("addressbook")),
          ];
        default:
          return [empty(dav("collection"))];
      }
    },
  },
  {
    name: dav("displayname"),
    allprop: true,
    settableOn: ["calendar", "addressbook"],
    validate: (v) => v,
    get(r) {
      if (r.type === "principal") return r.user.name;
      if (r.type === "collection") return r.col.props[dav("displayname")] ?? r.col.name;
      if (r.type === "home") return r.kind === "calendar" ? "Calendars" : "Address books";
      return undefined;
    },
  },
  { name: dav("getetag"), allprop: true, get: (r) => (r.type === "object" ? r.obj.etag : undefined) },
  {
    name: dav("getcontenttype"),
    allprop: true,
    get(r) {
      if (r.type === "object") return r.obj.contentType;
      if (r.type === "collection")
        return r.col.kind === "calendar" ? "text/calendar; charset=utf-8" : "text/vcard; charset=utf-8";
      return undefined;
    },
  },
  {
    name: dav("getcontentlength"),
    allprop: true,
    get: (r) => (r.type === "object" ? String(r.obj.size) : undefined),
  },
  {
    name: dav("getlastmodified"),
    allprop: true,
    get(r) {
      if (r.type === "object") return httpDate(r.obj.modified);
      if (r.type === "collection") return httpDate(r.col.modified);
      return undefined;
    },
  },
  {
    name: dav("creationdate"),
    allprop: true,
    get(r) {
      if (r.type === "object") return r.obj.created;
      if (r.type === "collection") return r.col.created;
      return undefined;
    },
  },
  { name: dav("current-user-principal"), get: (_r, env) => [href(principalHref(env.principal))] },
  { name: dav("principal-collection-set"), get: () => [href("/principals/")] },
  {
    name: dav("owner"),
    get(r) {
      const o = owned(r);
      return o ? [href(principalHref(o))] : undefined;
    },
  },
  {
    name: dav("current-user-privilege-set"),
    get(r, env) {
      const mine = owned(r) === env.principal;
      const privs = mine ? PRIVILEGES_OWNER : [dav("read")];
      return privs.map((p) => ({ name: dav("privilege"), value: [empty(p)] }));
    },
  },
  {
    name: dav("supported-report-set"),
    get: (r) =>
      reports(r).map((rep) => ({
        name: dav("supported-report"),
        value: [{ name: dav("report"), value: [empty(rep)] }],
      })),
  },
  { name: cs("getctag"), get: (r) => (r.type === "collection" ? ctag(r.col) : undefined) },
  { name: dav("sync-token"), get: (r) => (r.type === "collection" ? syncToken(r.col) : undefined) },
  { name: dav("quota-used-bytes"), get: (r) => (r.type === "collection" ? String(r.col.bytes) : undefined) },
  {
    name: dav("quota-available-bytes"),
    get: (r, env) =>
      r.type === "collection" ? String(Math.max(0, env.config.quotaBytes - r.col.bytes)) : undefined,
  },
  // Principal properties (RFC 3744, RFC 4791 §6.2.1, RFC 6352 §7.1.1).
  {
    name: dav("principal-URL"),
    get: (r) => (r.type === "principal" ? [href(principalHref(r.user.name))] : undefined),
  },
  { name: dav("alternate-URI-set"), get: (r) => (r.type === "principal" ? [] : undefined) },
  { name: dav("group-membership"), get: (r) => (r.type === "principal" ? [] : undefined) },
  {
    name: cal("calendar-home-set"),
    get: (r) => (r.type === "principal" ? [href(homeHref("calendar", r.user.name))] : undefined),
  },
  {
    name: card("addressbook-home-set"),
    get: (r) => (r.type === "principal" ? [href(homeHref("addressbook", r.user.name))] : undefined),
  },
  {
    name: cal("calendar-user-address-set"),
    get(r) {
      if (r.type !== "principal") return undefined;
      const hrefs = [href(principalHref(r.user.name))];
      const email = r.user.email ?? (r.user.name.includes("@") ? r.user.name : undefined);
      if (email) hrefs.unshift(href(`mailto:${email}`));
      return hrefs;
    },
  },
  { name: cal("calendar-user-type"), get: (r) => (r.type === "principal" ? "INDIVIDUAL" : undefined) },
  {
    name: card("principal-address"),
    get: (r) => (r.type === "principal" ? [] : undefined),
  },
  // Calendar collection properties (RFC 4791 §5.2).
  {
    name: cal("calendar-description"),
    settableOn: ["calendar"],
    validate: (v) => v,
    get: (r) => (isCal(r) ? text(r, cal("calendar-description")) : undefined),
  },
  {
    name: cal("calendar-timezone"),
    settableOn: ["calendar"],
    validate: validTimezone,
    get: (r) => (isCal(r) ? text(r, cal("calendar-timezone")) : undefined),
  },
  {
    name: cal("supported-calendar-component-set"),
    get: (r) =>
      isCal(r) && r.type === "collection"
        ? (r.col.components ?? ["VEVENT", "VTODO", "VJOURNAL"]).map((c) => ({
            name: cal("comp"),
            attrs: { name: c },
          }))
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
  { name: cal("min-date-time"), get: (r) => (isCal(r) ? "19000101T000000Z" : undefined) },
  { name: cal("max-date-time"), get: (r) => (isCal(r) ? "29991231T235959Z" : undefined) },
  {
    name: apple("calendar-color"),
    settableOn: ["calendar"],
    validate: validColor,
    get: (r) => (isCal(r) ? text(r, apple("calendar-color")) : undefined),
  },
  {
    name: apple("calendar-order"),
    settableOn: ["calendar"],
    validate: validOrder,
    get: (r) => (isCal(r) ? text(r, apple("calendar-order")) : undefined),
  },
  // Address book properties (RFC 6352 §6.2).
  {
    name: card("addressbook-description"),
    settableOn: ["addressbook"],
    validate: (v) => v,
    get: (r) => (isBook(r) ? text(r, card("addressbook-description")) : undefined),
  },
  {
    name: card("supported-address-data"),
    get: (r) =>
      isBook(r)
        ? ["3.0", "4.0"].map((version) => ({
            name: card("address-data-type"),
            attrs: { "content-type": "text/vcard", version },
          }))
        : undefined,
  },
  {
    name: card("max-resource-size"),
    get: (r, env) => (isBook(r) ? String(env.config.maxResourceSize) : undefined),
  },
];

export const PROPERTY_MAP = new Map(PROPERTIES.map((p) => [p.name, p]));

/** Namespaces worth declaring up front in responses. */
export const RESPONSE_NAMESPACES = [NS.CALDAV, NS.CARDDAV, NS.CS, NS.APPLE];
