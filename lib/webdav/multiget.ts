/**
 * The multiget REPORTs (RFC 4791 §7.9 calendar-multiget, RFC 6352 §8.7 addressbook-multiget):
 * members named by href, grouped by collection so each collection is read once and its members in
 * batches; unknown hrefs answer 404 inside the multistatus, other users' 403.
 */
import type { DavResponse } from "../http/message.js";
import { getCollection } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import { getObjects, type ObjectRecord } from "../store/objects.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { memberResponse, needsBody, parseMemberProps } from "./member-response.js";
import { addressOfHref } from "./paths.js";
import { propertyEnv } from "./propfind.js";
import type { ResourceContext } from "./registry.js";
import { wantsMinimal } from "./request.js";

export async function multiget(m: ResourceContext, body: XmlElement): Promise<DavResponse> {
  // The collection the request names is read already; hrefs in it need no second read.
  const known = m.target.type === "collection" || m.target.type === "object" ? m.target.col : undefined;
  const props = parseMemberProps(m.registry, body);
  const hrefs = body.children.filter((c) => c.name === dav("href")).map((h) => h.text.trim());
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  const groups = new Map<
    string,
    { names: { href: string; name: string }[]; kind: CollectionKind; user: string; collection: string }
  >();
  const responses: MultistatusResponse[] = [];
  for (const href of hrefs) {
    const address = addressOfHref(href);
    if (!address || address.type !== "object") {
      responses.push({ href, status: 404 });
      continue;
    }
    if (address.user !== m.user.name) {
      responses.push({ href, status: 403 });
      continue;
    }
    const key = `${address.kind}/${address.collection}`;
    if (!groups.has(key))
      groups.set(key, { names: [], kind: address.kind, user: address.user, collection: address.collection });
    groups.get(key)!.names.push({ href, name: address.object });
  }
  for (const g of groups.values()) {
    const ref = { kind: g.kind, owner: g.user, name: g.collection };
    const col =
      known && known.kind === ref.kind && known.owner === ref.owner && known.name === ref.name
        ? known
        : await getCollection(m.ctx.store, ref);
    const objects = col
      ? await getObjects(
          m.ctx.store,
          col.id,
          g.names.map((n) => n.name),
          needsBody(props),
        )
      : new Map<string, ObjectRecord>();
    for (const { href, name } of g.names) {
      const obj = objects.get(name);
      responses.push(col && obj ? memberResponse(col, obj, props, env, minimal) : { href, status: 404 });
    }
  }
  return multistatusResponse(renderMultistatus(responses));
}
