/**
 * The one table definition, shared by the local runtime (`npm start`, tests) and the CDK stack.
 *
 * Single-table design; every item has a string partition key `pk` and sort key `sk`:
 *
 * | item                    | pk                         | sk                    |
 * |-------------------------|----------------------------|-----------------------|
 * | user                    | `USERS`                    | `U#<name>`            |
 * | auth failure counter    | `USERS`                    | `F#<name>` (TTL)      |
 * | collection              | `HOME#<kind>#<user>`       | `C#<name>`            |
 * | calendar / vCard object | `COL#<collection id>`      | `O#<resource name>`   |
 * | UID reservation         | `COL#<collection id>`      | `U#<uid>`             |
 * | change-log entry        | `COL#<collection id>`      | `S#<seq, 12 digits>`  |
 * | pending purge           | `PURGE`                    | `<collection id>`     |
 * | write locks on a path   | `LOCKS#<owner>`            | `<path>` (TTL)        |
 *
 * Collections get a random id, so a collection deleted and re-created at the same URL shares no
 * items, sync tokens or reservations with its predecessor. Locks are keyed by path within their
 * owner's partition, so a depth-infinity LOCK finds the locks below a collection with one Query.
 * Roadmap items fit without migration: tasks as `COL#<id>` / `T#RUNNING` (condition: absent).
 *
 * GSI `gsi1` (`gsi1pk`, `gsi1sk`) indexes objects by the UTC start of their recurrence span
 * (`gsi1pk = COL#<id>`, `gsi1sk = <start ISO>`), projecting only what a time-range pre-filter needs.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export const TTL_ATTRIBUTE = "expiresAt";
/** What the table's stream carries: keys only (a change-log entry's keys are all push needs). */
export const STREAM_VIEW = "KEYS_ONLY";
export const GSI1 = "gsi1";
/** Attributes projected into `gsi1` besides the keys: enough to decide a time-range candidate. */
export const GSI1_PROJECTION = ["spanEnd", "etag", "comp"];

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
      { AttributeName: "gsi1pk", AttributeType: "S" },
      { AttributeName: "gsi1sk", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: "gsi1pk", KeyType: "HASH" },
          { AttributeName: "gsi1sk", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: GSI1_PROJECTION },
      },
    ],
    // WebDAV-Push reads change-log entries off the stream: their keys say which log moved and how far.
    StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW },
  };
}
