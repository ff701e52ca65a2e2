/**
 * Protocol modules and the registry the server assembles from them. Each protocol folder (webdav,
 * caldav, carddav, sync, and later locks, tasks, scheduling, push) exports one `DavModule` naming
 * what it adds: methods, REPORTs, live properties, kinds of collection with their member
 * validation, `DAV:` compliance tokens, and hooks into other modules' writes. The server builds
 * one `Registry` from an explicit list of modules, and everything advertised (Allow, every 405,
 * the `DAV` header, supported-report-set) is derived from it, so nothing is announced that is not
 * registered. Two modules claiming the same method, report, property or kind is an error at start.
 */
import type { DavRequest, DavResponse } from "../http/message.js";
import type { CollectionRecord, NewCollection } from "../store/collections.js";
import type { Expectation } from "../store/expectation.js";
import type { CollectionKind } from "../store/keys.js";
import type { NewObject, ObjectRecord } from "../store/objects.js";
import { distinctGuards, type Guard } from "../store/tx.js";
import type { UserRecord } from "../store/users.js";
import type { XmlValue } from "../xml/build.js";
import type { XmlElement } from "../xml/parse.js";
import type { DavContext, ServerConfig } from "./context.js";
import { addressHref, type Address } from "./paths.js";
import type { MemberRead, Resource, Target } from "./target.js";

/** What a method sees before the URL is resolved: enough to read and check the request itself. */
export interface RequestContext {
  ctx: DavContext;
  req: DavRequest;
  user: UserRecord;
  address: Address;
  /** The XML body, for methods that take one; undefined when empty. */
  body?: XmlElement;
  registry: Registry;
}

/** What every method handler receives: the request and its URL, resolved once before dispatch. */
export interface MethodContext extends RequestContext {
  target: Target;
  /** The If header (RFC 4918 §10.4) as a condition on the target's ETag, for writes to evaluate again. */
  ifHeader?: Pick<Expectation, "holds" | "refresh">;
  /** The state tokens the If header names (the lock tokens a client submits, RFC 4918 §10.4.1). */
  tokens: readonly string[];
}

/** A handler that runs only where something is mapped. */
export type ResourceContext = MethodContext & { target: Resource };

interface MethodBase<P> {
  /** Addresses whose Allow lists the method: where it can succeed (RFC 9110 §10.2.1); elsewhere 405. */
  allowedOn(a: Address): boolean;
  /**
   * Addresses beyond `allowedOn` where the handler still runs, to name the precondition a refusal
   * breaks (MKCALENDAR in an address-book home: 403 calendar-collection-location-ok).
   */
  explainsOn?(a: Address): boolean;
  /** What resolution reads of a member (default: its metadata). */
  member?(req: DavRequest, a: Address, registry: Registry): MemberRead;
  /** Safe (RFC 9110 §9.2.1): where nothing is mapped it answers 404 even under If-Match. */
  safe?: boolean;
  /**
   * The request body is XML, parsed before resolution; one that is not well-formed answers
   * `unreadable` (400, or 415 where the RFC says so: MKCOL, RFC 4918 §9.3).
   */
  xmlBody?: { unreadable: 400 | 415 };
  /** Reads and checks the request before the store is asked anything (so a bad request is a 4xx before a 404). */
  prepare?(m: RequestContext): P;
  /**
   * Of a method several modules share: whether this module takes the request where both allow it
   * (a WebDAV-Push registration is a POST of a `push-register` body; another POST is an import).
   */
  accepts?(req: DavRequest): boolean;
  /**
   * The privilege the request needs on its resolved target (RFC 3744 §3), checked once before it
   * runs; undefined: none beyond reaching the URL (the handler checks what it writes). Default:
   * DAV:read for a safe method, DAV:write for any other.
   */
  privilege?(m: MethodContext): string | undefined;
}

/** The privilege a method needs for a request (its own rule, or the default). */
export function privilegeOf(def: MethodDef, m: MethodContext): string | undefined {
  if (def.privilege) return def.privilege(m);
  return def.safe ? "{DAV:}read" : "{DAV:}write";
}

