/**
 * Creating collections: MKCALENDAR (RFC 4791 §5.3.1), extended MKCOL (RFC 5689) and plain MKCOL
 * (RFC 4918 §9.3). Collections live directly in a user's calendar or address-book home; "must not
 * exist yet" is the DynamoDB condition of the create itself, and the initial properties are part of
 * the same write.
 */
import { Conflict, DavError, Forbidden, MethodNotAllowed, UnsupportedMediaType } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { DEFAULT_COMPONENTS } from "../auth/provision.js";
import { createCollection, getCollection } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import type { PropStat } from "../xml/multistatus.js";
import { statusLine } from "../xml/multistatus.js";
import { XmlWriter } from "../xml/build.js";
import { cal, card, dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { serializeContent } from "../xml/serialize.js";
import { xmlBody, type MethodContext } from "./method.js";
import { PROPERTY_MAP } from "./properties.js";
import { MAX_PROPERTY_BYTES } from "./proppatch.js";
import { collectionHref } from "./paths.js";
import { checkName } from "./content.js";

const COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"];

const locationOk = (kind: CollectionKind) =>
  kind === "calendar" ? cal("calendar-collection-location-ok") : card("addressbook-collection-location-ok");

interface InitialProps {
  props: Record<string, string>;
  dead: Record<string, string>;
  components?: string[];
  failures: { name: string; status: number; error?: string; description?: string }[];
  accepted: string[];
}

/** Read the properties of a `<D:set>` in an MKCALENDAR / extended MKCOL body. */
function initialProps(kind: CollectionKind, props: XmlElement[]): InitialProps {
  const out: InitialProps = { props: {}, dead: {}, failures: [], accepted: [] };
  for (const p of props) {
    if (p.name === dav("resourcetype")) {
      out.accepted.push(p.name);
      continue;
    }
    if (p.name === cal("supported-calendar-component-set") && kind === "calendar") {
      const comps = p.children
        .filter((c) => c.name === cal("comp"))
        .map((c) => (c.attrs["{}name"] ?? "").toUpperCase());
      if (comps.length === 0 || comps.some((c) => !COMPONENTS.includes(c))) {
        out.failures.push({
          name: p.name,
          status: 403,
          error: cal("supported-calendar-component"),
          description: "unsupported component type",
        });
      } else {
        out.components = comps;
        out.accepted.push(p.name);
      }
      continue;
    }
    const def = PROPERTY_MAP.get(p.name);
    if (def) {
      if (!def.settableOn?.includes(kind)) {
        out.failures.push({ name: p.name, status: 403, error: dav("cannot-modify-protected-property") });
        continue;
      }
      try {
        out.props[p.name] = def.validate ? def.validate(p.text) : p.text;
        out.accepted.push(p.name);
      } catch (err) {
        out.failures.push({ name: p.name, status: 409, description: (err as Error).message });
      }
    } else {
      out.dead[p.name] = serializeContent(p);
      out.accepted.push(p.name);
    }
  }
  return out;
}

/** The kind a resourcetype asks for; undefined for a plain collection. Throws for unknown kinds. */
function kindFromResourcetype(el: XmlElement | undefined): CollectionKind | "plain" | undefined {
  if (!el) return undefined;
  const names = el.children.map((c) => c.name);
  if (names.includes(cal("calendar"))) return "calendar";
  if (names.includes(card("addressbook"))) return "addressbook";
  if (names.every((n) => n === dav("collection"))) return "plain";
  throw new Forbidden(
    `Cannot create a collection of type ${names.filter((n) => n !== dav("collection")).join(", ")}.`,
    {
      name: dav("valid-resourcetype"),
    },
  );
}

function failureBody(root: string, init: InitialProps): string {
  const w = new XmlWriter(root);
  const groups = new Map<string, PropStat>();
  for (const f of init.failures) {
    const key = `${f.status}|${f.error ?? ""}`;
    if (!groups.has(key))
      groups.set(key, { status: f.status, props: [], error: f.error ? { name: f.error } : undefined });
    groups.get(key)!.props.push({ name: f.name });
  }
  if (init.accepted.length)
    groups.set("424", { status: 424, props: init.accepted.map((name) => ({ name })) });
  for (const ps of groups.values()) {
    const propstat = w.el(w.root, "{DAV:}propstat");
    const prop = w.el(propstat, "{DAV:}prop");
    for (const p of ps.props) w.node(prop, p);
    w.el(propstat, "{DAV:}status", statusLine(ps.status));
    if (ps.error) w.el(w.el(propstat, "{DAV:}error"), ps.error.name);
  }
  return w.toString();
}

async function createAt(
  m: MethodContext,
  requested: CollectionKind | undefined,
  setProps: XmlElement[],
  responseRoot: string,
): Promise<DavResponse> {
  const a = m.address;
  switch (a.type) {
    case "collection":
      break;
    case "object": {
      // Inside an existing collection: calendars cannot nest (403); inside nothing: the parent is missing (409).
      const parent = await getCollection(m.ctx.store, { kind: a.kind, owner: a.user, name: a.collection });
      if (parent) {
        throw new Forbidden("Collections cannot be created inside a calendar or address book.", {
          name: locationOk(requested ?? a.kind),
        });
      }
      throw new Conflict(
        `The parent collection ${collectionHref(a.kind, a.user, a.collection)} does not exist.`,
      );
    }
    case "unknown":
      throw new Conflict("The parent collection does not exist.");
    default:
      throw new MethodNotAllowed("A collection already exists at this URL.", "OPTIONS, PROPFIND", {
        name: dav("resource-must-be-null"),
      });
  }
  checkName(a.collection, "collection");
  const kind = requested ?? a.kind;
  if (kind !== a.kind) {
    throw new Forbidden(
      kind === "calendar"
        ? "Calendars can only be created in a calendar home (/calendars/<user>/)."
        : "Address books can only be created in an address-book home (/addressbooks/<user>/).",
      { name: locationOk(kind) },
    );
  }
  const init = initialProps(kind, setProps);
  const size = [...Object.entries(init.props), ...Object.entries(init.dead)].reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (size > MAX_PROPERTY_BYTES) {
    // The same room PROPPATCH allows (the collection item must stay under DynamoDB's 400 KB).
    for (const name of init.accepted) {
      init.failures.push({
        name,
        status: 507,
        description: `Properties may take up to ${MAX_PROPERTY_BYTES} bytes.`,
      });
    }
    init.accepted = [];
  }
  if (init.failures.length) {
    return {
      status: 403,
      headers: { "content-type": "application/xml; charset=utf-8" },
      body: failureBody(responseRoot, init),
    };
  }
  await createCollection(m.ctx.store, {
    kind,
    owner: a.user,
    name: a.collection,
    props: init.props,
    dead: init.dead,
    components: kind === "calendar" ? (init.components ?? DEFAULT_COMPONENTS) : undefined,
  });
  return {
    status: 201,
    headers: { location: collectionHref(kind, a.user, a.collection), "cache-control": "no-cache" },
  };
}

function setPropsOf(body: XmlElement): XmlElement[] {
  return body.children
    .filter((c) => c.name === dav("set"))
    .flatMap((s) => s.children.filter((c) => c.name === dav("prop")))
    .flatMap((p) => p.children);
}

export async function mkcalendar(m: MethodContext): Promise<DavResponse> {
  const body = xmlBody(m.req);
  if (body && body.name !== cal("mkcalendar")) {
    throw new UnsupportedMediaType("The body of an MKCALENDAR must be a CALDAV:mkcalendar element.");
  }
  return createAt(m, "calendar", body ? setPropsOf(body) : [], cal("mkcalendar-response"));
}

export async function mkcol(m: MethodContext): Promise<DavResponse> {
  let body: XmlElement | undefined;
  try {
    body = xmlBody(m.req);
  } catch (err) {
    // RFC 4918 §9.3: a body the server does not understand is a 415.
    if (err instanceof DavError && err.status === 400) throw new UnsupportedMediaType(err.message);
    throw err;
  }
  if (body && body.name !== dav("mkcol"))
    throw new UnsupportedMediaType("MKCOL bodies must be a DAV:mkcol element (RFC 5689).");
  const props = body ? setPropsOf(body) : [];
  const type = kindFromResourcetype(props.find((p) => p.name === dav("resourcetype")));
  // A plain collection in a home becomes a collection of the home's kind: that is all a home can hold.
  return createAt(m, type === "plain" ? undefined : type, props, dav("mkcol-response"));
}
