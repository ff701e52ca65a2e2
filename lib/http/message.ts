/**
 * The transport-neutral request/response model. Front-door adapters (Lambda event shapes, the local
 * Node server) translate into and out of these; the DAV core never sees an event.
 */

export interface DavRequest {
  /** Upper-case HTTP method, e.g. `PROPFIND`. */
  method: string;
  /** Path as sent on the wire (still percent-encoded), without the query string. */
  rawPath: string;
  /** Percent-decoded path. Not normalised: the router does that, so it can refuse odd paths. */
  path: string;
  /** Raw query string without the leading `?`. */
  query: string;
  /** Header names lower-cased; repeated headers joined with `, ` (RFC 9110 §5.3). */
  headers: Record<string, string>;
  body: Buffer;
  /** Set by authentication; absent for anonymous requests. */
  principal?: string;
}

export type HeaderValue = string | string[];

export interface DavResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  /** Text bodies stay strings; binary ones are Buffers and go out base64-encoded where the front door needs it. */
  body?: string | Buffer;
}

export function header(req: DavRequest, name: string): string | undefined {
  return req.headers[name.toLowerCase()];
}

/** The media type of a Content-Type header, lower-cased, without parameters ("" when absent). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/** Decode a percent-encoded path; malformed escapes are returned undecoded so the router can refuse them. */
export function decodePath(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

export const REASON_PHRASES: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  207: "Multi-Status",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  423: "Locked",
  424: "Failed Dependency",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? "Unknown";
}
