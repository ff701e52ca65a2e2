/**
 * Adapters between the Lambda event shapes a deployment may use and the DAV request model:
 * payload format 2.0 (Function URLs, API Gateway HTTP APIs) and ALB target events (with or
 * without multi-value headers).
 */
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { decodePath, reasonPhrase, type DavRequest, type DavResponse } from "./message.js";

export type FrontDoorEvent = APIGatewayProxyEventV2 | ALBEvent;
export type FrontDoorResult = APIGatewayProxyStructuredResultV2 | ALBResult;

/** Which shape an event has, so the answer can be given in the same shape. */
export type EventShape = "v2" | "alb" | "alb-multi";

export function eventShape(event: FrontDoorEvent): EventShape {
  if ("requestContext" in event && event.requestContext && "http" in event.requestContext) return "v2";
  const alb = event as ALBEvent;
  return alb.multiValueHeaders ? "alb-multi" : "alb";
}

function bodyBytes(body: string | null | undefined, isBase64Encoded: boolean): Buffer {
  if (body == null) return Buffer.alloc(0);
  return isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
}

function lowerCaseHeaders(
  single: Record<string, string | undefined> | undefined,
  multi: Record<string, string[] | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  };
  if (multi) {
    for (const [name, values] of Object.entries(multi)) for (const v of values ?? []) add(name, v);
  } else if (single) {
    for (const [name, value] of Object.entries(single)) if (value !== undefined) add(name, value);
  }
  return out;
}

function splitPathAndQuery(raw: string): [string, string] {
  const q = raw.indexOf("?");
  return q < 0 ? [raw, ""] : [raw.slice(0, q), raw.slice(q + 1)];
}

function queryFromParams(
  single: Record<string, string | undefined> | undefined,
  multi: Record<string, string[] | undefined> | undefined,
): string {
  // ALB hands over query parameters as it received them (still URL-encoded), so join them back as they were.
  const parts: string[] = [];
  if (multi) {
    for (const [k, vs] of Object.entries(multi)) for (const v of vs ?? []) parts.push(`${k}=${v}`);
  } else if (single) {
    for (const [k, v] of Object.entries(single)) if (v !== undefined) parts.push(`${k}=${v}`);
  }
  return parts.join("&");
}

export class BadEventError extends Error {
  override name = "BadEventError";
}

export function requestFromEvent(event: FrontDoorEvent): DavRequest {
  const shape = eventShape(event);
  let method: string;
  let rawPath: string;
  let query: string;
  let headers: Record<string, string>;
  if (shape === "v2") {
    const e = event as APIGatewayProxyEventV2;
    method = e.requestContext.http.method;
    [rawPath] = splitPathAndQuery(e.rawPath ?? e.requestContext.http.path ?? "/");
    query = e.rawQueryString ?? "";
    headers = lowerCaseHeaders(e.headers, undefined);
    // Payload 2.0 moves Cookie headers into their own array.
    if (e.cookies?.length) headers["cookie"] = e.cookies.join("; ");
  } else {
    const e = event as ALBEvent;
    method = e.httpMethod;
    rawPath = e.path || "/";
    query = queryFromParams(e.queryStringParameters, e.multiValueQueryStringParameters);
    headers = lowerCaseHeaders(e.headers, e.multiValueHeaders);
  }
  const body = bodyBytes(event.body, event.isBase64Encoded);
  return {
    method: method.toUpperCase(),
    rawPath,
    // An undecodable path is passed on raw; the router answers it with 400.
    path: decodePath(rawPath) ?? rawPath,
    query,
    headers,
    body,
  };
}

const TEXTUAL = /^(text\/|application\/(xml|json|.*\+xml))/i;

function encodeBody(response: DavResponse): { body: string; isBase64Encoded: boolean } {
  const { body } = response;
  if (body === undefined) return { body: "", isBase64Encoded: false };
  if (typeof body === "string") return { body, isBase64Encoded: false };
  const type = String(response.headers["content-type"] ?? "");
  // Text we produced ourselves is valid UTF-8; anything else goes base64 so no byte is altered.
  if (TEXTUAL.test(type)) {
    const text = body.toString("utf8");
    if (Buffer.from(text, "utf8").equals(body)) return { body: text, isBase64Encoded: false };
  }
  return { body: body.toString("base64"), isBase64Encoded: true };
}

function withContentLength(response: DavResponse): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase()] = v;
  // iOS drops 207s without a Content-Length, so every body is sent buffered with its length.
  if (response.body !== undefined) {
    headers["content-length"] = String(
      typeof response.body === "string" ? Buffer.byteLength(response.body) : response.body.length,
    );
  }
  return headers;
}

export function resultForEvent(shape: EventShape, response: DavResponse): FrontDoorResult {
  const headers = withContentLength(response);
  const { body, isBase64Encoded } = encodeBody(response);
  if (shape === "alb-multi") {
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(headers)) multiValueHeaders[k] = Array.isArray(v) ? v : [v];
    return {
      statusCode: response.status,
      statusDescription: `${response.status} ${reasonPhrase(response.status)}`,
      multiValueHeaders,
      body,
      isBase64Encoded,
    };
  }
  const single: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k === "set-cookie" && shape === "v2") cookies.push(...(Array.isArray(v) ? v : [v]));
    else single[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  if (shape === "alb") {
    return {
      statusCode: response.status,
      statusDescription: `${response.status} ${reasonPhrase(response.status)}`,
      headers: single,
      body,
      isBase64Encoded,
    };
  }
  const result: APIGatewayProxyStructuredResultV2 = {
    statusCode: response.status,
    headers: single,
    body,
    isBase64Encoded,
  };
  if (cookies.length) result.cookies = cookies;
  return result;
}