/**
 * A method that creates what is not there yet (PUT, MKCOL, MKCALENDAR): it also runs on unmapped
 * targets (and answers 409 where not even the parent can exist).
 */
export interface CreatingMethod<P = undefined> extends MethodBase<P> {
  creates: true;
  run(m: MethodContext, prepared: P): Promise<DavResponse>;
}

/** Any other method: where nothing is mapped it answers 404 (412 for an unsafe one under If-Match). */
export interface ResourceMethod<P = undefined> extends MethodBase<P> {
  creates?: false;
  run(m: ResourceContext, prepared: P): Promise<DavResponse>;
}

export type MethodDef = CreatingMethod<unknown> | ResourceMethod<unknown>;

export interface ReportDef {
  /** Clark name of the root element of the REPORT body. */
  name: string;
  /** The resources the report runs on; their supported-report-set lists it (RFC 3253 §3.1.5). */
  on(r: Resource): boolean;
  run(m: ResourceContext, body: XmlElement): Promise<DavResponse>;
}

export interface PropertyEnv {
  principal: string;
  email?: string;
  config: ServerConfig;
  registry: Registry;
  /** Where clients reach the server (`https://host`), for absolute URLs. */
  origin?: string;
  /** What properties with `load` read for this request, by property name. */
  loaded?: Map<string, unknown>;
}

/** How a client's value for a settable property is stored. */
export type StoredValue = { text: string } | { components: string[] };

/** A refused property value: the propstat's status (RFC 4918 §9.2.1) and precondition. */
export class PropertyRejected extends Error {
  constructor(
    readonly status: 403 | 409,
    message: string,
    readonly precondition?: string,
  ) {
    super(message);
    this.name = "PropertyRejected";
  }
}

export interface PropertySetter {
  /** Collection kinds on which clients may set it; every kind when absent. */
  on?: CollectionKind[];
  /** Only when the collection is created (MKCALENDAR, extended MKCOL); PROPPATCH finds it protected. */
  atCreationOnly?: boolean;
  /** The stored form of the client's element; throws PropertyRejected for a value it refuses. */
  parse(el: XmlElement): StoredValue;
}

/** A property computed from a member's body, answered in REPORTs on members (calendar-data, address-data). */
export interface MemberPropertyDef<Spec = unknown> {
  /** Reads the element of the request (calendar-data's comp, expand, …); throws a DavError for a bad one. */
  parse(el: XmlElement): Spec;
  /** The value for one member, or undefined where it does not apply (calendar-data of a vCard). */
  render(col: CollectionRecord, obj: ObjectRecord & { body: Buffer }, spec: Spec): XmlValue | undefined;
  /** The ETag of what `render` gives when that is not the stored body (a vCard in the other version). */
  etag?(col: CollectionRecord, obj: ObjectRecord & { body: Buffer }, spec: Spec): string | undefined;
}

export interface PropertyDef {
  /** Clark name, e.g. `{DAV:}getetag`. */
  name: string;
  /**
   * For a property kept outside the resource (a lock): read once for all the resources of a
   * PROPFIND, before `get`, which finds the result in `env.loaded` under the property's name.
   */
  load?(ctx: DavContext, user: UserRecord, resources: readonly Resource[]): Promise<unknown>;
  /** The value on a resource, or undefined where the resource has no such property. */
  get(r: Resource, env: PropertyEnv): XmlValue | undefined;
  /** Returned by allprop (RFC 4918 §9.1): on every resource, or where the predicate holds. */
  allprop?: boolean | ((r: Resource) => boolean);
  /** Clients may set it; protected when absent (403 cannot-modify-protected-property). */
  set?: PropertySetter;
  /** Computed from the body of a member in a REPORT; never in PROPFIND. */
  member?: MemberPropertyDef;
}

