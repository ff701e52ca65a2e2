/**
 * Server secrets kept in the table (`CONFIG` / `SECRET#<name>`): made once, on first use, by a
 * conditional write, so every function instance and every restart agrees on one value (the first
 * writer's) without a secret store of its own. Used for what only this server checks (the account
 * page's session and CSRF signatures), never for what leaves it.
 */
import { randomBytes } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { absent, WriteTx } from "./tx.js";

export async function serverSecret(store: Store, name: string): Promise<Buffer> {
  const key = { pk: { S: "CONFIG" }, sk: { S: `SECRET#${name}` } };
  const read = async () =>
    (
      await store.client.send(
        new GetItemCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
      )
    ).Item?.value?.B;
  const found = await read();
  if (found) return Buffer.from(found);
  // Whoever writes first wins; the others read what it wrote.
  await new WriteTx(store).put("secret", { ...key, value: { B: randomBytes(32) } }, absent).commit();
  return Buffer.from((await read())!);
}
