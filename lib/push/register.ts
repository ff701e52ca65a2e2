/**
 * Registration (draft §4.1): `POST` of a `push-register` body to a calendar, an address book or
 * their home registers a Web Push subscription on it, `201` with the registration's URL in
 * `Location` and the expiry the server grants in `Expires`; the same push resource again updates
 * it. `DELETE` of the registration URL (`/push/<log>/<id>`) removes it. Refusals are `403` with
 * the draft's preconditions: `invalid-subscription`, `push-not-available`, `no-supported-trigger`.
 */
import { BadRequest, DavError, Forbidden, NotFound, UnsupportedMediaType } from "../errors.js";
import { mediaType, type DavRequest, type DavResponse } from "../http/message.js";
import { homePk } from "../store/keys.js";
import {
  deleteSubscription,
  getSubscription,
  putSubscription,
  subscriptionId,
  subscriptionsOf,
} from "../store/push.js";
import { originOf } from "../webdav/request.js";

/** Subscriptions one collection takes (a user's devices; more is abuse). */
export const MAX_PER_LOG = 20;
import { AlreadyExists } from "../store/errors.js";
import type { Address } from "../webdav/paths.js";
import type { Endpoint, RequestContext, ResourceContext } from "../webdav/registry.js";
import type { Resource } from "../webdav/target.js";
import { parseXml, type XmlElement } from "../xml/parse.js";
import { push } from "./names.js";
import { checkPushResource, UnsafePushResource } from "./safety.js";

/** The kinds whose collections and homes take subscriptions (their change logs carry sync tokens). */
const PUSHED = ["calendar", "addressbook"];

/** Where a POST can register: a calendar or address book, or their home. */
export const registrable = (a: Address) =>
  (a.type === "collection" || a.type === "home") && PUSHED.includes(a.kind);

/** The change log a resource's subscriptions watch, if it has one that push follows. */
export function logOf(r: Resource): string | undefined {
  if (r.type === "collection" && PUSHED.includes(r.col.kind)) return `COL#${r.col.id}`;
  if (r.type === "home" && PUSHED.includes(r.kind)) return homePk(r.kind, r.user);
  return undefined;
}

const refuse = (message: string, precondition: string) =>
  new Forbidden(message, { name: push(precondition) });

/** A POST is a registration when its body is a `push-register` document. */
export function isRegistration(req: DavRequest): boolean {
  const type = mediaType(req.headers["content-type"]);
  return (
    (type === "application/xml" || type === "text/xml") &&
    /<([A-Za-z_][\w.-]*:)?push-register[\s>/]/.test(req.body.toString("utf8", 0, 2048))
  );
}

export interface Registration {
  pushResource: string;
  p256dh: string;
  auth: string;
  /** The expiry the client asked for (ms), if any. */
  expires?: number;
}

const child = (el: XmlElement | undefined, name: string) => el?.children.find((c) => c.name === name);
const b64url = /^[A-Za-z0-9_-]+={0,2}$/;

export function prepareRegistration(m: RequestContext): Registration {
  const type = mediaType(m.req.headers["content-type"]);
  if (type !== "application/xml" && type !== "text/xml")
    throw new UnsupportedMediaType("A push registration is application/xml.");
  let root: XmlElement;
  try {
    root = parseXml(m.req.body);
  } catch (err) {
    if (err instanceof DavError) throw err;
    throw new BadRequest("The push registration is not well-formed XML.");
  }
  if (root.name !== push("push-register"))
    throw new BadRequest("The body's root element is not P:push-register.");
  const sub = child(child(root, push("subscription")), push("web-push-subscription"));
  const resource = child(sub, push("push-resource"))?.text.trim();
  // Earlier drafts named the client key subscription-public-key.
  const key = child(sub, push("client-public-key")) ?? child(sub, push("subscription-public-key"));
  const auth = child(sub, push("auth-secret"))?.text.trim();
  const encoding = child(sub, push("content-encoding"))?.text.trim();
  if (!sub || !resource || !key || !auth) {
    throw refuse(
      "A registration needs a web-push-subscription with push-resource, client-public-key (p256dh) and auth-secret.",
      "invalid-subscription",
    );
  }
  const p256dh = key.text.trim();
  const keyType = key.attrs["{}type"];
  if ((keyType && keyType !== "p256dh") || (encoding && encoding !== "aes128gcm")) {
    throw refuse("Only p256dh keys and aes128gcm (RFC 8291) are supported.", "invalid-subscription");
  }
  if (
    !b64url.test(p256dh) ||
    Buffer.from(p256dh, "base64url").length !== 65 ||
    !b64url.test(auth) ||
    Buffer.from(auth, "base64url").length !== 16
  ) {
    throw refuse(
      "client-public-key must be an uncompressed P-256 point and auth-secret 16 bytes, base64url.",
      "invalid-subscription",
    );
  }
  if (resource.length > 2048) throw refuse("The push resource is too long.", "invalid-subscription");
  const trigger = child(root, push("trigger"));
  // Content updates are what this server sends; a registration asking only for others has none.
  // No trigger at all (DAVx5 sends none) is taken as content updates, as the draft's relaxed rules allow.
  if (trigger && !child(trigger, push("content-update"))) {
    throw refuse("This server pushes content updates only (P:content-update).", "no-supported-trigger");
  }
  const expiresText = child(root, push("expires"))?.text.trim();
  const expires = expiresText ? Date.parse(expiresText) : undefined;
  if (expiresText && !Number.isFinite(expires))
    throw new BadRequest("P:expires is not an HTTP date (IMF-fixdate).");
  return { pushResource: resource, p256dh, auth, expires };
}

