/**
 * The DAV:response for a member in a REPORT (multiget, calendar-query, sync-collection): the
 * ordinary properties, plus the registered member properties computed from its body
 * (CALDAV:calendar-data with its comp/prop subsetting and expansion, CARDDAV:address-data).
 */
import type { CollectionRecord } from "../store/collections.js";
import type { ObjectRecord } from "../store/objects.js";
import type { XmlNode } from "../xml/build.js";
import type { MultistatusResponse } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { parsePropfind, propstatsFor, type PropRequest } from "./propfind.js";
import type { MemberPropertyDef, PropertyEnv, Registry } from "./registry.js";
import { objectTarget } from "./target.js";

export interface MemberProps {
  /** The ordinary properties asked for. */
  request: PropRequest;
  /** The member properties asked for, each with what its request element said. */
  member: { name: string; def: MemberPropertyDef; spec: unknown }[];
}

/** Whether bodies must be fetched to answer. */
export const needsBody = (p: MemberProps) => p.member.length > 0;

/** Read the DAV:prop / allprop / propname child of a REPORT body (DAV:getetag when there is none). */
export function parseMemberProps(registry: Registry, report: XmlElement): MemberProps {
  const el = report.children.find((c) => [dav("prop"), dav("allprop"), dav("propname")].includes(c.name));
  if (!el) return { request: { kind: "prop", names: [dav("getetag")] }, member: [] };
  const request = parsePropfind({ ...report, name: dav("propfind"), children: [el], nodes: [el] });
  if (request.kind !== "prop") return { request, member: [] };
  const member: MemberProps["member"] = [];
  const names: string[] = [];
  for (const name of request.names) {
    const def = registry.properties.get(name)?.member;
    if (!def) names.push(name);
    else if (!member.some((x) => x.name === name)) {
      member.push({ name, def, spec: def.parse(el.children.find((c) => c.name === name)!) });
    }
  }
  return { request: { kind: "prop", names }, member };
}

export function memberResponse(
  col: CollectionRecord,
  obj: ObjectRecord,
  props: MemberProps,
  env: PropertyEnv,
  minimal: boolean,
): MultistatusResponse {
  const r = objectTarget(col, obj);
  const propstats = propstatsFor(r, props.request, env, minimal);
  const found: XmlNode[] = [];
  const missing: XmlNode[] = [];
  let etag: string | undefined;
  for (const { name, def, spec } of props.member) {
    const stored = obj.body ? { ...obj, body: obj.body } : undefined;
    const value = stored ? def.render(col, stored, spec) : undefined;
    if (value !== undefined) found.push({ name, value });
    else missing.push({ name });
    if (stored) etag = def.etag?.(col, stored, spec) ?? etag;
  }
  // The data comes in a form with an ETag of its own (a vCard in the other version): getetag names that form.
  if (etag)
    for (const p of propstats)
      for (const node of p.props) if (node.name === dav("getetag")) node.value = etag;
  if (found.length) {
    const ok = propstats.find((p) => p.status === 200);
    if (ok) ok.props.push(...found);
    else propstats.unshift({ status: 200, props: found });
  }
  if (missing.length && !minimal) {
    const notFound = propstats.find((p) => p.status === 404);
    if (notFound) notFound.props.push(...missing);
    else propstats.push({ status: 404, props: missing });
  }
  return { href: r.href, propstats };
}
