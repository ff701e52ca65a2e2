/** The DynamoDB client and the `Store` handle (client + table name) every store function takes. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface Store {
  client: DynamoDBClient;
  tableName: string;
}

export interface StoreConfig {
  tableName: string;
  /** Set for DynamoDB Local; unset in AWS. */
  endpoint?: string;
  region?: string;
}

export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return {
    tableName: env.TABLE_NAME ?? "dav",
    endpoint: env.DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (env.DYNAMODB_ENDPOINT ? "local" : undefined),
  };
}

export function createDynamoClient(config: StoreConfig): DynamoDBClient {
  // On the developer's Node 20 (npm start, the admin CLI, the tests) the SDK prints a seven-line notice
  // that its releases after January 2027 need Node 22, which a newcomer reads as an error. The lockfile
  // pins the SDK, and Lambda runs Node 22 where the notice never fires, so it is switched off.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  if (config.endpoint) {
    // DynamoDB Local accepts any credentials; fixed ones keep the local data in one namespace.
    return new DynamoDBClient({
      endpoint: config.endpoint,
      region: config.region ?? "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 3,
    });
  }
  return new DynamoDBClient({ region: config.region, maxAttempts: 3 });
}
