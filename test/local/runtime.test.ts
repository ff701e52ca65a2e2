import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkJava, JavaMissingError } from "../../lib/local/dynamodb-local.js";
import { readInstance, writeInstance } from "../../lib/local/instance.js";
import { startLocal } from "../../lib/local/runtime.js";
import { listUsers } from "../../lib/store/users.js";

describe("embedded local runtime", () => {
  it("says how to install Java when it is missing", async () => {
    await assert.rejects(checkJava("/nonexistent/java-17"), (err: Error) => {
      assert.ok(err instanceof JavaMissingError);
      assert.match(err.message, /Java 17/);
      assert.match(err.message, /apt-get install -y openjdk-17-jre-headless/);
      assert.equal(err.message.includes("\n"), false, "one line");
      return true;
    });
  });

  it("starts, answers OPTIONS with DAV headers, and keeps users across restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "dav-local-"));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const options = { host: "127.0.0.1", port: 0, dataDir, adminUser: "admin" };

    const first = await startLocal(options);
    try {
      assert.ok(first.createdUser?.generated);
      assert.equal(readInstance(dataDir)?.url, first.url);
      assert.equal(readInstance(dataDir)?.inMemory, false);
      const res = await fetch(first.url, { method: "OPTIONS" });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("dav") ?? "", /calendar-access/);
      assert.match(res.headers.get("allow") ?? "", /PROPFIND/);
    } finally {
      await first.stop();
    }
    assert.equal(first.dynamo.process.exitCode !== null || first.dynamo.process.signalCode !== null, true);
    assert.equal(readInstance(dataDir), undefined);

    // A record left by a crashed earlier process whose pid this one now has does not block a start.
    const stale = {
      pid: process.pid,
      dynamoEndpoint: "http://127.0.0.1:9",
      tableName: "dav",
      url: "http://x/",
    };
    writeInstance(dataDir, stale);
    const second = await startLocal(options);
    try {
      assert.equal(second.createdUser, undefined, "the first user survives a restart");
      assert.deepEqual(await listUsers(second.store), ["admin"]);
      assert.equal(readInstance(dataDir)?.url, second.url);
    } finally {
      await second.stop();
    }
  });
});
