import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { tableDefinition } from "./table.js";

/**
 * Create the table if it is absent; safe to call any number of times, also concurrently.
 * `stream: false` leaves the stream off (test tables that no push test reads: DynamoDB Local
 * keeps every write's record, which slows a long run several times over).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  opts: { stream?: boolean } = {},
): Promise<"created" | "exists"> {
  const stream = opts.stream ?? true;
  const definition = tableDefinition(tableName);
  if (!stream) delete definition.StreamSpecification;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // A table made before push read the stream: turn it on (local data folders of earlier releases).
    if (stream && !Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({ TableName: tableName, StreamSpecification: definition.StreamSpecification }),
      );
    }
    return "exists";
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (err) {
    if (err instanceof ResourceInUseException) return "exists";
    throw err;
  }
  // DynamoDB Local creates synchronously; AWS takes a moment.
  for (let i = 0; i < 120; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return "created";
}