/** A kind of collection and what its members are (RFC 4791 calendars, RFC 6352 address books). */
export interface CollectionType {
  kind: CollectionKind;
  /** The resourcetype element (beside DAV:collection) that marks the kind; none for a plain collection. */
  resourcetype?: string;
  /** getcontenttype of the collection: the media type of its export. */
  contentType: string;
  /** The home's displayname (RFC 4918 §15.2). */
  homeDisplayName: string;
  /** Precondition when a collection of this kind is created where it cannot live. */
  locationOk: string;
  /** Precondition a UID clash among members names. */
  uidConflict: string;
  /** What a new collection of this kind gets when the request does not say (its component set). */
  creationDefaults?: Pick<NewCollection, "components">;
  /** The collection a user's first login creates, when the user has none of this kind. */
  defaultCollection(owner: string): NewCollection;
  /** Checks a PUT body and derives what the store indexes; throws DavErrors naming the kind's preconditions. */
  validateMember(
    col: CollectionRecord,
    body: Buffer,
    contentType: string | undefined,
    config: ServerConfig,
    /** The member's name (a file's is its UID). */
    name: string,
  ): Omit<NewObject, "name">;
  /**
   * GET on the collection: every member in one document of `contentType` (export, subscription),
   * written member by member as the pages are read (by GET, and by the CLI's export to a file).
   */
  exporter?(col: CollectionRecord): Exporter;
  /** GET on the collection, for a kind without an export: an index of what it holds, from metadata. */
  index?(col: CollectionRecord, folders: CollectionRecord[], members: ObjectRecord[]): string;
  /** Clients may keep dead properties on members (PROPPATCH on a file, RFC 4918 §9.2). */
  memberProperties?: boolean;
  /** Other forms of a member a GET can ask for (vCard 3.0 or 4.0, RFC 6352 §5.1.1). */
  variants?: MemberVariants;
  /** Bulk import: the media types a POST of a whole file may have, and how the file splits into members. */
  imports?: {
    mediaTypes: string[];
    /**
     * The member bodies of the file, each to be validated and written as by a PUT; one that would
     * be larger than `maxBytes` is not built but reported by its UID.
     */
    split(file: Buffer, maxBytes: number): Array<Buffer | { uid: string; reason: string }>;
    /** The name suffix of a member an import makes (`.ics`). */
    extension: string;
  };
}

/** An export written as it is read: the head, each member's part, the tail. */
export interface Exporter {
  head: string;
  member(body: Buffer): string;
  tail: string;
}

/** A member served in a form other than the one stored, with an ETag of its own. */
export interface Variant {
  body: string;
  contentType: string;
  etag: string;
}

export interface MemberVariants {
  /** Whether the request may select another form (HEAD then reads the body to know which). */
  asked(req: DavRequest): boolean;
  /** The form to serve; undefined serves the stored body. */
  select(req: DavRequest, obj: ObjectRecord & { body: Buffer }): Variant | undefined;
  /** The stored ETag a variant's ETag stands for, so If-Match with either guards a write. */
  storedEtag(etag: string): string;
}

/** A member write, as hooks see it. */
export interface MemberWrite {
  ctx: DavContext;
  user: UserRecord;
  col: CollectionRecord;
  name: string;
  op: "put" | "delete";
  /** Whether the write adds a member or removes one (then a lock on the collection takes part). */
  membership?: boolean;
  /** The state tokens (lock tokens) the client submitted in the If header (RFC 4918 §10.4). */
  tokens: readonly string[];
}

/** A write to a collection itself, as hooks see it: made, its properties changed, deleted, moved or overwritten. */
export interface CollectionWrite {
  ctx: DavContext;
  user: UserRecord;
  kind: CollectionKind;
  owner: string;
  name: string;
  op: "create" | "props" | "delete";
  tokens: readonly string[];
}

/** A member PUT or DELETE about to be written, as `planWrite` sees it. */
export interface PlannedWrite extends MemberWrite {
  req: DavRequest;
  /** The body a PUT stores (validated by the collection's kind). */
  body?: Buffer;
  /** The member as resolution read it (metadata), when it exists. */
  existing?: ObjectRecord;
}

