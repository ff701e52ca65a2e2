import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

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
