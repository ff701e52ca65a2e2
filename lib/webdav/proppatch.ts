/**
 * PROPPATCH (RFC 4918 §9.2): all or nothing, planned by property-update.ts. Protected properties
 * fail with 403 cannot-modify-protected-property, invalid values with 409; when anything fails the
 * rest answer 424 and nothing is written. A successful patch is one DynamoDB transaction.
 */
import { BadRequest } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { updateCollectionProps } from "../store/collections.js";
import { multistatusResponse, renderMultistatus } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import {
  planPropertyUpdate,
  propertyOps,
  PropertyUpdateError,
  propstatsOf,
  type PropertyOp,
} from "./property-update.js";
import type { RequestContext, ResourceContext } from "./registry.js";

/** The body's set and remove operations, checked before the URL is resolved. */
export function prepareProppatch(m: RequestContext): PropertyOp[] {
  const body = m.body;
  if (!body || body.name !== dav("propertyupdate")) {
    throw new BadRequest("The body of a PROPPATCH must be a DAV:propertyupdate element.");
  }
  try {
    return propertyOps(body, true);
  } catch (err) {
    if (err instanceof PropertyUpdateError) throw new BadRequest(err.message);
    throw err;
  }
}

export async function proppatch(m: ResourceContext, ops: PropertyOp[]): Promise<DavResponse> {
  const target = m.target;
  const col = target.type === "collection" ? target.col : undefined;
  const plan = planPropertyUpdate(m.registry, col?.kind, ops, { current: col });
  if (col && !plan.failed && plan.outcomes.length) {
    await updateCollectionProps(
      m.ctx.store,
      { kind: col.kind, owner: col.owner, name: col.name },
      plan.change,
      col,
      m.ifHeader,
      await m.registry.collectionGuards({
        ctx: m.ctx,
        user: m.user,
        kind: col.kind,
        owner: col.owner,
        name: col.name,
        op: "props",
        tokens: m.tokens,
      }),
    );
  }
  return multistatusResponse(
    renderMultistatus([{ href: target.href, propstats: propstatsOf(plan.outcomes) }]),
  );
}
