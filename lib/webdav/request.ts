/** Reading what a request says: its XML body, Depth, Prefer, and If-Match / If-None-Match. */
import { mediaType, type DavRequest } from "../http/message.js";
import type { Expectation } from "../store/objects.js";
import { BadRequest, HeaderTooLarge, UnsupportedMediaType } from "../errors.js";
import { parseXml, XmlParseError, type XmlElement } from "../xml/parse.js";

/** Parse an XML request body; undefined for an empty body. Malformed XML is a 400 with the parser's reason. */
export function xmlBody(req: DavRequest): XmlElement | undefined {
  if (req.body.length === 0 || req.body.toString("utf8").trim() === "") return undefined;
  const type = mediaType(req.headers["content-type"]);
  // Lenient on text/* (some clients label XML text/plain); anything else that is not XML is refused.
  if (type && !type.startsWith("text/") && !/^application\/([\w.+-]+\+)?xml$/.test(type)) {
    throw new UnsupportedMediaType(`Expected an XML body, got '${type}'.`);
  }
  try {
    return parseXml(req.body);
  } catch (err) {
    if (err instanceof XmlParseError)
      throw new BadRequest(`The request body is not well-formed XML: ${err.message}`);
    throw err;
  }
}

/** RFC 4918 §10.2 Depth; absent means infinity, which callers may refuse. */
export function depthOf(req: DavRequest, absent: "0" | "1" | "infinity"): "0" | "1" | "infinity" {
  const d = (req.headers["depth"] ?? "").trim().toLowerCase();
  if (d === "") return absent;
  if (d === "0" || d === "1" || d === "infinity") return d;
  throw new BadRequest(`Invalid Depth header '${d}': use 0, 1 or infinity.`);
}

/** RFC 8144 (Prefer: return=minimal) and the older Brief: t both ask to drop 404 propstats. */
export function wantsMinimal(req: DavRequest): boolean {
  const prefer = req.headers["prefer"] ?? "";
  return (
    /(^|[,;\s])return=minimal\b/i.test(prefer) || (req.headers["brief"] ?? "").trim().toLowerCase() === "t"
  );
}

/** Longest precondition header accepted (If-Match, If-None-Match, If): more is no client's need. */
export const MAX_CONDITION_HEADER = 8192;

/** A precondition header's value, bounded (RFC 6585 §5: 431 past the bound). */
export function conditionHeader(req: DavRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (v !== undefined && v.length > MAX_CONDITION_HEADER) {
    throw new HeaderTooLarge(
      `The ${name} header is ${v.length} characters long; at most ${MAX_CONDITION_HEADER} are accepted.`,
    );
  }
  return v;
}

/**
 * Parse If-Match / If-None-Match (RFC 9110 §13.1.1-2). If-Match uses the strong comparison, so a
 * weak tag never matches; If-None-Match uses the weak comparison, so `W/"x"` matches a stored `"x"`.
 */
export function expectationOf(req: DavRequest): Expectation {
  const parse = (v: string | undefined, weak: "drop" | "strip"): "*" | string[] | undefined => {
    if (v === undefined) return undefined;
    const t = v.trim();
    if (t === "*") return "*";
    const tags = t.match(/(W\/)?"[^"]*"/g);
    if (!tags) throw new BadRequest(`Malformed entity-tag list '${t}'.`);
    return weak === "drop"
      ? tags.filter((tag) => !tag.startsWith("W/"))
      : tags.map((tag) => tag.replace(/^W\//, ""));
  };
  return {
    ifMatch: parse(conditionHeader(req, "if-match"), "drop"),
    ifNoneMatch: parse(conditionHeader(req, "if-none-match"), "strip"),
  };
}

/** The origin clients reach this server at (absolute URLs in properties): the Host, over HTTPS unless on loopback. */
export function originOf(req: DavRequest): string | undefined {
  const host = req.headers["host"];
  if (!host) return undefined;
  const proto =
    req.headers["x-forwarded-proto"]?.split(",")[0].trim() ??
    (/^(localhost|127\.|\[::1\])/.test(host) ? "http" : "https");
  return `${proto}://${host}`;
}
