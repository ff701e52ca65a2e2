/**
 * Helpers for the end-to-end tests that drive real third-party clients (Debian packages, installed
 * by .ci/run): finding them, running them, and refusing to skip silently in CI.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { it } from "node:test";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program to completion (never throws for a non-zero exit; does for a timeout). */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err && (err.killed || err.signal)) {
          reject(new Error(`${file} ${args.join(" ")} timed out or was killed\n${stdout}\n${stderr}`));
          return;
        }
        if (err && typeof err.code !== "number") {
          reject(err);
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    // A program that exits without reading its input closes the pipe: that is no failure of ours.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
  });
}

/** The first candidate for which `probe` succeeds (exit 0), or undefined. */
export async function findWorking(candidates: string[], probe: string[]): Promise<string | undefined> {
  for (const file of candidates) {
    try {
      if ((await run(file, probe, { timeoutMs: 20_000 })).code === 0) return file;
    } catch {
      // not installed, or not runnable: try the next one
    }
  }
  return undefined;
}

/**
 * A required client is missing: outside CI the tests are skipped with the install hint; in CI
 * (CI=true) this registers a failing test, so CI can never pass by silently skipping them.
 */
export function clientMissing(client: string, installHint: string): void {
  const message = `${client} is not installed; install it with: ${installHint}`;
  if (process.env.CI === "true") {
    it(`${client} is installed (required in CI)`, () => assert.fail(message));
  } else {
    it(`${client} end-to-end tests`, { skip: message }, () => {});
  }
}
