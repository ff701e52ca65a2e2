import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { ensureTable } from "../../lib/store/bootstrap.js";
import { createDynamoClient } from "../../lib/store/client.js";
import { GSI1 } from "../../lib/store/table.js";
import { dynamoEndpoint } from "../helpers/store.js";

describe("table bootstrap", () => {
  it("creates the table once and is idempotent, also when called concurrently", async () => {
    const endpoint = await dynamoEndpoint();
    const tableName = `boot_${randomBytes(4).toString("hex")}`;
    const client = createDynamoClient({ tableName, endpoint });
    after(() => client.destroy());
    const results = await Promise.all([ensureTable(client, tableName), ensureTable(client, tableName)]);
    assert.equal(results.filter((r) => r === "created").length <= 1, true);
    assert.equal(await ensureTable(client, tableName), "exists");
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    assert.equal(Table?.TableStatus, "ACTIVE");
    assert.deepEqual(
      Table?.KeySchema?.map((k) => k.AttributeName),
      ["pk", "sk"],
    );
    assert.equal(Table?.GlobalSecondaryIndexes?.[0]?.IndexName, GSI1);
  });
});
