/**
 * Serving a vCard in the version a client reads (RFC 6352 §5.1.1): what an Accept header asks for,
 * and the ETag of a converted card. The stored body is never rewritten; a converted one gets an
 * ETag derived from the stored ETag and the version, so it is stable and never the stored body's.
 */
import type { DavRequest } from "../http/message.js";
import type { ObjectRecord } from "../store/objects.js";
import type { MemberVariants, Variant } from "../webdav/registry.js";
import { cardText } from "./vcard-text.js";
import { convertVcard, VCARD_VERSIONS, versionOf, type VcardVersion } from "./vcard-version.js";

const VCARD = "text/vcard; charset=utf-8";
const DERIVED = /^"([^".]*)\.vcard[34]r\d+"$/;
/**
 * The conversion's revision, part of every derived ETag: when a release changes what a stored card
 * converts to, the new bytes get a new strong ETag (RFC 9110 §8.8.3), and caches fetch them again.
 */
const CONVERSION = 1;

/** The ETag of the stored card `etag` written as `version`. */
export const variantEtag = (etag: string, version: VcardVersion): string =>
  `"${etag.replace(/^"|"$/g, "")}.vcard${version[0]}r${CONVERSION}"`;

/** The stored ETag behind a derived one; any other ETag is returned as it is. */
export const storedEtag = (etag: string): string => {
  const m = DERIVED.exec(etag);
  return m ? `"${m[1]}"` : etag;
};

/**
 * The version an Accept header prefers over the stored one (RFC 9110 §12.5.1), or undefined when
 * the stored one is as welcome: `text/vcard; version=4.0` asks for 4.0, a plain `text/vcard` or
 * `*\/*` takes what is stored.
 */
export function wantedVersion(accept: string | undefined, stored: string): VcardVersion | undefined {
  if (!accept) return undefined;
  const q: Partial<Record<VcardVersion, number>> = {};
  let any = -1;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    const param = (n: string) =>
      params
        .find((p) => p.startsWith(`${n}=`))
        ?.slice(n.length + 1)
        .replace(/"/g, "");
    const weight = param("q") === undefined ? 1 : Number(param("q"));
    if (!Number.isFinite(weight)) continue;
    const version = param("version") as VcardVersion | undefined;
    if ((type === "text/vcard" || type === "text/x-vcard") && version && VCARD_VERSIONS.includes(version)) {
      q[version] = Math.max(q[version] ?? 0, weight);
    } else if (["text/vcard", "text/x-vcard", "text/*", "*/*"].includes(type)) {
      any = Math.max(any, weight);
    }
  }
  const best = VCARD_VERSIONS.filter((v) => (q[v] ?? 0) > 0).sort((a, b) => q[b]! - q[a]!)[0];
  if (!best || best === stored) return undefined;
  const storedWeight = q[stored as VcardVersion] ?? any;
  return storedWeight >= q[best]! ? undefined : best;
}

/** The card in `version`, or undefined when it is stored so (or cannot be written so: then as stored). */
export function convertedCard(
  obj: ObjectRecord & { body: Buffer },
  version: VcardVersion,
  text = cardText(obj.body),
): Variant | undefined {
  if (versionOf(text) === version) return undefined;
  let body: string;
  try {
    body = convertVcard(text, version);
  } catch {
    // A stored card always parses; one whose values the other version cannot hold is served as stored.
    return undefined;
  }
  return { body, contentType: VCARD, etag: variantEtag(obj.etag, version) };
}

export const vcardVariants: MemberVariants = {
  asked: (req: DavRequest) => /version\s*=/i.test(req.headers.accept ?? ""),
  select(req, obj) {
    const text = cardText(obj.body);
    const version = wantedVersion(req.headers.accept, versionOf(text));
    return version ? convertedCard(obj, version, text) : undefined;
  },
  storedEtag,
};
