/**
 * App passwords: one per device, each a salted slow hash like the main password, under the
 * user's own partition (`APPPW#<user>` / `P#<id>`), with a name, when it was made and when it was
 * last used. The password itself says which item it is (`<id>.<secret>`), so a login checks one
 * hash, not every one the user has.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { NotFound } from "./errors.js";
import { queryAll, type Item } from "./query.js";
import { absent, allOf, anyOf, lacks, lessThan, present, WriteTx } from "./tx.js";

export interface AppPassword {
  id: string;
  user: string;
  name: string;
  hash: string;
  created: string;
  /** ms since the epoch; 0 when never used. */
  lastUsed: number;
}

const key = (user: string, id: string) => ({ pk: { S: `APPPW#${user}` }, sk: { S: `P#${id}` } });

function fromItem(item: Item): AppPassword {
  return {
    id: item.sk.S!.slice(2),
    user: item.pk.S!.slice("APPPW#".length),
    name: item.name.S!,
    hash: item.hash.S!,
    created: item.created.S!,
    lastUsed: Number(item.lastUsed?.N ?? 0),
  };
}

export async function createAppPassword(store: Store, p: Omit<AppPassword, "lastUsed">): Promise<void> {
  await new WriteTx(store)
    .put(
      "password",
      { ...key(p.user, p.id), name: { S: p.name }, hash: { S: p.hash }, created: { S: p.created } },
      absent,
    )
    .commit();
}

export async function getAppPassword(
  store: Store,
  user: string,
  id: string,
): Promise<AppPassword | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: key(user, id), ConsistentRead: true }),
  );
  return Item ? fromItem(Item) : undefined;
}

export function listAppPasswords(store: Store, user: string): Promise<AppPassword[]> {
  return queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
      ExpressionAttributeValues: { ":p": { S: `APPPW#${user}` }, ":s": { S: "P#" } },
      ConsistentRead: true,
    },
    fromItem,
  );
}

/** Revoke one: it stops working on the next request in every warm function (they check it is still there). */
export async function revokeAppPassword(store: Store, user: string, id: string): Promise<void> {
  const failed = await new WriteTx(store).delete("password", key(user, id), present).commit();
  if (failed) throw new NotFound(`no app password ${id} of ${user}`);
}

/** Note a use, at most once an hour (a login is not a write each time). */
export async function touchAppPassword(
  store: Store,
  user: string,
  id: string,
  now = Date.now(),
): Promise<void> {
  await new WriteTx(store)
    .update(
      "password",
      key(user, id),
      (e) => `SET ${e.name("lastUsed")} = ${e.value({ N: String(now) })}`,
      // Only while it exists (a revoke meanwhile stays a revoke), and not more often than hourly.
      allOf(present, anyOf(lacks("lastUsed"), lessThan("lastUsed", { N: String(now - 3600_000) }))),
    )
    .commit();
}
