/**
 * addressbook-query (RFC 6352 §8.6): the cards of an address book (or the one card the request
 * names) that match the filter, at most CARDDAV:limit of them (507 on the request-URI when more
 * matched, §8.6.1); addressbook-multiget is the shared multiget of the WebDAV core.
 */
import { BadRequest } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { listObjects } from "../store/objects.js";
import { memberResponse, parseMemberProps } from "../webdav/member-response.js";
import { propertyEnv } from "../webdav/propfind.js";
import type { ResourceContext } from "../webdav/registry.js";
import { depthOf, wantsMinimal } from "../webdav/request.js";
import { multistatusResponse, renderMultistatus, type MultistatusResponse } from "../xml/multistatus.js";
import { card, dav } from "../xml/names.js";
import { child, type XmlElement } from "../xml/parse.js";
import { matchesCardFilter, parseCardFilter } from "./filter.js";
import { cardText } from "./vcard-text.js";

/** CARDDAV:limit/nresults: a positive count, or undefined when there is no limit. */
function limitOf(body: XmlElement): number | undefined {
  const limit = child(body, card("limit"));
  if (!limit) return undefined;
  const text = child(limit, card("nresults"))?.text.trim() ?? "";
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new BadRequest(
      `CARDDAV:limit needs a CARDDAV:nresults with a positive whole number, not '${text}'.`,
    );
  }
  return Number(text);
}

export async function addressbookQuery(m: ResourceContext, body: XmlElement): Promise<DavResponse> {
  const t = m.target;
  if (t.type !== "collection" && t.type !== "object")
    throw new Error("address-book reports run on address books");
  const filterEl = child(body, card("filter"));
  if (!filterEl) throw new BadRequest("addressbook-query needs a CARDDAV:filter (RFC 6352 §10.5).");
  const filter = parseCardFilter(filterEl);
  const limit = limitOf(body);
  const props = parseMemberProps(m.registry, body);
  // As calendar-query: only an explicit Depth: 0 on the address book evaluates the collection, which holds no card.
  if (t.type === "collection" && depthOf(m.req, "1") === "0")
    return multistatusResponse(renderMultistatus([]));
  const cards = t.type === "object" ? [t.obj] : await listObjects(m.ctx.store, t.col.id, true);
  const env = propertyEnv(m);
  const minimal = wantsMinimal(m.req);
  const responses: MultistatusResponse[] = [];
  let truncated = false;
  for (const obj of cards) {
    if (!obj.body || !matchesCardFilter(cardText(obj.body), filter)) continue;
    if (limit !== undefined && responses.length === limit) {
      truncated = true;
      break;
    }
    responses.push(memberResponse(t.col, obj, props, env, minimal));
  }
  if (truncated) {
    responses.push({ href: t.href, status: 507, error: { name: dav("number-of-matches-within-limits") } });
  }
  return multistatusResponse(renderMultistatus(responses));
}
