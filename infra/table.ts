/**
 * Turns the shared table definition (lib/store/table.ts, the one `npm start` and the tests create
 * in DynamoDB Local) into CDK table properties, so keys, attribute types and indexes are written
 * down exactly once.
 */
import type {
  AttributeDefinition,
  CreateTableCommandInput,
  KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  type Attribute,
  type GlobalSecondaryIndexProps,
} from "aws-cdk-lib/aws-dynamodb";
import { tableDefinition } from "../lib/store/table.js";

export interface TableShape {
  billingMode: BillingMode;
  partitionKey: Attribute;
  sortKey?: Attribute;
  globalSecondaryIndexes: GlobalSecondaryIndexProps[];
  /** The table's stream (push reads change-log entries off it). */
  stream?: StreamViewType;
}

const ATTRIBUTE_TYPES: Record<string, AttributeType> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

function attribute(defs: AttributeDefinition[], name: string): Attribute {
  const def = defs.find((d) => d.AttributeName === name);
  const type = def?.AttributeType && ATTRIBUTE_TYPES[def.AttributeType];
  if (!type) throw new Error(`table definition: no attribute type for key attribute ${name}`);
  return { name, type };
}

function keys(defs: AttributeDefinition[], schema: KeySchemaElement[] | undefined) {
  const hash = schema?.find((k) => k.KeyType === "HASH")?.AttributeName;
  const range = schema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
  if (!hash) throw new Error("table definition: key schema without a HASH key");
  return { partitionKey: attribute(defs, hash), sortKey: range ? attribute(defs, range) : undefined };
}

export function tableShape(def: CreateTableCommandInput = tableDefinition("unused")): TableShape {
  const defs = def.AttributeDefinitions ?? [];
  if (def.BillingMode !== "PAY_PER_REQUEST") {
    throw new Error(`table definition: the stack supports on-demand billing only, got ${def.BillingMode}`);
  }
  if (def.LocalSecondaryIndexes?.length)
    throw new Error("table definition: local secondary indexes unsupported");
  const globalSecondaryIndexes = (def.GlobalSecondaryIndexes ?? []).map((gsi): GlobalSecondaryIndexProps => {
    const projection = gsi.Projection?.ProjectionType ?? "ALL";
    return {
      indexName: gsi.IndexName!,
      ...keys(defs, gsi.KeySchema),
      projectionType:
        projection === "INCLUDE"
          ? ProjectionType.INCLUDE
          : projection === "KEYS_ONLY"
            ? ProjectionType.KEYS_ONLY
            : ProjectionType.ALL,
      nonKeyAttributes: projection === "INCLUDE" ? gsi.Projection?.NonKeyAttributes : undefined,
    };
  });
  const view = def.StreamSpecification?.StreamEnabled ? def.StreamSpecification.StreamViewType : undefined;
  return {
    billingMode: BillingMode.PAY_PER_REQUEST,
    ...keys(defs, def.KeySchema),
    globalSecondaryIndexes,
    stream: view ? StreamViewType[view as keyof typeof StreamViewType] : undefined,
  };
}