export async function register(m: ResourceContext, reg: Registration): Promise<DavResponse> {
  const log = logOf(m.target);
  // Only the owner: another user's collection is refused before this runs (access), and anything
  // that is not a calendar, address book or their home has no push.
  if (!m.ctx.config.push.enabled || !log || ("user" in m.address && m.address.user !== m.user.name)) {
    throw refuse("WebDAV-Push is not available on this resource.", "push-not-available");
  }
  try {
    await checkPushResource(reg.pushResource, m.ctx.config.push.allowHosts);
  } catch (err) {
    if (err instanceof UnsafePushResource)
      throw refuse(`The push resource is refused: ${err.message}.`, "invalid-subscription");
    throw err;
  }
  const now = Date.now();
  const max = now + m.ctx.config.push.maxSeconds * 1000;
  // The draft: at least three days, whatever the client asks; at most the server's bound.
  const expires = Math.min(max, Math.max(reg.expires ?? max, now + 3 * 86400_000));
  const id = subscriptionId(reg.pushResource);
  // A bound on what one collection's changes make the server send: each is a POST to a URL the client chose.
  const existing = await subscriptionsOf(m.ctx.store, log);
  if (existing.length >= MAX_PER_LOG && !existing.some((s) => s.id === id)) {
    throw refuse(`A collection takes at most ${MAX_PER_LOG} push subscriptions.`, "push-not-available");
  }
  let outcome: "created" | "updated";
  try {
    outcome = await putSubscription(m.ctx.store, {
      log,
      id,
      owner: m.user.name,
      pushResource: reg.pushResource,
      p256dh: reg.p256dh,
      auth: reg.auth,
      expires: Math.floor(expires / 1000),
    });
  } catch (err) {
    if (err instanceof AlreadyExists)
      throw refuse("The push resource is registered by someone else.", "invalid-subscription");
    throw err;
  }
  // The draft: Location absolute; 201 for a new registration, 204 for an updated one.
  return {
    status: outcome === "created" ? 201 : 204,
    headers: {
      location: `${originOf(m.req) ?? ""}${registrationHref(log, id)}`,
      expires: new Date(expires).toUTCString(),
    },
  };
}

export const registrationHref = (log: string, id: string) =>
  `/push/${Buffer.from(log).toString("base64url")}/${id}`;

/** `/push/<log>/<id>`: DELETE removes the registration (its owner only; anyone else finds nothing). */
export const registrationEndpoint: Endpoint = {
  methods: ["DELETE"],
  async handle({ ctx, req, user }, segments) {
    // (Lengths a registration URL of ours has: anything longer names nothing, and must not reach a key.)
    if (segments.length !== 2 || segments[0].length > 400 || segments[1].length > 64)
      throw new NotFound("There is no push registration here.");
    if (req.method !== "DELETE")
      throw new DavError(405, "A push registration can only be deleted.", undefined, { allow: "DELETE" });
    const log = Buffer.from(segments[0], "base64url").toString("utf8");
    const sub = await getSubscription(ctx.store, log, segments[1]);
    if (
      !sub ||
      sub.owner !== user.name ||
      !(await deleteSubscription(ctx.store, log, segments[1], user.name))
    ) {
      throw new NotFound("There is no push registration here (it expired, or was removed).");
    }
    return { status: 204, headers: {} };
  },
};
