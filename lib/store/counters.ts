/**
 * Bounded counters: one item per key and time window (its TTL a little past the window), raised
 * on condition, so parallel callers together never pass the bound. The e-mails one user's
 * scheduling sends per hour and the push messages one subscription gets per minute use them.
 */
import type { Store } from "./client.js";
import { TTL_ATTRIBUTE } from "./table.js";
import { anyOf, lacks, lessThan, WriteTx } from "./tx.js";
import type { Item } from "./query.js";

/** Add `by` to the counter at `key` unless it would pass `limit`: false (nothing counted) then. */
export async function countWithin(
  store: Store,
  key: Item,
  by: number,
  limit: number,
  keepSeconds: number,
  now = Date.now(),
): Promise<boolean> {
  if (by > limit) return false;
  const failed = await new WriteTx(store)
    .update(
      "counter",
      key,
      (e) =>
        `SET ${e.name("n")} = if_not_exists(${e.name("n")}, ${e.value({ N: "0" })}) + ${e.value({ N: String(by) })}, ${e.name(TTL_ATTRIBUTE)} = ${e.value({ N: String(Math.floor(now / 1000) + keepSeconds) })}`,
      anyOf(lacks("n"), lessThan("n", { N: String(limit - by + 1) })),
    )
    .commit();
  return !failed;
}
