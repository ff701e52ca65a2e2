/**
 * The DAV core's entry point: one function from a request to a response. The server is assembled
 * from an explicit list of protocol modules (each folder of lib/ exports one); per request it
 * checks the body size, normalises the path, answers what needs no login (OPTIONS, /.well-known),
 * authenticates, checks access, resolves the URL to its target once, dispatches the method, and
 * turns every thrown error into a response in one place.
 */
import { authenticate } from "./auth/basic.js";
import { ensureProvisioned } from "./auth/provision.js";
import { caldav } from "./caldav/module.js";
import { carddav } from "./carddav/module.js";
import {
  BadRequest,
  Conflict,
  DavError,
  errorResponse,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  PreconditionFailed,
  UnsupportedMediaType,
} from "./errors.js";
import { decodePath, type DavRequest, type DavResponse } from "./http/message.js";
import { sync } from "./sync/module.js";
import { locks } from "./locks/module.js";
import { files } from "./files/module.js";
import { tasks } from "./tasks/module.js";
import { scheduling } from "./scheduling/module.js";
import { webdavPush } from "./push/module.js";
import { accounts } from "./accounts/module.js";
import { sharing } from "./sharing/module.js";
import { checkAccess, requirePrivilege } from "./webdav/access.js";
import type { DavContext } from "./webdav/context.js";
import { webdav } from "./webdav/module.js";
import { asFolder, objectHref, parseAddress, type Address } from "./webdav/paths.js";
import {
  privilegeOf,
  Registry,
  type DavModule,
  type MethodContext,
  type RequestContext,
} from "./webdav/registry.js";
import { ifPredicate, parseIfHeader, submittedTokens } from "./webdav/if-header.js";
import { conditionHeader, expectationOf, xmlBody } from "./webdav/request.js";
import { etagOf, resolveTarget, type Target } from "./webdav/target.js";
import type { UserRecord } from "./store/users.js";

export {
  defaultServerConfig,
  MAX_STORABLE_BYTES,
  type DavContext,
  type ServerConfig,
} from "./webdav/context.js";

export const SERVER_HEADER = "x-dav-server";
export const SERVER_NAME = "lambda-dav";

/** The protocols this server speaks, in the order their registrations are listed. */
export const MODULES: readonly DavModule[] = [
  webdav,
  caldav,
  carddav,
  sync,
  locks,
  files,
  tasks,
  scheduling,
  webdavPush,
  sharing,
  accounts,
];

export interface DavServer {
  registry: Registry;
  handle(ctx: DavContext, req: DavRequest): Promise<DavResponse>;
}

export function createServer(modules: readonly DavModule[] = MODULES): DavServer {
  const registry = new Registry(modules);
  return { registry, handle: (ctx, req) => handleWith(registry, ctx, req) };
}

const standard = createServer();

/** Answer one request with the standard modules. */
export function handle(ctx: DavContext, req: DavRequest): Promise<DavResponse> {
  return standard.handle(ctx, req);
}

/** `as`: a user the caller has authenticated (the account page acting for its user). */
async function handleWith(
  registry: Registry,
  ctx: DavContext,
  req: DavRequest,
  as?: UserRecord,
): Promise<DavResponse> {
  let address: Address | undefined;
  let response: DavResponse;
  try {
    address = registry.served(addressOf(req, ctx.config.maxBodyBytes));
    response = await dispatch(registry, ctx, req, address, as);
  } catch (err) {
    response = errorResponse(err, errorContext(registry, address));
  }
  // Marks every answer as coming from this handler, so `npm run probe` can tell what reached us.
  response.headers[SERVER_HEADER] = SERVER_NAME;
  return response;
}

/** What a store error needs from the request to name the resource it clashed with. */
function errorContext(registry: Registry, a: Address | undefined) {
  if (!a) return {};
  return {
    hrefFor: "collection" in a ? (name: string) => objectHref(a.kind, a.user, a.collection, name) : undefined,
    uidConflict: "kind" in a ? registry.collections.get(a.kind)?.uidConflict : undefined,
    allow: registry.allow(a).join(", "),
  };
}

function addressOf(req: DavRequest, maxBodyBytes: number): Address {
  if (req.body.length > maxBodyBytes) {
    throw new PayloadTooLarge(`The request body is larger than ${maxBodyBytes} bytes.`);
  }
  if (decodePath(req.rawPath) === undefined)
    throw new BadRequest("The request path has an invalid percent-encoding.");
  return parseAddress(req.path);
}

/** The XML body, or the status a body that is not well-formed XML answers. */
function readXml(req: DavRequest, unreadable: 400 | 415) {
  try {
    return xmlBody(req);
  } catch (err) {
    if (unreadable === 415 && err instanceof DavError && err.status === 400)
      throw new UnsupportedMediaType(err.message);
    throw err;
  }
}

