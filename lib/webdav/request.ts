/** What every method handler receives: the server context, the request, the user and the target address. */
import type { DavRequest, DavResponse } from "../http/message.js";
import type { DavContext } from "../server.js";
import type { UserRecord } from "../store/users.js";
import { BadRequest, UnsupportedMediaType } from "../errors.js";
import { parseXml, XmlParseError, type XmlElement } from "../xml/parse.js";
import type { Address } from "./paths.js";

export interface MethodContext {
  ctx: DavContext;
  req: DavRequest;
  user: UserRecord;
  address: Address;
}

export type MethodHandler = (m: MethodContext) => Promise<DavResponse>;

/** Parse an XML request body; undefined for an empty body. Malformed XML is a 400 with the parser's reason. */
export function xmlBody(req: DavRequest): XmlElement | undefined {
  if (req.body.length === 0 || req.body.toString("utf8").trim() === "") return undefined;
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
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
