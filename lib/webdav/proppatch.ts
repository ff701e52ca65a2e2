/**
 * PROPPATCH (RFC 4918 §9.2): all or nothing, planned by property-update.ts. Protected properties
 * fail with 403 cannot-modify-protected-property, invalid values with 409; when anything fails the
 * rest answer 424 and nothing is written. A successful patch is one DynamoDB transaction.
 */
import { BadRequest } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { updateCollectionProps } from "../store/collections.js";
import { updateObjectProps } from "../store/objects.js";
import { multistatusResponse, renderMultistatus } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import {
  planPropertyUpdate,
  propertyOps,
  PropertyUpdateError,
  propstatsOf,
  type PropertyOp,
  type PropertyPlan,
} from "./property-update.js";
import type { CollectionRecord } from "../store/collections.js";
import { updateViewProps } from "../store/shares.js";
import { PER_USER_PROPERTIES } from "../store/views.js";
import type { RequestContext, ResourceContext } from "./registry.js";
import type { ObjectTarget } from "./target.js";
import { writeExpectation } from "./objects.js";

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
  if (target.type === "object" && m.registry.collectionType(target.col.kind).memberProperties) {
    return memberProppatch(m, target, ops);
  }
  const col = target.type === "collection" ? target.col : undefined;
  const plan = planPropertyUpdate(m.registry, col?.kind, ops, { current: col });
  if (col?.view) return viewProppatch(m, col, plan);
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

/**
 * PROPPATCH on a sharee's view: their display name and colour are their own (kept on the view);
 * any other property is the owner's, which a read-write sharee may change and a read-only one may
 * not (403 need-privileges, the rest 424: all or nothing still).
 */
async function viewProppatch(m: ResourceContext, col: CollectionRecord, plan: PropertyPlan) {
  const c = plan.change;
  const own = (name: string) => PER_USER_PROPERTIES.includes(name);
  const shared = [
    ...Object.keys(c.setProps),
    ...c.removeProps,
    ...Object.keys(c.setDead),
    ...c.removeDead,
  ].filter((n) => !own(n));
  if (!plan.failed && shared.length && col.view!.access !== "read-write") {
    for (const o of plan.outcomes) {
      if (shared.includes(o.name)) {
        o.status = 403;
        o.error = dav("need-privileges");
        o.description = `${col.owner} shares this collection read-only: only your own display name and colour can be set here.`;
      } else o.status = 424;
    }
    plan.failed = true;
  }
  if (!plan.failed && plan.outcomes.length) {
    const pick = (names: string[]) => names.filter(own);
    const mine = Object.fromEntries(Object.entries(c.setProps).filter(([n]) => own(n)));
    const viewed = await updateViewProps(m.ctx.store, col, mine, pick(c.removeProps));
    if (shared.length) {
      const rest = {
        setProps: Object.fromEntries(Object.entries(c.setProps).filter(([n]) => !own(n))),
        removeProps: c.removeProps.filter((n) => !own(n)),
        setDead: c.setDead,
        removeDead: c.removeDead,
      };
      await updateCollectionProps(
        m.ctx.store,
        { kind: col.kind, owner: col.owner, name: col.name },
        rest,
        viewed,
        m.ifHeader,
      );
    }
  }
  return multistatusResponse(
    renderMultistatus([{ href: m.target.href, propstats: propstatsOf(plan.outcomes) }]),
  );
}

/** PROPPATCH on a member that keeps dead properties (a file): one conditional write of its item. */
async function memberProppatch(m: ResourceContext, t: ObjectTarget, ops: PropertyOp[]): Promise<DavResponse> {
  const plan = planPropertyUpdate(m.registry, t.col.kind, ops, {
    member: true,
    current: { props: {}, dead: t.obj.dead ?? {} },
  });
  if (!plan.failed && plan.outcomes.length) {
    const write = {
      ctx: m.ctx,
      user: m.user,
      col: t.col,
      name: t.obj.name,
      op: "put" as const,
      tokens: m.tokens,
    };
    await updateObjectProps(
      m.ctx.store,
      { kind: t.col.kind, owner: t.col.owner, name: t.col.name },
      t.obj.name,
      plan.change,
      writeExpectation(m, t.col),
      { first: t.col, existing: t.obj, guards: m.registry.guards(write) },
    );
  }
  return multistatusResponse(renderMultistatus([{ href: t.href, propstats: propstatsOf(plan.outcomes) }]));
}
