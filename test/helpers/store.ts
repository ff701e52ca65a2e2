/** A fresh table on the run's DynamoDB Local for each test file (or a private DynamoDB Local when run alone). */
import { randomBytes } from "node:crypto";
import { after } from "node:test";
import { ensureTable } from "../../lib/store/bootstrap.js";
import { createDynamoClient } from "../../lib/store/client.js";
import type { Store } from "../../lib/store/users.js";
import { startDynamoLocal } from "../../lib/local/dynamodb-local.js";

let endpointPromise: Promise<string> | undefined;

export function dynamoEndpoint(): Promise<string> {
  if (process.env.DYNAMODB_ENDPOINT) return Promise.resolve(process.env.DYNAMODB_ENDPOINT);
  endpointPromise ??= startDynamoLocal().then((local) => {
    after(() => local.stop());
    return local.endpoint;
  });
  return endpointPromise;
}

/** `stream`: with the table's stream (the push tests read it); off elsewhere, which keeps the run fast. */
export async function freshStore(opts: { stream?: boolean } = {}): Promise<Store & { endpoint: string }> {
  const endpoint = await dynamoEndpoint();
  const tableName = `t_${randomBytes(6).toString("hex")}`;
  const client = createDynamoClient({ tableName, endpoint });
  await ensureTable(client, tableName, { stream: opts.stream ?? false });
  after(() => client.destroy());
  return { client, tableName, endpoint };
}
