/**
 * `npm run bundle-report`: bundles the Lambda handler exactly as the stack does (infra/bundle.ts),
 * then prints its size, what takes the space, and its cold module-initialisation time: how long a
 * fresh Node process takes to import the bundle, which Lambda pays on every cold start.
 *
 *   npm run bundle-report -- [--runs N] [--json] [--max-kb N] [--max-init-ms N]
 *
 * With --max-kb / --max-init-ms it exits non-zero when the bundle grows past the budget.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { bundleComposition, bundleHandler } from "../infra/bundle.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(option("--runs") ?? 7);
const asJson = process.argv.includes("--json");
const maxKb = option("--max-kb") === undefined ? undefined : Number(option("--max-kb"));
const maxInitMs = option("--max-init-ms") === undefined ? undefined : Number(option("--max-init-ms"));

/** Imports the bundle in a fresh process and returns the milliseconds the import took. */
function coldImportMs(file: string): number {
  const script =
    "const t0 = performance.now();" +
    `const m = await import(${JSON.stringify(pathToFileURL(file).href)});` +
    "const t1 = performance.now();" +
    'if (typeof m.handler !== "function") throw new Error("bundle exports no handler");' +
    "process.stdout.write(String(t1 - t0));";
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    // What Lambda sets; the handler reads it lazily, so the import itself must not need it.
    env: { PATH: process.env.PATH, TABLE_NAME: "bundle-report", AWS_REGION: "us-east-1" },
    encoding: "utf8",
  });
  return Number(out);
}

const dir = mkdtempSync(join(tmpdir(), "lambda-dav-report-"));
try {
  const started = performance.now();
  const bundle = bundleHandler(dir);
  const buildMs = performance.now() - started;
  const gzipBytes = gzipSync(readFileSync(bundle.file)).length;
  coldImportMs(bundle.file); // warm the file-system cache, as Lambda's local disk would be
  const times = Array.from({ length: runs }, () => coldImportMs(bundle.file)).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const top = bundleComposition(bundle.metafile).slice(0, 10);

  const report = {
    bytes: bundle.bytes,
    kb: Math.round((bundle.bytes / 1024) * 10) / 10,
    gzipKb: Math.round((gzipBytes / 1024) * 10) / 10,
    buildMs: Math.round(buildMs),
    coldImportMs: { median: Math.round(median * 10) / 10, min: Math.round(times[0] * 10) / 10, runs },
    node: process.version,
    largest: top,
  };
  if (asJson) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`handler bundle  functions/dav.ts -> index.mjs (esm, minified, node22 target)`);
    console.log(`size            ${report.kb} KB (${bundle.bytes} bytes), ${report.gzipKb} KB gzipped`);
    console.log(
      `cold import     ${report.coldImportMs.median} ms median, ${report.coldImportMs.min} ms min ` +
        `over ${runs} fresh processes (Node ${process.version}; Lambda runs Node 22)`,
    );
    console.log("largest parts:");
    for (const { name, bytes } of top) console.log(`  ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${name}`);
  }
  let failed = false;
  if (maxKb !== undefined && report.kb > maxKb) {
    console.error(`bundle is ${report.kb} KB, over the budget of ${maxKb} KB`);
    failed = true;
  }
  if (maxInitMs !== undefined && median > maxInitMs) {
    console.error(`cold import takes ${report.coldImportMs.median} ms, over the budget of ${maxInitMs} ms`);
    failed = true;
  }
  process.exitCode = failed ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
