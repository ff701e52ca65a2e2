/**
 * Push delivery: the change-log entries a batch of the table's stream carries become one
 * `push-message` per changed collection (however many changes the batch holds), sent to each of
 * its live subscriptions as Web Push: RFC 8291 encryption (aes128gcm) and a VAPID signature
 * (RFC 8292) made by the `web-push` library, with `TTL`, `Topic` and `Urgency`; the POST itself
 * goes to the address the safety check resolved. A push service answering 404 or 410 has dropped
 * the subscription, so it is removed. Only the topic and the new sync-token are sent, never
 * anything of the collection's contents.
 */
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import webpush from "web-push";
import { logged } from "../webdav/registry.js";
import type { Store } from "../store/client.js";
import { countPush, deleteSubscription, subscriptionsOf, type PushSubscription } from "../store/push.js";
import type { PushConfig } from "../webdav/context.js";
import { XmlWriter } from "../xml/build.js";
import { dav } from "../xml/names.js";
import { syncToken } from "../sync/token.js";
import { checkPushResource } from "./safety.js";
import { vapidKeys, type VapidKeys } from "./vapid.js";
import { push, PUSH_NS } from "./names.js";

/** A change to a log: its partition key (`COL#<id>` or `HOME#<kind>#<user>`) and the sequence it reached. */
export interface Change {
  log: string;
  seq: number;
}

/** The topic of a log (stable: a collection keeps its id through renames; reveals nothing of it). */
export const topicOf = (log: string) =>
  createHash("sha256").update(`topic\0${log}`).digest("base64url").slice(0, 22);

/** The push-message (draft §5.1): the topic, and a content update with the new sync-token. */
export function pushMessage(log: string, seq: number): string {
  const w = new XmlWriter(push("push-message"), [PUSH_NS]);
  w.el(w.root, push("topic"), topicOf(log));
  const update = w.el(w.root, push("content-update"));
  // A home's token carries every collection's sequence, so it is not named here; the client syncs the home.
  if (log.startsWith("COL#")) w.el(update, dav("sync-token"), syncToken({ id: log.slice(4), seq }));
  return w.toString();
}

/** The changes a batch of stream records holds, the last sequence of each log. */
export function changesOf(
  records: readonly { eventName?: string; dynamodb?: { Keys?: Record<string, { S?: string }> } }[],
): Change[] {
  const last = new Map<string, number>();
  for (const r of records) {
    if (r.eventName !== "INSERT") continue;
    const pk = r.dynamodb?.Keys?.pk?.S;
    const sk = r.dynamodb?.Keys?.sk?.S;
    if (!pk || !sk?.startsWith("S#") || !(pk.startsWith("COL#") || pk.startsWith("HOME#"))) continue;
    const seq = Number(sk.slice(2));
    if (Number.isFinite(seq) && seq > (last.get(pk) ?? -1)) last.set(pk, seq);
  }
  return [...last].map(([log, seq]) => ({ log, seq }));
}

export interface Delivery {
  sent: number;
  removed: number;
  failed: number;
  limited: number;
}

/** How long one push service may take to answer. */
const SEND_TIMEOUT_MS = 10_000;
/** Messages sent at once. */
const PARALLEL_SENDS = 10;

/** Send one message per changed log to its subscriptions. */
export async function notify(
  store: Store,
  config: PushConfig,
  changes: readonly Change[],
): Promise<Delivery> {
  const result: Delivery = { sent: 0, removed: 0, failed: 0, limited: 0 };
  if (changes.length === 0) return result;
  const keys = await vapidKeys(config);
  for (const change of changes) {
    // One collection's trouble (a throttled query) is logged; the others' messages still go.
    await logged("push delivery for a collection failed", async () => {
      const subs = await subscriptionsOf(store, change.log);
      const body = pushMessage(change.log, change.seq);
      const one = (sub: PushSubscription) =>
        logged("a push message could not be sent", async () => {
          if (!(await countPush(store, sub, config.perMinute))) {
            result.limited++;
            return;
          }
          const status = await send(sub, body, topicOf(change.log), keys, config).catch(() => 0);
          if (status === 404 || status === 410) {
            await deleteSubscription(store, sub.log, sub.id);
            result.removed++;
          } else if (status >= 200 && status < 300) result.sent++;
          else result.failed++;
        });
      for (let i = 0; i < subs.length; i += PARALLEL_SENDS)
        await Promise.all(subs.slice(i, i + PARALLEL_SENDS).map(one));
    });
  }
  return result;
}

/** POST one encrypted message to a push resource; the push service's status (0: unreachable or refused here). */
async function send(sub: PushSubscription, body: string, topic: string, keys: VapidKeys, config: PushConfig) {
  const details = webpush.generateRequestDetails(
    { endpoint: sub.pushResource, keys: { p256dh: sub.p256dh, auth: sub.auth } },
    body,
    {
      vapidDetails: { subject: config.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
      contentEncoding: "aes128gcm",
      // A message about a collection is worth a day; a later one replaces it (same Topic).
      TTL: 86400,
      topic,
      urgency: "normal",
    },
  );
  const checked = await checkPushResource(sub.pushResource, config.allowHosts);
  const [first] = checked.addresses;
  // The connection goes to the address the check approved, whatever the name resolves to now.
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: typeof checked.addresses) => void)(null, [first]);
    else callback(null, first.address, first.family);
  };
  const requester = checked.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    // The status is all that matters: settle on it, and never wait on a service longer than this.
    const deadline = setTimeout(() => req.destroy(new Error("push service timed out")), SEND_TIMEOUT_MS);
    const req = requester(
      checked.url,
      { method: "POST", headers: details.headers, lookup, timeout: SEND_TIMEOUT_MS },
      (res: IncomingMessage) => {
        clearTimeout(deadline);
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    const fail = (err: Error) => {
      clearTimeout(deadline);
      reject(err);
    };
    req.on("timeout", () => req.destroy(new Error("push service timed out")));
    req.on("error", fail);
    // Closed before an answer (after one, the promise has settled and this changes nothing).
    req.on("close", () => fail(new Error("push service closed the connection")));
    req.end(details.body);
  });
}
