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

export type { Store } from "./client.js";

export interface UserRecord {
  name: string;
  passwordHash: string;
  email?: string;
  created: string;
  /** Set once the user's default calendar and address book were created. */
  provisioned?: boolean;
}

const USERS = "USERS";
const userKey = (name: string) => ({ pk: { S: USERS }, sk: { S: `U#${name}` } });

/** User names become URL segments; keep them to a safe, unambiguous set. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function createUser(store: Store, user: UserRecord): Promise<void> {
  try {
    await store.client.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: {
          ...userKey(user.name),
          name: { S: user.name },
          passwordHash: { S: user.passwordHash },
          created: { S: user.created },
          ...(user.email ? { email: { S: user.email } } : {}),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new AlreadyExists(`user ${user.name} exists`);
    throw err;
  }
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
    provisioned: Item.provisioned?.BOOL ?? false,
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
  try {
    await store.client.send(
      new DeleteItemCommand({
        TableName: store.tableName,
        Key: userKey(name),
        ConditionExpression: "attribute_exists(pk)",
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new NotFound(`no user ${name}`);
    throw err;
  }
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

export async function markProvisioned(store: Store, name: string): Promise<void> {
  await store.client
    .send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: userKey(name),
        UpdateExpression: "SET provisioned = :t",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":t": { BOOL: true } },
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
