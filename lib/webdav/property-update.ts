/**
 * The one property-update planner, for PROPPATCH (RFC 4918 §9.2) and for the initial properties of
 * MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689 §3): which properties may be set on
 * the target, what each value is stored as, whether they still fit the collection's item, and the
 * grouping of the outcomes into propstats. An update is all or nothing: when one property fails,
 * the others answer 424 Failed Dependency and nothing is written.
 */
import { applyPropertyChange, type PropertyChange } from "../store/collections.js";
import type { CollectionKind } from "../store/keys.js";
import type { PropStat } from "../xml/multistatus.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { storedDeadValue } from "./dead-properties.js";
import { MAX_MEMBER_PROPERTY_BYTES, MAX_PROPERTY_BYTES } from "./limits.js";
import { PropertyRejected, type Registry } from "./registry.js";

export interface PropertyOp {
  set: boolean;
  el: XmlElement;
}

export interface Outcome {
  name: string;
  status: number;
  error?: string;
  description?: string;
}

export interface CollectionChange extends Required<PropertyChange> {
  /** A new supported-calendar-component-set (only when a calendar is created). */
  components?: string[];
}

export interface PropertyPlan {
  change: CollectionChange;
  outcomes: Outcome[];
  /** Some property failed: every other outcome is 424 and nothing may be written. */
  failed: boolean;
}

export interface PlanOptions {
  /** The collection is being created (MKCALENDAR, extended MKCOL): creation-only properties are settable. */
  creating?: boolean;
  /** The collection's properties now, to size the result against MAX_PROPERTY_BYTES. */
  current?: { props: Record<string, string>; dead: Record<string, string> };
  /** Names the caller has already handled (the resourcetype that chose the kind of a new collection). */
  handled?: string[];
  /** The target is a member (a file): only dead properties can be set, in the room a member has. */
  member?: boolean;
}

/** The DAV:set / DAV:remove operations of a propertyupdate, mkcol or mkcalendar body, in order. */
export function propertyOps(body: XmlElement, removeAllowed: boolean): PropertyOp[] {
  const ops: PropertyOp[] = [];
  for (const action of body.children) {
    const set = action.name === dav("set");
    if (!set && !(removeAllowed && action.name === dav("remove"))) {
      if (removeAllowed)
        throw new PropertyUpdateError(`Unexpected element ${action.name} in propertyupdate.`);
      continue;
    }
    for (const el of action.children.filter((c) => c.name === dav("prop")).flatMap((p) => p.children)) {
      ops.push({ set, el });
    }
  }
  return ops;
}

/** A propertyupdate body that is not one (the caller answers 400). */
export class PropertyUpdateError extends Error {}

/**
 * Plan an update of a collection of `kind` (undefined: the target is no collection, so every
 * property is protected there).
 */
export function planPropertyUpdate(
  registry: Registry,
  kind: CollectionKind | undefined,
  ops: PropertyOp[],
  options: PlanOptions = {},
): PropertyPlan {
  const change: CollectionChange = { setProps: {}, removeProps: [], setDead: {}, removeDead: [] };
  const outcomes: Outcome[] = (options.handled ?? []).map((name) => ({ name, status: 200 }));
  const protectedProp = (name: string) =>
    outcomes.push({ name, status: 403, error: dav("cannot-modify-protected-property") });

  for (const { set, el } of ops) {
    const name = el.name;
    const def = registry.properties.get(name);
    if (kind === undefined) {
      protectedProp(name);
      continue;
    }
    if (def) {
      const setter = def.set;
      if (
        options.member ||
        !setter ||
        (setter.on && !setter.on.includes(kind)) ||
        (setter.atCreationOnly && !options.creating)
      ) {
        protectedProp(name);
        continue;
      }
      if (set) {
        let stored;
        try {
          stored = setter.parse(el);
        } catch (err) {
          if (!(err instanceof PropertyRejected)) throw err;
          outcomes.push({ name, status: err.status, error: err.precondition, description: err.message });
          continue;
        }
        if ("components" in stored) change.components = stored.components;
        else {
          change.setProps[name] = stored.text;
          change.removeProps = change.removeProps.filter((n) => n !== name);
        }
      } else {
        change.removeProps.push(name);
        delete change.setProps[name];
      }
    } else if (set) {
      change.setDead[name] = storedDeadValue(el);
      change.removeDead = change.removeDead.filter((n) => n !== name);
    } else {
      change.removeDead.push(name);
      delete change.setDead[name];
    }
    outcomes.push({ name, status: 200 });
  }

  let failed = outcomes.some((o) => o.status !== 200);
  // RFC 4918 §9.2.1: 507 when there is no room to record the properties (a DynamoDB item holds 400 KB).
  const room = options.member ? MAX_MEMBER_PROPERTY_BYTES : MAX_PROPERTY_BYTES;
  if (!failed && kind !== undefined && storedSize(options.current, change) > room) {
    for (const o of outcomes) {
      if (o.name in change.setProps || o.name in change.setDead) {
        o.status = 507;
        o.description = `The properties of a ${options.member ? "file" : "collection"} may take up to ${room} bytes.`;
      }
    }
    failed = true;
  }
  if (failed) for (const o of outcomes) if (o.status === 200) o.status = 424;
  return { change, outcomes, failed };
}

/** Bytes the collection's properties would take after the change. */
function storedSize(current: PlanOptions["current"], change: CollectionChange): number {
  const { props, dead } = applyPropertyChange(current ?? { props: {}, dead: {} }, change);
  let bytes = 0;
  for (const [k, v] of [...Object.entries(props), ...Object.entries(dead)]) {
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  return bytes;
}

/** Outcomes grouped into propstats: one per status, precondition and description, in first-seen order. */
export function propstatsOf(outcomes: Outcome[]): PropStat[] {
  const groups = new Map<string, PropStat>();
  for (const o of outcomes) {
    const key = `${o.status}|${o.error ?? ""}|${o.description ?? ""}`;
    let ps = groups.get(key);
    if (!ps) {
      ps = {
        status: o.status,
        props: [],
        error: o.error ? { name: o.error } : undefined,
        description: o.description,
      };
      groups.set(key, ps);
    }
    if (!ps.props.some((p) => p.name === o.name)) ps.props.push({ name: o.name });
  }
  return [...groups.values()];
}
