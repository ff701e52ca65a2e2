/**
 * The expand-property REPORT (RFC 3253 §3.8), as Apple clients use it on principals: for each
 * requested property whose value holds hrefs, the named resources' properties are returned
 * in place of the hrefs.
 */
import { BadRequest, excerpt } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import type { XmlNode } from "../xml/build.js";
import { multistatusResponse, renderMultistatus, statusLine } from "../xml/multistatus.js";
import { clark, dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { addressOfHref } from "./paths.js";
import { propertyEnv, propstatsFor } from "./propfind.js";
import type { MethodContext, PropertyEnv } from "./registry.js";
import { resolveTarget, type Resource } from "./target.js";

interface Wanted {
  name: string;
  nested: Wanted[];
}

/** An XML local name (XML Namespaces §3 NCName, without the rarest start characters). */
const NCNAME = /^[\p{L}_][\p{L}\p{N}\p{M}._\-\u00B7\u203F\u2040]*$/u;

/**
 * The properties a DAV:property names (RFC 3253 §3.8): `name` is the property's local name and
 * `namespace` its namespace. They become element names of the answer, so a name that is no XML
 * name (or missing), or a namespace that a Clark name cannot hold, is a 400.
 */
function parseWanted(el: XmlElement): Wanted[] {
  return el.children
    .filter((c) => c.name === dav("property"))
    .map((p) => {
      const local = p.attrs["{}name"];
      const ns = p.attrs["{}namespace"] ?? "DAV:";
      if (local === undefined || !NCNAME.test(local) || ns.includes("}")) {
        throw new BadRequest(
          `DAV:property needs a name attribute that is an XML name, and a namespace without '}' (RFC 3253 §3.8); got name ${JSON.stringify(excerpt(local ?? "(none)"))}.`,
        );
      }
      return { name: clark(ns, local), nested: parseWanted(p) };
    });
}

async function expand(
  m: MethodContext,
  r: Resource,
  wanted: Wanted[],
  env: PropertyEnv,
  depth: number,
): Promise<XmlNode[][]> {
  const found: XmlNode[] = [];
  const missing: XmlNode[] = [];
  for (const w of wanted) {
    const value = env.registry.properties.get(w.name)?.get(r, env);
    if (value === undefined) {
      missing.push({ name: w.name });
      continue;
    }
    if (!w.nested.length || !Array.isArray(value) || depth > 3) {
      found.push({ name: w.name, value });
      continue;
    }
    // Replace each DAV:href in the value by a DAV:response for the resource it names.
    const responses: XmlNode[] = [];
    for (const node of value) {
      if (node.name !== dav("href") || typeof node.value !== "string") continue;
      const address = addressOfHref(node.value);
      const resolved =
        address && (!("user" in address) || address.user === m.user.name)
          ? await resolveTarget(m.ctx.store, address, m.user)
          : undefined;
      const target = resolved?.type === "unmapped" ? undefined : resolved;
      const inner: XmlNode[] = [{ name: dav("href"), value: node.value }];
      if (!target) inner.push({ name: dav("status"), value: statusLine(404) });
      else {
        const [ok, notFound] = await expand(m, target, w.nested, env, depth + 1);
        inner.push(propstat(200, ok));
        if (notFound.length) inner.push(propstat(404, notFound));
      }
      responses.push({ name: dav("response"), value: inner });
    }
    found.push({ name: w.name, value: responses });
  }
  return [found, missing];
}

const propstat = (status: number, props: XmlNode[]): XmlNode => ({
  name: dav("propstat"),
  value: [
    { name: dav("prop"), value: props },
    { name: dav("status"), value: statusLine(status) },
  ],
});

export async function expandProperty(
  m: MethodContext & { target: Resource },
  body: XmlElement,
): Promise<DavResponse> {
  const target = m.target;
  const env = propertyEnv(m);
  const wanted = parseWanted(body);
  const [found, missing] = await expand(m, target, wanted, env, 0);
  const propstats = [{ status: 200, props: found }];
  if (missing.length) propstats.push({ status: 404, props: missing });
  if (!wanted.length)
    propstats.splice(0, 1, ...propstatsFor(target, { kind: "allprop", include: [] }, env, false));
  return multistatusResponse(renderMultistatus([{ href: target.href, propstats }]));
}
