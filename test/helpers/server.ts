/**
 * A real HTTP server on loopback for one test file: the Lambda handler behind the local front door,
 * on a fresh table of the run's DynamoDB Local, with users alice and bob.
 */
import { after } from "node:test";
import { createHandler } from "../../functions/dav.js";
import { hashPassword } from "../../lib/auth/password.js";
import { createLocalServer } from "../../lib/http/node-server.js";
import { createServer, defaultServerConfig, type DavContext, type ServerConfig } from "../../lib/server.js";
import type { DavModule } from "../../lib/webdav/registry.js";
import { createUser } from "../../lib/store/users.js";
import { freshStore } from "./store.js";

export const PASSWORDS: Record<string, string> = { alice: "alice-pw", bob: "bob-pw" };

export interface TestServer {
  url: string;
  ctx: DavContext;
  /** Send a request as `user` (default alice); `user: null` sends no credentials. */
  request(method: string, path: string, init?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  user?: string | null;
  password?: string;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: string;
  raw: Buffer;
}

export function basic(user: string, password = PASSWORDS[user]): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** `modules`: assemble the server from these instead of the standard list (tests of the seams). */
export async function startTestServer(
  config: Partial<ServerConfig> = {},
  modules?: readonly DavModule[],
  /** `stream`: the table gets its stream (the push tests read it). */
  opts: { stream?: boolean } = {},
): Promise<TestServer> {
  process.env.DAV_ACCESS_LOG = "0";
  const store = await freshStore({ stream: opts.stream });
  const ctx: DavContext = {
    store,
    config: { ...defaultServerConfig({}), ...config },
    authDelay: async () => {},
  };
  for (const [name, pw] of Object.entries(PASSWORDS)) {
    await createUser(store, {
      name,
      passwordHash: await hashPassword(pw),
      created: new Date().toISOString(),
      email: `${name}@example.com`,
    });
  }
  const server = createLocalServer(createHandler(() => ctx, modules ? createServer(modules) : undefined));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  after(() => new Promise<void>((r) => server.close(() => r())));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    url,
    ctx,
    async request(method, path, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const user = init.user === undefined ? "alice" : init.user;
      if (user) headers.authorization = basic(user, init.password);
      const res = await fetch(url + path, { method, headers, body: init.body, redirect: "manual" });
      const raw = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body: raw.toString("utf8"), raw };
    },
  };
}
