/**
 * The DAV core's entry point: one function from a request to a response. Everything protocol-related
 * happens behind it; adapters and handlers only translate.
 */
import type { DavRequest, DavResponse } from "./http/message.js";
import type { Store } from "./store/users.js";

export interface ServerConfig {
  /** Basic-auth realm. */
  realm: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

export interface DavContext {
  store: Store;
  config: ServerConfig;
}

export const SERVER_HEADER = "x-dav-server";
export const SERVER_NAME = "lambda-dav";

export const DAV_COMPLIANCE = "1, 3, access-control, calendar-access, addressbook, extended-mkcol";
export const ALLOWED_METHODS =
  "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR";

export function defaultServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    realm: env.DAV_REALM ?? "lambda-dav",
    maxBodyBytes: Number(env.DAV_MAX_BODY_BYTES ?? 4 * 1024 * 1024),
  };
}

export async function handle(_ctx: DavContext, req: DavRequest): Promise<DavResponse> {
  const response = await dispatch(req);
  // Marks every answer as coming from this handler, so `npm run probe` can tell what reached us.
  response.headers[SERVER_HEADER] = SERVER_NAME;
  return response;
}

async function dispatch(req: DavRequest): Promise<DavResponse> {
  if (req.method === "OPTIONS") {
    return { status: 200, headers: { dav: DAV_COMPLIANCE, allow: ALLOWED_METHODS, "content-length": "0" } };
  }
  return {
    status: 501,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: `${req.method} is not implemented yet.\n`,
  };
}
