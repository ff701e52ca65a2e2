/** PROPFIND (RFC 4918 §9.1): prop, allprop (with include), propname; Depth 0 and 1. */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import type { XmlNode } from "../xml/build.js";
import {
  multistatusResponse,
  renderMultistatus,
  type MultistatusResponse,
  type PropStat,
} from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { deadProperty } from "./dead-properties.js";
import type { PropertyEnv, RequestContext, ResourceContext } from "./registry.js";
import { depthOf, originOf, wantsMinimal } from "./request.js";
import { childrenOf, type Resource } from "./target.js";

export type PropRequest =
  { kind: "prop"; names: string[] } | { kind: "allprop"; include: string[] } | { kind: "propname" };

export function parsePropfind(body: XmlElement | undefined): PropRequest {
  if (!body) return { kind: "allprop", include: [] };
  if (body.name !== dav("propfind"))
    throw new BadRequest("The body of a PROPFIND must be a DAV:propfind element.");
  const first = body.children[0];
  if (!first) return { kind: "allprop", include: [] };
  if (first.name === dav("prop")) return { kind: "prop", names: first.children.map((c) => c.name) };
  if (first.name === dav("propname")) return { kind: "propname" };
  if (first.name === dav("allprop")) {
    const include = body.children.find((c) => c.name === dav("include"));
    return { kind: "allprop", include: include?.children.map((c) => c.name) ?? [] };
  }
  throw new BadRequest(`Unexpected element ${first.name} in DAV:propfind.`);
}

/** One resource's propstats for a property request. */
export function propstatsFor(
  r: Resource,
  request: PropRequest,
  env: PropertyEnv,
  minimal: boolean,
): PropStat[] {
  const properties = env.registry.propertyList;
  const dead = r.type === "collection" ? r.col.dead : r.type === "object" ? (r.obj.dead ?? {}) : {};
  if (request.kind === "propname") {
    const names = properties.filter((p) => p.get(r, env) !== undefined).map((p) => p.name);
    return [{ status: 200, props: [...names, ...Object.keys(dead)].map((name) => ({ name })) }];
  }
  const inAllprop = (p: (typeof properties)[number]) =>
    typeof p.allprop === "function" ? p.allprop(r) : p.allprop === true;
  const names =
    request.kind === "prop"
      ? request.names
      : [...properties.filter(inAllprop).map((p) => p.name), ...Object.keys(dead), ...request.include];
  const found: XmlNode[] = [];
  const missing: XmlNode[] = [];
  for (const name of new Set(names)) {
    const value = env.registry.properties.get(name)?.get(r, env);
    if (value !== undefined) found.push({ name, value });
    else if (dead[name] !== undefined) found.push(deadProperty(name, dead[name]));
    else if (request.kind === "prop") missing.push({ name });
  }
  const stats: PropStat[] = [];
  if (missing.length && !minimal) stats.push({ status: 404, props: missing });
  // A DAV:response needs a propstat or a status (RFC 4918 §14.24): when a minimal answer dropped
  // everything (or nothing was asked), it still gets an empty 200 propstat.
  if (found.length || stats.length === 0) stats.unshift({ status: 200, props: found });
  return stats;
}

/** Properties kept outside the resources, read once for all of them when the request asks for them. */
async function loadProperties(
  m: ResourceContext,
  request: PropRequest,
  resources: readonly Resource[],
): Promise<Map<string, unknown>> {
  const loaded = new Map<string, unknown>();
  for (const p of m.registry.propertyList) {
    if (!p.load) continue;
    const asked =
      request.kind === "prop"
        ? request.names.includes(p.name)
        : request.kind === "allprop" && (p.allprop !== undefined || request.include.includes(p.name));
    if (asked) loaded.set(p.name, await p.load(m.ctx, m.user, resources));
  }
  return loaded;
}

export function propertyEnv(m: RequestContext): PropertyEnv {
  return {
    principal: m.user.name,
    email: m.user.email,
    config: m.ctx.config,
    registry: m.registry,
    origin: originOf(m.req),
  };
}

export interface PropfindPlan {
  depth: "0" | "1";
  request: PropRequest;
}

/** Depth and body, checked before the URL is resolved. */
export function preparePropfind(m: RequestContext): PropfindPlan {
  // RFC 4918 §9.1, §10.2: no Depth header means infinity, which this server refuses like an explicit one.
  const depth = depthOf(m.req, "infinity");
  if (depth === "infinity") {
    throw new Forbidden(
      "PROPFIND with Depth: infinity (or no Depth header) is not supported; use Depth: 0 or 1.",
      {
        name: dav("propfind-finite-depth"),
      },
    );
  }
  return { depth, request: parsePropfind(m.body) };
}

export async function propfind(m: ResourceContext, { depth, request }: PropfindPlan): Promise<DavResponse> {
  const kinds = [...m.registry.collections.keys()];
  const children = depth === "1" ? await childrenOf(m.ctx.store, m.target, m.user, kinds) : [];
  if (m.target.type === "home") {
    // The default collection first: Apple Contacts takes the first address book of a home as the one it shows.
    const first = m.registry.collectionType(m.target.kind).defaultCollection(m.target.user).name;
    const isFirst = (r: Resource) => r.type === "collection" && r.col.name === first;
    children.sort((a, b) => Number(isFirst(b)) - Number(isFirst(a)));
  }
  const resources = [m.target, ...children];
  const env = propertyEnv(m);
  env.loaded = await loadProperties(m, request, resources);
  const minimal = wantsMinimal(m.req);
  const responses: MultistatusResponse[] = resources.map((r) => ({
    href: r.href,
    propstats: propstatsFor(r, request, env, minimal),
  }));
  const res = multistatusResponse(renderMultistatus(responses));
  if (minimal) res.headers["preference-applied"] = "return=minimal";
  return res;
}
