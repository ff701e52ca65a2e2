/** Users: one item each in the `USERS` partition, so the admin CLI can list them with one Query. */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { AlreadyExists, NotFound } from "./errors.js";
import { queryAll } from "./query.js";
import { listAppPasswords, revokeAppPassword } from "./app-passwords.js";
import { absent, anyOf, equals, present, WriteTx } from "./tx.js";

export type { Store } from "./client.js";

export interface UserRecord {
  name: string;
  passwordHash: string;
  email?: string;
  created: string;
  /**
   * The provisioning round the user's collections are at: 0 for a new user; each round a release
   * adds (the scheduling inbox and outbox, the e-mail index) runs once on the next login.
   */
  provisioned?: number;
}

/** The current provisioning round (2: scheduling inbox and outbox, and the e-mail index). */
export const PROVISIONING = 2;

const USERS = "USERS";
const userKey = (name: string) => ({ pk: { S: USERS }, sk: { S: `U#${name}` } });

/** User names become URL segments; keep them to a safe, unambiguous set. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function createUser(store: Store, user: UserRecord): Promise<void> {
  const tx = new WriteTx(store).put(
    "user",
    {
      ...userKey(user.name),
      name: { S: user.name },
      passwordHash: { S: user.passwordHash },
      created: { S: user.created },
      ...(user.email ? { email: { S: user.email } } : {}),
    },
    absent,
  );
  if (user.email) tx.put("email", emailItem(user.email, user.name), absent);
  const failed = await tx.commit();
  if (failed?.has("user")) throw new AlreadyExists(`user ${user.name} exists`);
  if (failed?.has("email"))
    throw new AlreadyExists(`the e-mail address ${user.email} belongs to another user`);
}

/**
 * The e-mail index: one item per address, naming its user, so scheduling finds the calendar user
 * behind a `mailto:` ATTENDEE with one read. Addresses compare case-insensitively.
 */
const emailKey = (email: string) => ({ pk: { S: USERS }, sk: { S: `E#${email.trim().toLowerCase()}` } });
const emailItem = (email: string, name: string) => ({ ...emailKey(email), name: { S: name } });

/** Record the user's e-mail address in the index (a user made before it existed); a taken address is left alone. */
export async function indexEmail(store: Store, email: string, name: string): Promise<void> {
  // A failed condition (the address is another user's) leaves the index as it is.
  await new WriteTx(store)
    .put("email", emailItem(email, name), anyOf(absent, equals("name", { S: name })))
    .commit();
}

/** The user whose e-mail address this is, if any. */
export async function userByEmail(store: Store, email: string): Promise<string | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: emailKey(email), ConsistentRead: true }),
  );
  return Item?.name?.S;
}

export async function getUser(store: Store, name: string): Promise<UserRecord | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: userKey(name), ConsistentRead: true }),
  );
  if (!Item) return undefined;
  return {
    name: Item.name.S!,
    passwordHash: Item.passwordHash.S!,
    created: Item.created.S!,
    email: Item.email?.S,
    // Round 1 was a flag.
    provisioned: Item.provisioned?.N ? Number(Item.provisioned.N) : Item.provisioned?.BOOL ? 1 : 0,
  };
}

export async function setPassword(store: Store, name: string, passwordHash: string): Promise<void> {
  try {
    await store.client.send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: userKey(name),
        UpdateExpression: "SET passwordHash = :h",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":h": { S: passwordHash } },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new NotFound(`no user ${name}`);
    throw err;
  }
}

export async function removeUser(store: Store, name: string): Promise<void> {
  const user = await getUser(store, name);
  if (!user) throw new NotFound(`no user ${name}`);
  const tx = new WriteTx(store).delete("user", userKey(name), present);
  // The index entry goes with the user when it is theirs (one made before the index may name another).
  if (user.email && (await userByEmail(store, user.email)) === name)
    tx.delete("email", emailKey(user.email), equals("name", { S: name }));
  const failed = await tx.commit();
  if (failed?.has("user")) throw new NotFound(`no user ${name}`);
  // Their app passwords go too: a user made later under the same name must not inherit them.
  for (const p of await listAppPasswords(store, name))
    await revokeAppPassword(store, name, p.id).catch(() => {});
}

export function listUsers(store: Store): Promise<string[]> {
  return queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :u)",
      ExpressionAttributeValues: { ":p": { S: USERS }, ":u": { S: "U#" } },
      ProjectionExpression: "#n",
      ExpressionAttributeNames: { "#n": "name" },
    },
    (item) => item.name.S!,
  );
}

export async function markProvisioned(store: Store, name: string, round = PROVISIONING): Promise<void> {
  await store.client
    .send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: userKey(name),
        UpdateExpression: "SET provisioned = :t",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":t": { N: String(round) } },
      }),
    )
    .catch((err) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}

const failureKey = (name: string) => ({ pk: { S: USERS }, sk: { S: `F#${name}` } });

/** Count a failed login for `name`; the counter expires 15 minutes after the last failure. */
export async function recordAuthFailure(store: Store, name: string, now = Date.now()): Promise<number> {
  const expires = Math.floor(now / 1000) + 900;
  const res = await store.client
    .send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: failureKey(name),
        // A counter past its expiry (TTL deletion is lazy) starts again from one.
        UpdateExpression: "SET n = if_not_exists(n, :zero) + :one, expiresAt = :exp",
        ConditionExpression: "attribute_not_exists(expiresAt) OR expiresAt > :nowSec",
        ExpressionAttributeValues: {
          ":zero": { N: "0" },
          ":one": { N: "1" },
          ":exp": { N: String(expires) },
          ":nowSec": { N: String(Math.floor(now / 1000)) },
        },
        ReturnValues: "UPDATED_NEW",
      }),
    )
    .catch(async (err) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      await store.client.send(
        new PutItemCommand({
          TableName: store.tableName,
          Item: { ...failureKey(name), n: { N: "1" }, expiresAt: { N: String(expires) } },
        }),
      );
      return undefined;
    });
  return Number(res?.Attributes?.n?.N ?? 1);
}

/** Forget a user's failed logins (after a successful one), so a later typo is not slowed. */
export async function clearAuthFailures(store: Store, name: string): Promise<void> {
  await store.client.send(new DeleteItemCommand({ TableName: store.tableName, Key: failureKey(name) }));
}
