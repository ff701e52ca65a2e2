/**
 * The embedded local runtime behind `npm start`: DynamoDB Local + the table + a first user + the
 * HTTP front door on loopback, all calling the same Lambda handler that runs in AWS.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pollStream } from "../push/stream.js";
import { pushConfig } from "../webdav/context.js";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { handler } from "../../functions/dav.js";
import { hashPassword, generatePassword } from "../auth/password.js";
import { createLocalServer } from "../http/node-server.js";
import { ensureTable } from "../store/bootstrap.js";
import { createDynamoClient } from "../store/client.js";
import { createUser, listUsers, type Store } from "../store/users.js";
import { startDynamoLocal, type DynamoLocal } from "./dynamodb-local.js";
import {
  clearInstance,
  dataDirFromEnv,
  instancePath,
  LOCAL_TABLE,
  readInstance,
  writeInstance,
  type InstanceRecord,
} from "./instance.js";

export interface LocalOptions {
  host: string;
  port: number;
  /**
   * This server's folder: its instance record (how the admin CLI finds it) and, unless `inMemory`,
   * its DynamoDB data. Undefined: data in memory and no record, so no admin CLI either.
   */
  dataDir?: string;
  /** Keep the DynamoDB data in memory, gone on stop; the instance record still goes to `dataDir`. */
  inMemory?: boolean;
  adminUser: string;
  adminPassword?: string;
}

export interface LocalRuntime {
  url: string;
  dynamo: DynamoLocal;
  server: Server;
  store: Store;
  /** Set when this start created the first user. */
  createdUser?: { name: string; password: string; generated: boolean };
  stop(): Promise<void>;
}

export function localOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  dataDir: string = dataDirFromEnv(env),
): LocalOptions {
  return {
    host: env.HOST ?? "127.0.0.1",
    port: Number(env.PORT ?? 8008),
    dataDir,
    inMemory: env.DAV_IN_MEMORY === "1",
    adminUser: env.DAV_ADMIN_USER || "admin",
    adminPassword: env.DAV_ADMIN_PASSWORD || undefined,
  };
}

/** The data folder's VAPID seed, made on first use (readable by the owner only) and kept. */
function vapidSeedIn(dataDir: string): string {
  const file = join(dataDir, "vapid-seed");
  try {
    writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readFileSync(file, "utf8").trim();
}

/** Data dirs with a runtime of this process, whose records are not stale even with our own pid. */
const activeDirs = new Set<string>();

/** Refuse a data dir another live server has recorded: the admin CLI can reach only one. */
function claim(dataDir: string): void {
  const other = readInstance(dataDir);
  // A record with our own pid and no runtime here was left by an earlier process (pid reuse).
  if (!other || (other.pid === process.pid && !activeDirs.has(dataDir))) return;
  throw new Error(
    `${dataDir} is in use by another local server (pid ${other.pid}, ${other.url}): ` +
      `stop it or use another DAV_DATA_DIR (if none is running, delete ${instancePath(dataDir)})`,
  );
}

export async function startLocal(options: LocalOptions): Promise<LocalRuntime> {
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  const inMemory = options.inMemory === true || dataDir === undefined;
  if (dataDir) {
    claim(dataDir);
    mkdirSync(dataDir, { recursive: true });
  }
  const dynamo = await startDynamoLocal({ dataDir: inMemory ? undefined : dataDir });
  let store: Store | undefined;
  let server: Server | undefined;
  try {
    // The handler reads its configuration from the environment, exactly as in Lambda.
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = LOCAL_TABLE;
    store = {
      client: createDynamoClient({ tableName: LOCAL_TABLE, endpoint: dynamo.endpoint }),
      tableName: LOCAL_TABLE,
    };
    await ensureTable(store.client, LOCAL_TABLE);
    // The VAPID key is made once and kept with the data, so phones' push subscriptions survive restarts.
    if (dataDir && !inMemory && !process.env.DAV_VAPID_SEED)
      process.env.DAV_VAPID_SEED = vapidSeedIn(dataDir);

    let createdUser: LocalRuntime["createdUser"];
    if ((await listUsers(store)).length === 0) {
      const generated = !options.adminPassword;
      const password = options.adminPassword ?? generatePassword();
      await createUser(store, {
        name: options.adminUser,
        passwordHash: await hashPassword(password),
        created: new Date().toISOString(),
      });
      createdUser = { name: options.adminUser, password, generated };
    }

    const listening = createLocalServer(handler);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(options.port, options.host, () => resolve());
    });
    const address = listening.address();
    const port = typeof address === "object" && address ? address.port : options.port;
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    const url = `http://${host}:${port}/`;
    let record: InstanceRecord | undefined;
    if (dataDir) {
      // Without it the admin CLI would open the data dir's own database and report a change this
      // server never sees, so a server it cannot find does not start.
      record = { pid: process.pid, dynamoEndpoint: dynamo.endpoint, tableName: LOCAL_TABLE, url, inMemory };
      try {
        writeInstance(dataDir, record);
      } catch (err) {
        throw new Error(`cannot write the instance record for the admin CLI: ${(err as Error).message}`);
      }
      activeDirs.add(dataDir);
    }
    // WebDAV-Push: the same delivery code as the deployed stream function, fed by polling the stream.
    const poller = await pollStream(store, pushConfig(process.env), { endpoint: dynamo.endpoint });
    const client = store.client;
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        if (dataDir && record) {
          activeDirs.delete(dataDir);
          clearInstance(dataDir, record);
        }
        await new Promise<void>((resolve) => listening.close(() => resolve()));
        listening.closeAllConnections?.();
        await poller.stop();
        client.destroy();
        await dynamo.stop();
      })());
    return { url, dynamo, server: listening, store, createdUser, stop };
  } catch (err) {
    if (server?.listening) {
      const closing = server;
      await new Promise<void>((resolve) => closing.close(() => resolve()));
      closing.closeAllConnections?.();
    }
    store?.client.destroy();
    await dynamo.stop();
    throw err;
  }
}
