/**
 * The live properties of the WebDAV core: RFC 4918 §15, the principal and privilege properties of
 * RFC 3744 and RFC 5397 that discovery needs, quota (RFC 4331) and supported-report-set (RFC 3253
 * §3.1.5). Calendar, address-book and sync properties are registered by their own modules.
 */
import { leafOf } from "../store/folders.js";
import type { XmlNode } from "../xml/build.js";
import { dav } from "../xml/names.js";
import { privilegesOn } from "./access.js";
import { principalHref } from "./paths.js";
import type { PropertyDef } from "./registry.js";
import { ownerOfResource, type Resource } from "./target.js";

export const href = (h: string): XmlNode => ({ name: dav("href"), value: h });
export const empty = (name: string): XmlNode => ({ name });
const httpDate = (iso: string) => new Date(iso).toUTCString();

/**
 * Text a client set on a collection (displayname, descriptions, colours); through a sharee's view,
 * their own display name and colour where they set one.
 */
export const storedText = (r: Resource, name: string) =>
  r.type === "collection" ? (r.col.view?.props[name] ?? r.col.props[name]) : undefined;
/** Settable text kept as the client sent it. */
export const anyText = (el: { text: string }) => ({ text: el.text });

export const webdavProperties: PropertyDef[] = [
  {
    name: dav("resourcetype"),
    allprop: true,
    get(r, env) {
      switch (r.type) {
        case "object":
          return "";
        case "principal":
          return [empty(dav("collection")), empty(dav("principal"))];
        case "collection": {
          const kind = env.registry.resourcetypeOf(r.col);
          return [
            empty(dav("collection")),
            ...(kind ? [empty(kind)] : []),
            ...env.registry.markersOf(r.col).map(empty),
          ];
        }
        default:
          return [empty(dav("collection"))];
      }
    },
  },
  {
    name: dav("displayname"),
    allprop: true,
    set: { parse: anyText },
    get(r, env) {
      if (r.type === "principal") return r.user.name;
      if (r.type === "collection") return storedText(r, dav("displayname")) ?? leafOf(r.col.name);
      if (r.type === "home") return env.registry.collectionType(r.kind).homeDisplayName;
      return undefined;
    },
  },
  { name: dav("getetag"), allprop: true, get: (r) => (r.type === "object" ? r.obj.etag : undefined) },
  {
    name: dav("getcontenttype"),
    allprop: true,
    get(r, env) {
      if (r.type === "object") return r.obj.contentType;
      if (r.type === "collection") return env.registry.collectionType(r.col.kind).contentType;
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
  {
    name: dav("current-user-principal"),
    // RFC 6764 discovery lands on the context path `/`. A client that follows the well-known
    // redirect may drop the PROPFIND body (python-requests does on a 301) and so asks for allprop
    // there: the answer still tells it who it is (RFC 4918 §9.1 allows more live properties).
    allprop: (r) => r.type === "root",
    get: (_r, env) => [href(principalHref(env.principal))],
  },
  { name: dav("principal-collection-set"), get: () => [href("/principals/")] },
  {
    name: dav("owner"),
    get(r) {
      const o = ownerOfResource(r);
      return o ? [href(principalHref(o))] : undefined;
    },
  },
  {
    name: dav("current-user-privilege-set"),
    get: (r, env) =>
      privilegesOn(r, env.registry.privileges).map((p) => ({ name: dav("privilege"), value: [empty(p)] })),
  },
  {
    name: dav("supported-report-set"),
    get: (r, env) =>
      env.registry.reportsOn(r).map((rep) => ({
        name: dav("supported-report"),
        value: [{ name: dav("report"), value: [empty(rep)] }],
      })),
  },
  { name: dav("quota-used-bytes"), get: (r) => (r.type === "collection" ? String(r.col.bytes) : undefined) },
  {
    name: dav("quota-available-bytes"),
    get: (r, env) =>
      r.type === "collection" ? String(Math.max(0, env.config.quotaBytes - r.col.bytes)) : undefined,
  },
  // Principal properties (RFC 3744 §4).
  {
    name: dav("principal-URL"),
    get: (r) => (r.type === "principal" ? [href(principalHref(r.user.name))] : undefined),
  },
  { name: dav("alternate-URI-set"), get: (r) => (r.type === "principal" ? [] : undefined) },
  { name: dav("group-membership"), get: (r) => (r.type === "principal" ? [] : undefined) },
];