async function dispatch(
  registry: Registry,
  ctx: DavContext,
  req: DavRequest,
  address: Address,
  as?: UserRecord,
): Promise<DavResponse> {
  if (address.type === "well-known" && (address.service === "caldav" || address.service === "carddav")) {
    // RFC 6764 §5: point clients at the context path, where current-user-principal answers.
    return { status: 301, headers: { location: "/", "cache-control": "no-store" } };
  }
  if (address.type === "well-known" && req.method !== "OPTIONS") {
    // Other well-known names are public and unknown here: no login needed to learn that.
    return { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Not found.\n" };
  }
  const allow = () => registry.allow(address).join(", ");
  const endpoint = address.type === "unknown" ? registry.endpoints.get(address.segments[0]) : undefined;
  if (endpoint && req.method === "OPTIONS") {
    const allowed = ["OPTIONS", ...endpoint.methods].join(", ");
    return { status: 200, headers: { allow: allowed, ...endpoint.options, "content-length": "0" } };
  }
  if (req.method === "OPTIONS") {
    return { status: 200, headers: { dav: registry.compliance, allow: allow(), "content-length": "0" } };
  }
  // A page of its own (the account page) logs its users in itself, and acts for them through the core.
  if (endpoint?.public === true && address.type === "unknown" && !as) {
    const dav = (r: DavRequest, u: UserRecord) => handleWith(registry, ctx, r, u);
    return endpoint.handle({ ctx, req, registry, dav }, address.segments.slice(1));
  }
  const user =
    as ??
    (await authenticate(ctx.store, req, {
      realm: ctx.config.realm,
      delay: ctx.authDelay,
      appPasswordsOnly: ctx.config.appPasswordsOnly,
    }));
  req.principal = user.name;
  await ensureProvisioned(ctx.store, user, registry.provisioning(user.name));
  checkAccess(address, user.name);
  if (endpoint && endpoint.public !== true && address.type === "unknown")
    return endpoint.handle({ ctx, req, user, registry }, address.segments.slice(1));

  const def = registry.methods.get(req.method);
  if (!def) throw new MethodNotAllowed(`${req.method} is not supported here.`, allow());
  if (address.type === "unknown") {
    // Nothing can exist this deep: a create lacks its parent collection (RFC 4918 §9.3.1, §9.7.1).
    if (def.creates) throw new Conflict("The parent collection does not exist.");
  } else if (!def.allowedOn(address) && !def.explainsOn?.(address)) {
    throw new MethodNotAllowed(`${req.method} is not supported on ${req.path}.`, allow());
  }
  const body = def.xmlBody ? readXml(req, def.xmlBody.unreadable) : undefined;
  const request: RequestContext = { ctx, req, user, address, body, registry };
  const prepared = def.prepare?.(request);
  const target = await resolveTarget(ctx.store, address, user, def.member?.(req, address, registry));
  if (target.type === "collection" && address.type === "object") {
    // A files URL without its trailing slash named a folder: the method runs on the folder.
    address = asFolder(address);
    request.address = address;
    if (!def.allowedOn(address) && !def.explainsOn?.(address))
      throw new MethodNotAllowed(`${req.method} is not supported on a collection.`, allow());
  }
  const resolved: MethodContext = { ...request, target, tokens: [] };
  if (target.type !== "unmapped" || def.creates) {
    // Privileges, once, on what the URL resolved to (a sharee's view holds only what was granted).
    const privilege = privilegeOf(def, resolved);
    if (privilege) requirePrivilege(target, privilege);
  }
  if (def.creates) {
    return def.run({ ...resolved, ...(await ifHeader(ctx, req, user, address, target, registry)) }, prepared);
  }
  if (target.type === "unmapped") {
    // RFC 9110 §13.1.1: an unsafe method demanding a current representation of a member finds none.
    if (!def.safe && target.parent?.type === "collection" && expectationOf(req).ifMatch)
      throw new PreconditionFailed("Nothing exists at this URL.");
    throw new NotFound("Nothing exists at this URL.");
  }
  return def.run(
    { ...resolved, target, ...(await ifHeader(ctx, req, user, address, target, registry)) },
    prepared,
  );
}

/**
 * RFC 4918 §10.4: the If header, checked against the target as resolved (412 when no list holds)
 * and handed on as a predicate, so a write checks it again against what its round reads.
 */
const MAX_SUBMITTED_TOKENS = 20;

async function ifHeader(
  ctx: DavContext,
  req: DavRequest,
  user: UserRecord,
  address: Address,
  target: Target,
  registry: Registry,
): Promise<Pick<MethodContext, "ifHeader" | "tokens">> {
  const text = conditionHeader(req, "if");
  if (text === undefined) return { tokens: [] };
  // An ETag of another form of a member (a vCard read as 4.0) stands for the stored one, as in If-Match.
  const stored = (etag: string) =>
    [...registry.collections.values()].reduce((e, t) => t.variants?.storedEtag(e) ?? e, etag);
  const productions = parseIfHeader(text).map((p) => ({
    ...p,
    lists: p.lists.map((l) => l.map((c) => (c.kind === "etag" ? { ...c, value: stored(c.value) } : c))),
  }));
  const tokens = submittedTokens(productions);
  // Each token is a clause of every lock condition of the write (DynamoDB allows 300 operators).
  if (tokens.length > MAX_SUBMITTED_TOKENS) {
    throw new BadRequest(
      `The If header names ${tokens.length} lock tokens; at most ${MAX_SUBMITTED_TOKENS} are accepted.`,
    );
  }
  // Lock tokens are read only when the header names a token: most If headers name ETags alone.
  const stateOf = (a: Address) => (tokens.length ? registry.stateTokens(ctx, user, a) : Promise.resolve([]));
  const hereTokens = await stateOf(address);
  const evaluate = () =>
    ifPredicate(
      productions,
      address,
      async (other) => {
        // Another user's resource, or none at all: it exists for the header without any state.
        if (!other || ("user" in other && other.user !== user.name)) return { tokens: [] };
        return { etag: etagOf(await resolveTarget(ctx.store, other, user)), tokens: await stateOf(other) };
      },
      hereTokens,
    );
  const { holds, aboutOthers } = await evaluate();
  if (!holds(etagOf(target))) {
    throw new PreconditionFailed("No list of the If header holds for this resource (RFC 4918 §10.4).");
  }
  return {
    ifHeader: { holds, refresh: aboutOthers ? async () => (await evaluate()).holds : undefined },
    tokens,
  };
}
