/**
 * Time-range candidates through the `gsi1` index: objects are indexed by the UTC start of their
 * instance span, with the span's end projected, so a time-range query reads small index entries
 * for the objects starting before the range ends and keeps those ending after it starts; only
 * those candidates are then fetched and parsed. GSI reads are eventually consistent: an object
 * written a moment ago may be missed by a query for a fraction of a second.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { Store } from "./client.js";
import { colPk } from "./keys.js";
import { queryAll } from "./query.js";
import { GSI1 } from "./table.js";

export interface SpanCandidate {
  name: string;
  comp: string;
  etag: string;
}

export function objectsOverlapping(
  store: Store,
  colId: string,
  range: { start?: string; end?: string },
): Promise<SpanCandidate[]> {
  const values: Record<string, AttributeValue> = { ":p": { S: colPk(colId) } };
  let key = "gsi1pk = :p";
  if (range.end) {
    key += " AND gsi1sk < :end";
    values[":end"] = { S: range.end };
  }
  let filter: string | undefined;
  if (range.start) {
    filter = "spanEnd > :start";
    values[":start"] = { S: range.start };
  }
  return queryAll(
    store,
    {
      IndexName: GSI1,
      KeyConditionExpression: key,
      FilterExpression: filter,
      ExpressionAttributeValues: values,
    },
    (item) => ({ name: item.sk.S!.slice(2), comp: item.comp?.S ?? "", etag: item.etag?.S ?? "" }),
  );
}
