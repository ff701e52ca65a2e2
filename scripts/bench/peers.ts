/**
 * The servers the bench compares: this one as `npm start` runs it (a child process, DynamoDB Local
 * on disk in a temporary folder) and Radicale (Debian's package, on a free loopback port with a
 * temporary storage folder, seeded by writing its files directly).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../lib/local/free-port.js";
import type { InstanceRecord } from "../../lib/local/instance.js";

export interface Peer {
  name: string;
  version: string;
  url: URL;
  user: string;
  password: string;
  /** Where a user's calendars and address books live (trailing slash). */
  calendars: string;
  addressbooks: string;
  stop(): Promise<void>;
}

export const USER = "bench";
export const PASSWORD = "bench-password";

function waitFor(child: ChildProcess, pattern: RegExp, what: string, ms = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${seen.slice(-500)}`)), ms);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${seen.slice(-500)}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
}

/** `npm start` in a child process; the instance record names its DynamoDB Local for the cost phase. */
export async function startOurs(dataDir: string): Promise<Peer & { instance: InstanceRecord }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: {
      ...process.env,
      DAV_DATA_DIR: dataDir,
      PORT: String(port),
      DAV_ADMIN_USER: USER,
      DAV_ADMIN_PASSWORD: PASSWORD,
      DAV_ACCESS_LOG: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await waitFor(child, /listening on (\S+)/, "npm start");
  const instance = JSON.parse(readFileSync(join(dataDir, "instance.json"), "utf8")) as InstanceRecord;
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  return {
    name: "lambda-dav",
    version: pkg.version,
    url: new URL(url),
    user: USER,
    password: PASSWORD,
    calendars: `/calendars/${USER}/`,
    addressbooks: `/addressbooks/${USER}/`,
    instance,
    stop: stopper(child),
  };
}

export function radicaleVersion(): string | undefined {
  const r = spawnSync("radicale", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A collection to seed into Radicale's storage before it starts: files named `name` → text. */
export interface RadicaleCollection {
  path: string;
  tag: "VCALENDAR" | "VADDRESSBOOK";
  items: Iterable<[string, string]>;
}

/** Radicale on a free port, its storage seeded with `collections` (it reads its folder as its database). */
export async function startRadicale(dir: string, collections: RadicaleCollection[]): Promise<Peer> {
  const version = radicaleVersion();
  if (!version) throw new Error("radicale is not installed");
  const root = join(dir, "collections", "collection-root", USER);
  for (const c of collections) {
    const folder = join(root, c.path);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, ".Radicale.props"), JSON.stringify({ tag: c.tag }));
    for (const [name, text] of c.items) writeFileSync(join(folder, name), text);
  }
  const port = await freePort();
  const config = join(dir, "config");
  writeFileSync(
    config,
    [
      "[server]",
      `hosts = 127.0.0.1:${port}`,
      "[auth]",
      "type = none",
      "[rights]",
      "type = owner_only",
      "[storage]",
      `filesystem_folder = ${join(dir, "collections")}`,
      "[web]",
      "type = none",
      "[logging]",
      "level = warning",
    ].join("\n"),
  );
  const child = spawn("radicale", ["--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((_, reject) =>
    child.once("exit", (c) => reject(new Error(`radicale exited (${c})`))),
  );
  // Radicale prints nothing at level warning once it listens: poll the port.
  for (let i = 0; ; i++) {
    const ok = await Promise.race([
      fetch(`http://127.0.0.1:${port}/`, { method: "OPTIONS" }).then(
        () => true,
        () => false,
      ),
      exited,
    ]);
    if (ok) break;
    if (i > 200) throw new Error("radicale did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: "Radicale",
    version,
    url: new URL(`http://127.0.0.1:${port}/`),
    user: USER,
    password: PASSWORD,
    calendars: `/${USER}/`,
    addressbooks: `/${USER}/`,
    stop: stopper(child),
  };
}