/** What a module makes of a member write before it commits. */
export interface WritePlan {
  /** The body to store instead of the client's (the stored form then has no ETag in the answer). */
  body?: Buffer;
  /** The schedule tag the stored member gets (RFC 6638 §3.2.10). */
  scheduleTag?: string;
  /** Parts to add to the write's transaction (a reservation) with the errors their failures mean. */
  guards?: Guard[];
  /** Headers for the answer. */
  headers?: Record<string, string>;
  /** Work once the write committed (delivering invitations); a failure is logged, never undoes the write. */
  afterCommit?: (etag: string | undefined) => Promise<void>;
}

export interface Hooks {
  /**
   * Before a member PUT or DELETE is written (implicit scheduling): may refuse it with a DavError,
   * change what it stores, or add to its transaction.
   */
  planWrite?: (w: PlannedWrite) => Promise<WritePlan | undefined>;
  /** Conditions to add to a member write's transaction (a lock, a running task); a failed one answers its error. */
  beforeWrite?: (w: MemberWrite) => Guard[];
  /** Conditions to add to a collection write's transaction (what a lock on it, above or below it forbids). */
  beforeCollectionWrite?: (w: CollectionWrite) => Promise<Guard[]>;
  /** After a member write committed (scheduling, push). A failure is logged; it never undoes the write. */
  afterWrite?: (w: MemberWrite & { etag?: string }) => Promise<void>;
}

/**
 * A service beside the DAV tree under a path of its own (`/tasks/…`), after authentication: its
 * answers are its own (JSON), and it runs with the registry for what it needs of the protocols.
 */
interface EndpointBase {
  /** The methods it answers (OPTIONS lists them without a login), and headers OPTIONS adds (Accept-Patch). */
  methods: string[];
  options?: Record<string, string>;
}

export interface Endpoint extends EndpointBase {
  public?: false;
  handle(
    m: { ctx: DavContext; req: DavRequest; user: UserRecord; registry: Registry },
    segments: string[],
  ): Promise<DavResponse>;
}

/**
 * An endpoint that logs its users in itself (a page with a form): it runs without Basic auth and
 * acts for a user it authenticated through `dav`, the whole server answering as for them.
 */
export interface PublicEndpoint extends EndpointBase {
  public: true;
  handle(
    m: {
      ctx: DavContext;
      req: DavRequest;
      registry: Registry;
      dav: (req: DavRequest, user: UserRecord) => Promise<DavResponse>;
    },
    segments: string[],
  ): Promise<DavResponse>;
}

export interface DavModule {
  name: string;
  /**
   * Methods another module registered that this one also answers, on the addresses its definition
   * allows (which then are its own): a shared name, not a clash.
   */
  sharesMethods?: string[];
  /** Services under `/<segment>/…`, by their first segment. */
  endpoints?: Record<string, Endpoint | PublicEndpoint>;
  /** Tokens for the DAV response header (RFC 4918 §10.1). */
  compliance?: string[];
  /** Privileges the module defines, which an owner holds (RFC 3744 §3; CalDAV's read-free-busy). */
  privileges?: string[];
  methods?: Record<string, MethodDef>;
  reports?: ReportDef[];
  properties?: PropertyDef[];
  collections?: CollectionType[];
  hooks?: Hooks;
  /** The state tokens a resource holds (its locks'), which the If header's `<token>` conditions match. */
  stateTokens?: (ctx: DavContext, user: UserRecord, a: Address) => Promise<string[]>;
  /** Collections every user has under fixed names (the scheduling inbox and outbox), made on first login. */
  fixedCollections?: (owner: string) => NewCollection[];
  /** The resourcetype of a collection this module gives a role (an inbox), instead of its kind's. */
  resourcetype?: (col: CollectionRecord) => string | undefined;
  /** Elements added to a collection's resourcetype (a shared calendar's CS:shared-owner). */
  markers?: (col: CollectionRecord) => string[];
}

/**
 * Two modules' definitions of one method, each on the addresses it allows: the later module's
 * where it allows the method and accepts the request, the earlier one's elsewhere (POST: an import
 * to a calendar, a free-busy request to a scheduling outbox, a push registration anywhere it is a
 * `push-register` body).
 */
