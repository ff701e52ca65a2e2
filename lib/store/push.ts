/**
 * WebDAV-Push subscriptions: one item per (watched log, push resource), under the partition of the
 * change log it watches (`PUSH#COL#<collection id>` or `PUSH#HOME#<kind>#<user>`), sort key the
 * hash of the push resource (so registering the same push resource again updates it), expiring by
 * DynamoDB TTL and ignored by every read once expired. A change-log entry (`S#<seq>` in `COL#…`
 * or `HOME#…`) arriving on the table's stream names the partition to query for its subscribers.
 */
import { createHash } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { AlreadyExists } from "./errors.js";
import { queryAll, type Item } from "./query.js";
import { TTL_ATTRIBUTE } from "./table.js";
import { countWithin } from "./counters.js";
import { absent, equals, present, WriteTx } from "./tx.js";

export interface PushSubscription {
  /** The change log's partition key: `COL#<id>` or `HOME#<kind>#<user>`. */
  log: string;
  /** Hash of the push resource: the registration's id within the log. */
  id: string;
  owner: string;
  pushResource: string;
  /** The client's P-256 ECDH public key and auth secret (RFC 8291), base64url. */
  p256dh: string;
  auth: string;
  /** Seconds since the epoch. */
  expires: number;
}

const subPk = (log: string) => `PUSH#${log}`;
export const subscriptionId = (pushResource: string) =>
  createHash("sha256").update(pushResource).digest("base64url").slice(0, 27);

function fromItem(item: Item): PushSubscription {
  return {
    log: item.pk.S!.slice("PUSH#".length),
    id: item.sk.S!.slice(2),
    owner: item.owner.S!,
    pushResource: item.resource.S!,
    p256dh: item.p256dh.S!,
    auth: item.auth.S!,
    expires: Number(item[TTL_ATTRIBUTE].N),
  };
}

/** Register or update a subscription (the same push resource on the same log is one registration). */
export async function putSubscription(store: Store, sub: PushSubscription): Promise<"created" | "updated"> {
  const key = { pk: { S: subPk(sub.log) }, sk: { S: `S#${sub.id}` } };
  const item = {
    ...key,
    owner: { S: sub.owner },
    resource: { S: sub.pushResource },
    p256dh: { S: sub.p256dh },
    auth: { S: sub.auth },
    [TTL_ATTRIBUTE]: { N: String(sub.expires) },
  };
  // Created when absent; replaced when it is the same owner's (another user cannot take it over).
  const failed = await new WriteTx(store).put("sub", item, absent).commit();
  if (!failed) return "created";
  const again = await new WriteTx(store).put("sub", item, equals("owner", { S: sub.owner })).commit();
  if (again) throw new AlreadyExists("the push resource is registered by another user on this collection");
  return "updated";
}

export async function getSubscription(
  store: Store,
  log: string,
  id: string,
): Promise<PushSubscription | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: { pk: { S: subPk(log) }, sk: { S: `S#${id}` } },
      ConsistentRead: true,
    }),
  );
  const sub = Item ? fromItem(Item) : undefined;
  return sub && sub.expires > Date.now() / 1000 ? sub : undefined;
}

/** The live subscriptions of a log. */
export async function subscriptionsOf(
  store: Store,
  log: string,
  now = Date.now(),
): Promise<PushSubscription[]> {
  const all = await queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
      ExpressionAttributeValues: { ":p": { S: subPk(log) }, ":s": { S: "S#" } },
    },
    fromItem,
  );
  return all.filter((s) => s.expires > now / 1000);
}

/** Remove a subscription (the client's DELETE, or a push service's 404/410); false when it was not there. */
export async function deleteSubscription(
  store: Store,
  log: string,
  id: string,
  owner?: string,
): Promise<boolean> {
  const failed = await new WriteTx(store)
    .delete(
      "sub",
      { pk: { S: subPk(log) }, sk: { S: `S#${id}` } },
      owner ? equals("owner", { S: owner }) : present,
    )
    .commit();
  return !failed;
}

/**
 * Count one message to a subscription in the current minute: false (nothing counted) past
 * `perMinute`, so a collection changing without pause cannot make the server flood a push service.
 */
export function countPush(store: Store, sub: PushSubscription, perMinute: number, now = Date.now()) {
  const minute = new Date(now).toISOString().slice(0, 16);
  const key = { pk: { S: `PUSHRATE#${sub.log}` }, sk: { S: `${sub.id}#${minute}` } };
  return countWithin(store, key, 1, perMinute, 300, now);
}
