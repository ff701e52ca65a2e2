/**
 * The DAV core's entry point: one function from a request to a response. It checks the body size,
 * normalises the path, answers what needs no login (OPTIONS, /.well-known), authenticates, checks
 * access, dispatches the method, and turns every thrown error into a response in one place.
 */
import { authenticate } from "./auth/basic.js";
import { ensureProvisioned } from "./auth/provision.js";
import { errorResponse, MethodNotAllowed, PayloadTooLarge, BadRequest, Conflict } from "./errors.js";
import { decodePath, type DavRequest, type DavResponse } from "./http/message.js";
import type { Store } from "./store/users.js";
import type { MethodContext, MethodHandler } from "./webdav/method.js";
import { objectHref, parseAddress, type Address } from "./webdav/paths.js";
import { propfind } from "./webdav/propfind.js";
import { proppatch } from "./webdav/proppatch.js";
import { checkAccess } from "./webdav/resource.js";
import { del, get, head, put } from "./webdav/objects.js";
import { mkcalendar, mkcol } from "./webdav/mkcol.js";
import { report } from "./webdav/report.js";

export interface ServerConfig {
  /** Basic-auth realm. */
  realm: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest calendar object or vCard accepted (CalDAV/CardDAV max-resource-size). */
  maxResourceSize: number;
  /** Storage each collection may use, reported as quota-available-bytes (RFC 4331). */
  quotaBytes: number;
}

export interface DavContext {
  store: Store;
  config: ServerConfig;
  /** Replaces the login slow-down's sleep (tests). */
  authDelay?: (ms: number) => Promise<void>;
}

/** The largest body that fits a DynamoDB item together with the object's other attributes. */
export const MAX_STORABLE_BYTES = 380 * 1024;

export const SERVER_HEADER = "x-dav-server";
export const SERVER_NAME = "lambda-dav";

export const DAV_COMPLIANCE = "1, 3, access-control, calendar-access, addressbook, extended-mkcol";

export function defaultServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    realm: env.DAV_REALM ?? "lambda-dav",
    maxBodyBytes: Number(env.DAV_MAX_BODY_BYTES ?? 4 * 1024 * 1024),
    // The body shares a DynamoDB item (400 KB at most) with its metadata, so cap the setting below that.
    maxResourceSize: Math.min(Number(env.DAV_MAX_RESOURCE_SIZE ?? 256 * 1024), MAX_STORABLE_BYTES),
    quotaBytes: Number(env.DAV_QUOTA_BYTES ?? 1024 * 1024 * 1024),
  };
}

const METHODS: Record<string, MethodHandler> = {
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  MKCALENDAR: mkcalendar,
  MKCOL: mkcol,
  PUT: put,
  GET: get,
  HEAD: head,
  DELETE: del,
  REPORT: report,
};

/** Methods each kind of address supports, for Allow and 405s. */
export function allowedMethods(a: Address): string[] {
  switch (a.type) {
    case "home":
      return [
        "OPTIONS",
        "PROPFIND",
        "PROPPATCH",
        "REPORT",
        "MKCOL",
        ...(a.kind === "calendar" ? ["MKCALENDAR"] : []),
      ];
    case "collection":
      return [
        "OPTIONS",
        "GET",
        "HEAD",
        "DELETE",
        "PROPFIND",
        "PROPPATCH",
        "REPORT",
        "MKCOL",
        ...(a.kind === "calendar" ? ["MKCALENDAR"] : []),
      ];
    case "object":
      return ["OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "REPORT"];
    default:
      return ["OPTIONS", "PROPFIND", "REPORT"];
  }
}

export async function handle(ctx: DavContext, req: DavRequest): Promise<DavResponse> {
  let address: Address | undefined;
  let response: DavResponse;
  try {
    address = addressOf(req, ctx.config);
    response = await dispatch(ctx, req, address);
  } catch (err) {
    const a = address;
    response = errorResponse(err, {
      hrefFor: a && "collection" in a ? (name) => objectHref(a.kind, a.user, a.collection, name) : undefined,
      kind: a && "kind" in a ? a.kind : undefined,
    });
  }
  // Marks every answer as coming from this handler, so `npm run probe` can tell what reached us.
  response.headers[SERVER_HEADER] = SERVER_NAME;
  return response;
}

function addressOf(req: DavRequest, config: ServerConfig): Address {
  if (req.body.length > config.maxBodyBytes) {
    throw new PayloadTooLarge(`The request body is larger than ${config.maxBodyBytes} bytes.`);
  }
  if (decodePath(req.rawPath) === undefined)
    throw new BadRequest("The request path has an invalid percent-encoding.");
  return parseAddress(req.path);
}

async function dispatch(ctx: DavContext, req: DavRequest, address: Address): Promise<DavResponse> {
  if (address.type === "well-known" && (address.service === "caldav" || address.service === "carddav")) {
    // RFC 6764 §5: point clients at the context path, where current-user-principal answers.
    return { status: 301, headers: { location: "/", "cache-control": "no-store" } };
  }
  if (address.type === "well-known" && req.method !== "OPTIONS") {
    // Other well-known names are public and unknown here: no login needed to learn that.
    return { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Not found.\n" };
  }
  if (req.method === "OPTIONS") {
    return {
      status: 200,
      headers: { dav: DAV_COMPLIANCE, allow: allowedMethods(address).join(", "), "content-length": "0" },
    };
  }
  const user = await authenticate(ctx.store, req, { realm: ctx.config.realm, delay: ctx.authDelay });
  req.principal = user.name;
  await ensureProvisioned(ctx.store, user);
  checkAccess(address, user.name);

  const handler = METHODS[req.method];
  const allowed = allowedMethods(address);
  if (!handler) {
    throw new MethodNotAllowed(`${req.method} is not supported here.`, allowed.join(", "));
  }
  if (address.type === "unknown" || address.type === "well-known") {
    // Nothing can exist this deep; a create here lacks its parent collection (RFC 4918 §9.3.1, §9.7.1).
    if (address.type === "unknown" && ["MKCOL", "MKCALENDAR", "PUT"].includes(req.method)) {
      throw new Conflict("The parent collection does not exist.");
    }
    return {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: "Nothing exists at this URL.\n",
    };
  }
  const m: MethodContext = { ctx, req, user, address };
  return handler(m);
}
