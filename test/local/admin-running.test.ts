/**
 * The admin CLI must reach the running `npm start` of its data dir whatever its storage mode: with
 * `DAV_IN_MEMORY=1` a user added through the CLI must be able to log in to that very server, and the
 * CLI must never report a change to some other database as if it had reached the server.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runAdmin } from "../../lib/cli/admin.js";
import { freePort } from "../../lib/local/free-port.js";
import { clearInstance, readInstance, writeInstance } from "../../lib/local/instance.js";
import {
  localOptionsFromEnv,
  startLocal,
  type LocalOptions,
  type LocalRuntime,
} from "../../lib/local/runtime.js";
import { getUser } from "../../lib/store/users.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dav-admin-running-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** PROPFIND / as `user`: the status tells whether the server knows the credentials. */
async function loginStatus(url: string, user: string, password: string): Promise<number> {
  const res = await fetch(url, {
    method: "PROPFIND",
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
      depth: "0",
    },
  });
  await res.arrayBuffer();
  return res.status;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => (socket.destroy(), resolve(false)));
  });
}

/** The pid of a process that has certainly exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve(child.pid!));
  });
}

/** Expect startLocal to fail; should it start after all, stop it, so the test file can exit. */
async function refusesToStart(options: LocalOptions, expected: RegExp | ((err: Error) => boolean)) {
  let started: LocalRuntime | undefined;
  try {
    await assert.rejects(
      startLocal(options).then((r) => void (started = r)),
      expected,
    );
  } finally {
    await started?.stop();
  }
}

