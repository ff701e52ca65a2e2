/**
 * The scheduling module (RFC 6638 calendar-auto-schedule): each user's scheduling inbox and
 * outbox, the principal's scheduling properties, the schedule tag of scheduling objects,
 * schedule-calendar-transp on calendars, free-busy by POST to the outbox, and implicit scheduling
 * on every calendar object PUT and DELETE (implicit.ts). Everything scheduling adds is listed here.
 */
import { Forbidden } from "../errors.js";
import { collectionHref } from "../webdav/paths.js";
import { href } from "../webdav/properties.js";
import { PropertyRejected, type DavModule } from "../webdav/registry.js";
import { isCollectionOf } from "../webdav/target.js";
import { cal } from "../xml/names.js";
import { ownAddresses } from "./addresses.js";
import { defaultCalendar, INBOX, isSchedulingBox, OUTBOX } from "./deliver.js";
import { MAX_ATTENDEES, planSchedulingWrite } from "./implicit.js";
import { outboxPost, TRANSP } from "./outbox.js";

const isCal = isCollectionOf("calendar");
const DEFAULT_CALENDAR = cal("schedule-default-calendar-URL");

export const scheduling: DavModule = {
  name: "scheduling",
  compliance: ["calendar-auto-schedule"],
  // POST on a calendar starts an import (tasks); on the outbox it is a free-busy request.
  sharesMethods: ["POST"],
  methods: {
    POST: {
      allowedOn: (a) => a.type === "collection" && a.kind === "calendar" && a.collection === OUTBOX,
      run: outboxPost,
    },
  },
  fixedCollections: (owner) => [
    {
      kind: "calendar",
      owner,
      name: INBOX,
      props: { "{DAV:}displayname": "Inbox" },
      components: ["VEVENT", "VTODO"],
    },
    {
      kind: "calendar",
      owner,
      name: OUTBOX,
      props: { "{DAV:}displayname": "Outbox" },
      components: ["VEVENT", "VTODO"],
    },
  ],
  resourcetype: (col) =>
    col.kind !== "calendar"
      ? undefined
      : col.name === INBOX
        ? cal("schedule-inbox")
        : col.name === OUTBOX
          ? cal("schedule-outbox")
          : undefined,
  hooks: {
    planWrite: planSchedulingWrite,
    async beforeCollectionWrite(w) {
      if (w.op === "delete" && isSchedulingBox(w)) {
        throw new Forbidden(`The scheduling ${w.name} belongs to the account and cannot be deleted.`);
      }
      return [];
    },
  },
  properties: [
    // Principal properties (RFC 6638 §2.1, §2.2, §2.4).
    {
      name: cal("calendar-user-address-set"),
      get: (r, env) => (r.type === "principal" ? ownAddresses(r.user, env.origin).map(href) : undefined),
    },
    { name: cal("calendar-user-type"), get: (r) => (r.type === "principal" ? "INDIVIDUAL" : undefined) },
    {
      name: cal("schedule-inbox-URL"),
      get: (r) =>
        r.type === "principal" ? [href(collectionHref("calendar", r.user.name, INBOX))] : undefined,
    },
    {
      name: cal("schedule-outbox-URL"),
      get: (r) =>
        r.type === "principal" ? [href(collectionHref("calendar", r.user.name, OUTBOX))] : undefined,
    },
    {
      // §9.2: on the inbox; Apple also asks the principal.
      name: DEFAULT_CALENDAR,
      async load(ctx, user) {
        return (await defaultCalendar(ctx.store, user.name))?.name;
      },
      get(r, env) {
        const onInbox = r.type === "collection" && r.col.kind === "calendar" && r.col.name === INBOX;
        if (r.type !== "principal" && !onInbox) return undefined;
        const name = env.loaded?.get(DEFAULT_CALENDAR) as string | undefined;
        // Only the user's own: another principal's default calendar is not theirs to know.
        const owner = r.type === "principal" ? r.user.name : r.col.owner;
        return name && owner === env.principal ? [href(collectionHref("calendar", owner, name))] : undefined;
      },
    },
    {
      // RFC 4791 §5.2.9: the bound implicit scheduling applies.
      name: cal("max-attendees-per-instance"),
      get: (r) =>
        r.type === "collection" && isCal(r) && !isSchedulingBox(r.col) ? String(MAX_ATTENDEES) : undefined,
    },
    {
      // §3.2.10: the tag If-Schedule-Tag-Match compares.
      name: cal("schedule-tag"),
      get: (r) => (r.type === "object" && r.obj.scheduleTag ? r.obj.scheduleTag : undefined),
    },
    {
      // §9.1: whether a calendar's events count as busy time.
      name: TRANSP,
      set: {
        on: ["calendar"],
        parse(el) {
          const v = el.children.find((c) => c.name === cal("opaque") || c.name === cal("transparent"));
          if (!v)
            throw new PropertyRejected(409, "schedule-calendar-transp is <C:opaque/> or <C:transparent/>");
          return { text: v.name === cal("opaque") ? "opaque" : "transparent" };
        },
      },
      get: (r) =>
        isCal(r) && r.type === "collection" && !isSchedulingBox(r.col)
          ? [{ name: cal(r.col.props[TRANSP] ?? "opaque") }]
          : undefined,
    },
  ],
};
