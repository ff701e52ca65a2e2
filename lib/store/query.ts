/** Paginated Query: DynamoDB answers at most 1 MB a page, so every listing follows LastEvaluatedKey. */
import { QueryCommand, type AttributeValue, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";

export type Item = Record<string, AttributeValue>;

/** The pages of a Query on the store's table, one request each, until DynamoDB has no more. */
export async function* queryPages(
  store: Store,
  input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey">,
): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const page = await store.client.send(
      new QueryCommand({ ...input, TableName: store.tableName, ExclusiveStartKey: start }),
    );
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}

/** Every item a Query matches, across pages, each turned into a record by `map`. */
export async function queryAll<T>(
  store: Store,
  input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey">,
  map: (item: Item) => T,
): Promise<T[]> {
  const out: T[] = [];
  for await (const page of queryPages(store, input)) for (const item of page) out.push(map(item));
  return out;
}