function shareMethod(earlier: MethodDef, later: MethodDef): MethodDef {
  const mine = (def: MethodDef, a: Address, req: DavRequest) =>
    (def.allowedOn(a) || Boolean(def.explainsOn?.(a))) && (def.accepts?.(req) ?? true);
  const pick = (a: Address, req: DavRequest) => (mine(later, a, req) ? later : earlier);
  if (earlier.creates || later.creates || earlier.xmlBody || later.xmlBody || earlier.safe || later.safe)
    throw new Error("only methods that neither create, nor take XML, nor are safe can be shared");
  return {
    allowedOn: (a) => earlier.allowedOn(a) || later.allowedOn(a),
    explainsOn: (a) => Boolean(earlier.explainsOn?.(a) || later.explainsOn?.(a)),
    accepts: (req) => (earlier.accepts?.(req) ?? true) || (later.accepts?.(req) ?? true),
    member: (req, a, registry) => pick(a, req).member?.(req, a, registry) ?? "meta",
    prepare: (m) => pick(m.address, m.req).prepare?.(m),
    privilege: (m) => privilegeOf(pick(m.address, m.req), m),
    run: (m, prepared) => pick(m.address, m.req).run(m as ResourceContext, prepared),
  };
}

export class Registry {
  readonly methods = new Map<string, MethodDef>();
  readonly reports = new Map<string, ReportDef>();
  /** In registration order, which is the order allprop and propname list them. */
  readonly properties = new Map<string, PropertyDef>();
  /** The same, as a list built once (allprop and propname walk it for every resource). */
  readonly propertyList: PropertyDef[] = [];
  readonly collections = new Map<CollectionKind, CollectionType>();
  readonly endpoints = new Map<string, Endpoint | PublicEndpoint>();
  /** The DAV response header. */
  readonly compliance: string;
  /** Privileges modules define beyond RFC 3744's. */
  readonly privileges: string[] = [];
  private readonly hooks: Hooks[] = [];
  private readonly fixed: ((owner: string) => NewCollection[])[] = [];
  private readonly roles: ((col: CollectionRecord) => string | undefined)[] = [];
  private readonly markers: ((col: CollectionRecord) => string[])[] = [];

  constructor(readonly modules: readonly DavModule[]) {
    const owners = new Map<string, string>();
    const claim = (what: string, key: string, module: string) => {
      const id = `${what} ${key}`;
      const earlier = owners.get(id);
      if (earlier) throw new Error(`${id} is registered by both ${earlier} and ${module}`);
      owners.set(id, module);
    };
    const tokens: string[] = [];
    for (const m of modules) {
      for (const t of m.compliance ?? []) if (!tokens.includes(t)) tokens.push(t);
      this.privileges.push(...(m.privileges ?? []));
      for (const [name, def] of Object.entries(m.methods ?? {})) {
        const earlier = this.methods.get(name);
        if (!earlier || !m.sharesMethods?.includes(name)) claim("method", name, m.name);
        this.methods.set(name, earlier ? shareMethod(earlier, def) : def);
      }
      if (m.fixedCollections) this.fixed.push(m.fixedCollections);
      if (m.resourcetype) this.roles.push(m.resourcetype);
      if (m.markers) this.markers.push(m.markers);
      for (const r of m.reports ?? []) {
        claim("report", r.name, m.name);
        this.reports.set(r.name, r);
      }
      for (const p of m.properties ?? []) {
        claim("property", p.name, m.name);
        this.properties.set(p.name, p);
        this.propertyList.push(p);
      }
      for (const c of m.collections ?? []) {
        claim("collection kind", c.kind, m.name);
        this.collections.set(c.kind, c);
      }
      for (const [segment, e] of Object.entries(m.endpoints ?? {})) {
        claim("endpoint", segment, m.name);
        this.endpoints.set(segment, e);
      }
      if (m.hooks) this.hooks.push(m.hooks);
    }
    // Compliance classes first, in order (RFC 4918 §18: "1, 2, 3"), then the extensions as registered.
    const classes = tokens.filter((t) => /^\d+$/.test(t)).sort();
    this.compliance = [...classes, ...tokens.filter((t) => !classes.includes(t))].join(", ");
  }

