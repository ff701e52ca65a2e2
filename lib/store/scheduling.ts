/**
 * What scheduling (RFC 6638) keeps beside the members themselves:
 *
 * - the **scheduling reservation** of a UID per calendar user (`SCHED#<user>` / `U#<uid>`), naming
 *   the one calendar object that is the user's copy of that meeting: §3.2.4.3 allows one per user,
 *   and delivery finds the copy to update with one read. It is taken and released in the member
 *   write's own transaction (a guard), so two PUTs of one UID into two calendars race to one winner;
 * - the **invitations sent by e-mail** (`IMIP#<uid>` / `A#<attendee>#O#<organizer>`), so an incoming reply is
 *   applied only when it answers one;
 * - the **e-mail counter** per user and hour (`MAIL#<user>` / `H#<hour>`, TTL), which bounds what
 *   one account can send.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { absent, allOf, anyOf, equals, WriteTx, type Guard } from "./tx.js";
import { countWithin } from "./counters.js";
import type { Item } from "./query.js";

const schedKey = (owner: string, uid: string) => ({ pk: { S: `SCHED#${owner}` }, sk: { S: `U#${uid}` } });

/** Which of a user's calendar objects holds a scheduled UID. */
export interface Holder {
  colId: string;
  /** The calendar's name in the user's home. */
  col: string;
  name: string;
}

export async function getHolder(store: Store, owner: string, uid: string): Promise<Holder | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: schedKey(owner, uid), ConsistentRead: true }),
  );
  return Item ? holderOf(Item) : undefined;
}

const holderOf = (item: Item): Holder => ({ colId: item.colId.S!, col: item.col.S!, name: item.name.S! });

const heldBy = (h: Holder) => allOf(equals("colId", { S: h.colId }), equals("name", { S: h.name }));

/**
 * A guard taking the reservation of `uid` for `holder`: it must be free, held by the holder
 * already, or held by `stale` (a holder the caller found gone: its object was deleted or moved
 * by a path that did not release it). `failure` gets the holder that stands in the way.
 */
export function reserveGuard(
  owner: string,
  uid: string,
  holder: Holder,
  failure: (other: Holder | undefined) => Error,
  stale?: Holder,
): Guard {
  return {
    part: "sched-uid",
    add: (tx) =>
      tx.put(
        "sched-uid",
        {
          ...schedKey(owner, uid),
          colId: { S: holder.colId },
          col: { S: holder.col },
          name: { S: holder.name },
        },
        anyOf(absent, heldBy(holder), ...(stale ? [heldBy(stale)] : [])),
      ),
    failure: (old) => failure(old ? holderOf(old) : undefined),
  };
}

/** A guard releasing the reservation `holder` has (a member delete). */
export function releaseGuard(owner: string, uid: string, holder: Holder, failure: () => Error): Guard {
  return {
    part: "sched-uid",
    add: (tx) => tx.delete("sched-uid", schedKey(owner, uid), heldBy(holder)),
    failure,
  };
}

/** Keyed by organizer too: another user reusing the UID cannot take over the replies to this meeting. */
const imipKey = (uid: string, attendee: string, organizer: string) => ({
  pk: { S: `IMIP#${uid}` },
  sk: { S: `A#${attendee.toLowerCase()}#O#${organizer}` },
});

/** Record that `attendee` was invited to `uid` by e-mail on `organizer`'s behalf. */
export async function recordInvitation(store: Store, uid: string, attendee: string, organizer: string) {
  // Recorded once; a later invitation to the same meeting finds it there (the failed condition is that).
  await new WriteTx(store)
    .put("invitation", { ...imipKey(uid, attendee, organizer), organizer: { S: organizer } }, absent)
    .commit();
}

/** Whether `organizer` invited `attendee` to `uid` by e-mail. */
export async function wasInvited(
  store: Store,
  uid: string,
  attendee: string,
  organizer: string,
): Promise<boolean> {
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: imipKey(uid, attendee, organizer),
      ConsistentRead: true,
    }),
  );
  return Boolean(Item);
}

/**
 * Count `n` e-mails against `user`'s allowance for the current hour: false (nothing counted) when
 * they would pass `perHour`. The counter is one item per hour, increased on condition, so parallel
 * senders cannot together pass the bound.
 */
export function countMail(store: Store, user: string, n: number, perHour: number, now = Date.now()) {
  const hour = new Date(now).toISOString().slice(0, 13);
  return countWithin(store, { pk: { S: `MAIL#${user}` }, sk: { S: `H#${hour}` } }, n, perHour, 7200, now);
}