/** A CLI environment without the test run's DYNAMODB_ENDPOINT/TABLE_NAME. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.DYNAMODB_ENDPOINT;
  delete env.TABLE_NAME;
  return env;
}

const timeout = 120_000;

describe("admin CLI against a running in-memory local server (DAV_IN_MEMORY=1)", { timeout }, () => {
  // A data dir that does not exist yet: the in-memory server creates it for its instance record.
  const dataDir = join(tempDir(), "data");
  let runtime: LocalRuntime;
  before(async () => {
    const env = { DAV_IN_MEMORY: "1", PORT: "0", DAV_ADMIN_PASSWORD: "pw" };
    runtime = await startLocal(localOptionsFromEnv(env, dataDir));
  });
  after(() => runtime?.stop());

  it("leaves an instance record flagged in memory, and no database file, in the data dir", () => {
    const record = readInstance(dataDir);
    assert.ok(record, "instance.json written although the data are in memory");
    assert.equal(record.url, runtime.url);
    assert.equal(record.dynamoEndpoint, runtime.dynamo.endpoint);
    assert.equal(record.inMemory, true);
    assert.deepEqual(readdirSync(dataDir), ["instance.json"]);
  });

  it("user add reaches the running server: the new user can log in, and the message says where", async () => {
    assert.equal(await loginStatus(runtime.url, "bob", "x"), 401, "bob is unknown before");
    const c = capture();
    assert.equal(
      await runAdmin(["user", "add", "bob", "--password", "x"], c.io, { DAV_DATA_DIR: dataDir }),
      0,
    );
    assert.deepEqual(c.err, []);
    assert.equal(c.out.length, 1);
    assert.match(
      c.out[0],
      /^added user bob to the running local server at http:\/\/127\.0\.0\.1:\d+\/ \(in memory\)$/,
    );
    assert.ok(c.out[0].includes(runtime.url));
    assert.equal(await loginStatus(runtime.url, "bob", "x"), 207, "bob logs in to the running server");
    assert.equal(await loginStatus(runtime.url, "bob", "wrong"), 401);

    const list = capture();
    assert.equal(await runAdmin(["user", "list"], list.io, { DAV_DATA_DIR: dataDir }), 0);
    assert.deepEqual(list.out.sort(), ["admin", "bob"]);
    assert.deepEqual(readdirSync(dataDir), ["instance.json"], "the CLI opened no database of its own");
  });

  it("user passwd and remove act on the running server too", async () => {
    const env = { DAV_DATA_DIR: dataDir };
    let c = capture();
    assert.equal(await runAdmin(["user", "passwd", "bob", "--password", "y"], c.io, env), 0);
    assert.match(c.out[0], /^changed the password of bob in the running local server at .* \(in memory\)$/);
    assert.equal(await loginStatus(runtime.url, "bob", "y"), 207);
    c = capture();
    assert.equal(await runAdmin(["user", "remove", "bob"], c.io, env), 0);
    assert.match(c.out[0], /^removed user bob from the running local server at .* \(in memory\)$/);
    // (Not a login: successful ones are cached for a minute, as in Lambda.)
    assert.equal(await getUser(runtime.store, "bob"), undefined);
  });

  it("a second local server on the same data dir is refused, and the first one's record stays", async () => {
    const second = localOptionsFromEnv({ PORT: "0", DAV_ADMIN_PASSWORD: "pw" }, dataDir);
    await refusesToStart(second, (err: Error) => {
      assert.match(err.message, /in use by another local server/);
      assert.ok(err.message.includes(runtime.url));
      return true;
    });
    assert.equal(readInstance(dataDir)?.url, runtime.url);
    assert.deepEqual(readdirSync(dataDir), ["instance.json"], "no DynamoDB Local was started on it");
  });

  it("stop removes the record; then the CLI refuses in-memory work instead of claiming it", async () => {
    await runtime.stop();
    assert.equal(existsSync(join(dataDir, "instance.json")), false);
    const c = capture();
    const env = { DAV_DATA_DIR: dataDir, DAV_IN_MEMORY: "1" };
    assert.equal(await runAdmin(["user", "add", "carol", "--password", "x"], c.io, env), 1);
    assert.deepEqual(c.out, []);
    assert.match(
      c.err.join("\n"),
      /^no local server is running on .*, so there is no in-memory data to change$/,
    );
    assert.equal(existsSync(join(dataDir, "shared-local-instance.db")), false);
  });
});

describe("instance records and the admin CLI", { timeout }, () => {
  it("a stopping server removes only its own record, not one another server wrote since", () => {
    const dataDir = tempDir();
    const mine = {
      pid: process.pid,
      dynamoEndpoint: "http://127.0.0.1:1",
      tableName: "dav",
      url: "http://a/",
    };
    const theirs = { ...mine, dynamoEndpoint: "http://127.0.0.1:2", url: "http://b/" };
    writeInstance(dataDir, theirs);
    clearInstance(dataDir, mine);
    assert.equal(readInstance(dataDir)?.url, "http://b/");
    clearInstance(dataDir, theirs);
    assert.equal(existsSync(join(dataDir, "instance.json")), false);
    assert.deepEqual(readdirSync(dataDir), [], "no temporary file left behind");
  });

  it("a stale record whose pid is dead is not taken for a running server", async () => {
    const dataDir = tempDir();
    writeInstance(dataDir, {
      pid: await deadPid(),
      dynamoEndpoint: "http://127.0.0.1:9",
      tableName: "dav",
      url: "http://127.0.0.1:9/",
      inMemory: true,
    });
    const c = capture();
    const env = { DAV_DATA_DIR: dataDir, DAV_IN_MEMORY: "1" };
    assert.equal(await runAdmin(["user", "add", "bob", "--password", "x"], c.io, env), 1);
    assert.deepEqual(c.out, []);
    assert.match(c.err.join("\n"), /no local server is running on/);
  });

  it("an in-memory server whose instance record cannot be written fails to start and leaves nothing running", async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, "instance.json")); // a directory where the record must go
    const port = await freePort();
    const options = localOptionsFromEnv({ DAV_IN_MEMORY: "1", PORT: String(port) }, dataDir);
    const exitListeners = process.listenerCount("exit");
    await refusesToStart(options, /instance record/);
    assert.equal(await portOpen(port), false, "the HTTP server was closed");
    assert.equal(process.listenerCount("exit"), exitListeners, "DynamoDB Local was stopped");
  });
});

describe("npm start with DAV_IN_MEMORY=1 and npm run admin as separate processes", { timeout }, () => {
  it("user add reaches the running server, and the server removes its record on SIGTERM", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const tsx = ["--import", "tsx"];
    const server: ChildProcess = spawn(process.execPath, [...tsx, "scripts/start.ts"], {
      env: cliEnv({
        DAV_IN_MEMORY: "1",
        DAV_DATA_DIR: dataDir,
        PORT: String(port),
        DAV_ADMIN_PASSWORD: "pw",
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    after(() => {
      if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes("Press Ctrl-C")) resolve();
      };
      server.stdout!.on("data", onData);
      server.stderr!.on("data", onData);
      void exited.then((code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
    });
    const url = `http://127.0.0.1:${port}/`;

    const admin = spawn(
      process.execPath,
      [...tsx, "scripts/admin.ts", "user", "add", "bob", "--password", "x"],
      {
        env: cliEnv({ DAV_DATA_DIR: dataDir }),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    after(() => {
      if (admin.exitCode === null && admin.signalCode === null) admin.kill("SIGKILL");
    });
    let adminOut = "";
    let adminErr = "";
    admin.stdout!.on("data", (d) => (adminOut += d));
    admin.stderr!.on("data", (d) => (adminErr += d));
    const adminCode = await new Promise<number | null>((resolve) =>
      admin.once("close", (code) => resolve(code)),
    );
    assert.equal(adminCode, 0, adminErr);
    assert.equal(adminOut.trim(), `added user bob to the running local server at ${url} (in memory)`);
    assert.equal(await loginStatus(url, "bob", "x"), 207);

    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dataDir, "instance.json")), false);
  });
});
