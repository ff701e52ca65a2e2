/**
 * PROPPATCH (RFC 4918 §9.2): all or nothing. Protected properties fail with 403
 * cannot-modify-protected-property, invalid values with 409; when anything fails the rest answer
 * 424 and nothing is written. A successful patch is one DynamoDB transaction.
 */
import { BadRequest } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { updateCollectionProps, type CollectionRecord, type PropertyChange } from "../store/collections.js";
import { multistatusResponse, renderMultistatus, type PropStat } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import { serializeContent } from "../xml/serialize.js";
import { xmlBody, type MethodContext } from "./method.js";
import { PROPERTY_MAP } from "./properties.js";
import { resolveOrThrow } from "./resource.js";

/** Room for a collection's live and dead properties together, well inside DynamoDB's item limit. */
export const MAX_PROPERTY_BYTES = 128 * 1024;

/** Bytes the collection's properties would take after the change. */
function storedSize(col: CollectionRecord, change: Required<PropertyChange>): number {
  const props = { ...col.props, ...change.setProps };
  for (const p of change.removeProps) delete props[p];
  const dead = { ...col.dead, ...change.setDead };
  for (const p of change.removeDead) delete dead[p];
  let bytes = 0;
  for (const [k, v] of [...Object.entries(props), ...Object.entries(dead)]) {
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  return bytes;
}

interface Outcome {
  name: string;
  status: number;
  error?: string;
  description?: string;
}

export async function proppatch(m: MethodContext): Promise<DavResponse> {
  const body = xmlBody(m.req);
  if (!body || body.name !== dav("propertyupdate")) {
    throw new BadRequest("The body of a PROPPATCH must be a DAV:propertyupdate element.");
  }
  const target = await resolveOrThrow(m.ctx.store, m.address, m.user);
  const change: Required<PropertyChange> = { setProps: {}, removeProps: [], setDead: {}, removeDead: [] };
  const outcomes: Outcome[] = [];

  for (const action of body.children) {
    const isSet = action.name === dav("set");
    if (!isSet && action.name !== dav("remove"))
      throw new BadRequest(`Unexpected element ${action.name} in propertyupdate.`);
    for (const prop of action.children.filter((c) => c.name === dav("prop")).flatMap((p) => p.children)) {
      const name = prop.name;
      const def = PROPERTY_MAP.get(name);
      if (target.type !== "collection") {
        outcomes.push({ name, status: 403, error: dav("cannot-modify-protected-property") });
        continue;
      }
      if (def) {
        if (!def.settableOn?.includes(target.col.kind)) {
          outcomes.push({ name, status: 403, error: dav("cannot-modify-protected-property") });
          continue;
        }
        if (isSet) {
          try {
            change.setProps[name] = def.validate ? def.validate(prop.text) : prop.text;
            change.removeProps = change.removeProps.filter((n) => n !== name);
          } catch (err) {
            outcomes.push({ name, status: 409, description: (err as Error).message });
            continue;
          }
        } else {
          change.removeProps.push(name);
          delete change.setProps[name];
        }
      } else if (isSet) {
        change.setDead[name] = serializeContent(prop);
        change.removeDead = change.removeDead.filter((n) => n !== name);
      } else {
        change.removeDead.push(name);
        delete change.setDead[name];
      }
      outcomes.push({ name, status: 200 });
    }
  }

  if (target.type === "collection" && !outcomes.some((o) => o.status !== 200)) {
    // RFC 4918 §9.2.1: 507 when there is no room to record the properties (a DynamoDB item holds 400 KB).
    if (storedSize(target.col, change) > MAX_PROPERTY_BYTES) {
      for (const o of outcomes) {
        if (o.name in change.setProps || o.name in change.setDead) {
          o.status = 507;
          o.description = `The properties of a collection may take up to ${MAX_PROPERTY_BYTES} bytes.`;
        }
      }
    }
  }

  const failedAny = outcomes.some((o) => o.status !== 200);
  if (failedAny) {
    for (const o of outcomes) if (o.status === 200) o.status = 424;
  } else if (target.type === "collection" && outcomes.length) {
    await updateCollectionProps(
      m.ctx.store,
      { kind: target.col.kind, owner: target.col.owner, name: target.col.name },
      change,
      target.col,
    );
  }

  const byStatus = new Map<string, PropStat>();
  for (const o of outcomes) {
    const key = `${o.status}|${o.error ?? ""}|${o.description ?? ""}`;
    let ps = byStatus.get(key);
    if (!ps) {
      ps = {
        status: o.status,
        props: [],
        error: o.error ? { name: o.error } : undefined,
        description: o.description,
      };
      byStatus.set(key, ps);
    }
    if (!ps.props.some((p) => p.name === o.name)) ps.props.push({ name: o.name });
  }
  return multistatusResponse(renderMultistatus([{ href: target.href, propstats: [...byStatus.values()] }]));
}
