/**
 * The embedded local runtime behind `npm start`: DynamoDB Local + the table + a first user + the
 * HTTP front door on loopback, all calling the same Lambda handler that runs in AWS.
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { handler } from "../../functions/dav.js";
import { hashPassword, generatePassword } from "../auth/password.js";
import { createLocalServer } from "../http/node-server.js";
import { ensureTable } from "../store/bootstrap.js";
import { createDynamoClient } from "../store/client.js";
import { createUser, listUsers, type Store } from "../store/users.js";
import { startDynamoLocal, type DynamoLocal } from "./dynamodb-local.js";
import { clearInstance, LOCAL_TABLE, writeInstance } from "./instance.js";

export interface LocalOptions {
  host: string;
  port: number;
  /** Persist DynamoDB data here; undefined keeps it in memory. */
  dataDir?: string;
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

export function localOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, dataDir?: string): LocalOptions {
  return {
    host: env.HOST ?? "127.0.0.1",
    port: Number(env.PORT ?? 8008),
    dataDir: env.DAV_IN_MEMORY === "1" ? undefined : dataDir,
    adminUser: env.DAV_ADMIN_USER || "admin",
    adminPassword: env.DAV_ADMIN_PASSWORD || undefined,
  };
}

export async function startLocal(options: LocalOptions): Promise<LocalRuntime> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const dynamo = await startDynamoLocal({ dataDir: options.dataDir });
  try {
    // The handler reads its configuration from the environment, exactly as in Lambda.
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = LOCAL_TABLE;
    const store = {
      client: createDynamoClient({ tableName: LOCAL_TABLE, endpoint: dynamo.endpoint }),
      tableName: LOCAL_TABLE,
    };
    await ensureTable(store.client, LOCAL_TABLE);

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

    const server = createLocalServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : options.port;
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    const url = `http://${host}:${port}/`;
    if (options.dataDir) {
      writeInstance(options.dataDir, {
        pid: process.pid,
        dynamoEndpoint: dynamo.endpoint,
        tableName: LOCAL_TABLE,
        url,
      });
    }
    const stop = async () => {
      if (options.dataDir) clearInstance(options.dataDir);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      store.client.destroy();
      await dynamo.stop();
    };
    return { url, dynamo, server, store, createdUser, stop };
  } catch (err) {
    await dynamo.stop();
    throw err;
  }
}
