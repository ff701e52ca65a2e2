/**
 * `npm test`: starts one DynamoDB Local for the whole run (in memory, free loopback port), then runs
 * every `test/**\/*.test.ts` with Node's own test runner. Each test file makes its own table.
 * Arguments narrow the run to files whose path contains one of them.
 */
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { startDynamoLocal } from "../lib/local/dynamodb-local.js";

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "fixtures" ? [] : findTests(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests("test")
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

const dynamo = await startDynamoLocal();
// Interrupted runs stop DynamoDB Local too, so no Java process outlives the tests.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => void dynamo.stop().then(() => process.exit(130)));
}
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
    { stdio: "inherit", env: { ...process.env, DYNAMODB_ENDPOINT: dynamo.endpoint, DAV_ACCESS_LOG: "0" } },
  );
  child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await dynamo.stop();
process.exit(code);