  /** The Allow header's methods for an address: OPTIONS (answered by the server) and every method allowed there. */
  allow(a: Address): string[] {
    return ["OPTIONS", ...[...this.methods].filter(([, def]) => def.allowedOn(a)).map(([name]) => name)];
  }

  /** The reports that run on a resource (its supported-report-set). */
  reportsOn(r: Resource): string[] {
    return [...this.reports.values()].filter((rep) => rep.on(r)).map((rep) => rep.name);
  }

  /** The address as this server serves it: one in a home of a kind no module serves is unknown. */
  served(a: Address): Address {
    if (!("kind" in a) || this.collections.has(a.kind)) return a;
    return { type: "unknown", segments: addressHref(a).split("/").filter(Boolean) };
  }

  collectionType(kind: CollectionKind): CollectionType {
    const t = this.collections.get(kind);
    if (!t) throw new Error(`no module serves collections of kind ${kind}`);
    return t;
  }

  /** The state tokens every module knows for a resource. */
  async stateTokens(ctx: DavContext, user: UserRecord, a: Address): Promise<string[]> {
    const lists = await Promise.all(this.modules.map((m) => m.stateTokens?.(ctx, user, a) ?? []));
    return lists.flat();
  }

  /** What a user's first login makes (ensureProvisioned): each kind's default, and the fixed collections. */
  provisioning(owner: string): { defaults(): NewCollection[]; fixed(): NewCollection[] } {
    return {
      defaults: () => [...this.collections.values()].map((t) => t.defaultCollection(owner)),
      fixed: () => this.fixedCollections(owner),
    };
  }

  /** The collections every user has under fixed names. */
  fixedCollections(owner: string): NewCollection[] {
    return this.fixed.flatMap((f) => f(owner));
  }

  /** The resourcetype element marking a collection (beside DAV:collection), if any. */
  resourcetypeOf(col: CollectionRecord): string | undefined {
    for (const role of this.roles) {
      const t = role(col);
      if (t) return t;
    }
    return this.collectionType(col.kind).resourcetype;
  }

  /** The elements modules add to a collection's resourcetype. */
  markersOf(col: CollectionRecord): string[] {
    return this.markers.flatMap((f) => f(col));
  }

  /** Every module's plan for a member write, merged (one module rewrites bodies: scheduling). */
  async planWrite(w: PlannedWrite): Promise<WritePlan> {
    const merged: WritePlan = {};
    const after: NonNullable<WritePlan["afterCommit"]>[] = [];
    for (const h of this.hooks) {
      const plan = await h.planWrite?.(w);
      if (!plan) continue;
      if (plan.body) merged.body = plan.body;
      if (plan.scheduleTag) merged.scheduleTag = plan.scheduleTag;
      if (plan.guards) merged.guards = [...(merged.guards ?? []), ...plan.guards];
      if (plan.headers) merged.headers = { ...merged.headers, ...plan.headers };
      if (plan.afterCommit) after.push(plan.afterCommit);
    }
    if (after.length) {
      merged.afterCommit = async (etag) => {
        for (const a of after) await logged("after-commit work failed", () => a(etag));
      };
    }
    return merged;
  }

  /** The guards every module adds to a member write. */
  guards(w: MemberWrite): Guard[] {
    return this.hooks.flatMap((h) => h.beforeWrite?.(w) ?? []);
  }

  /** The guards every module adds to a collection write (their parts once each). */
  async collectionGuards(w: CollectionWrite): Promise<Guard[]> {
    return distinctGuards(
      (await Promise.all(this.hooks.map((h) => h.beforeCollectionWrite?.(w) ?? []))).flat(),
    );
  }

  /** Tell every module a member write committed. */
  async afterWrite(w: MemberWrite & { etag?: string }): Promise<void> {
    for (const h of this.hooks) {
      if (h.afterWrite) await logged("after-write hook failed", () => h.afterWrite!(w));
    }
  }
}

/** Run work whose failure must not fail the request that committed before it: log it instead. */
export async function logged(msg: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg, error: String((err as Error)?.message ?? err) }));
  }
}
