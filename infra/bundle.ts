/**
 * Bundles the single DAV handler (`functions/dav.ts`, export `handler`) into one minified ES module
 * with the locally installed esbuild: no Docker, no network, no AWS credentials. The stack deploys
 * exactly this output, and `npm run bundle-report` measures it, so both see the same bytes.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync, type BuildOptions, type Metafile } from "esbuild";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const HANDLER_ENTRY = join(REPO_ROOT, "functions", "dav.ts");
/** File name inside the asset; the Lambda handler string is `<name without .mjs>.handler`. */
export const BUNDLE_FILE = "index.mjs";
export const LAMBDA_HANDLER = "index.handler";

export function bundleOptions(outdir: string): BuildOptions {
  return {
    entryPoints: [HANDLER_ENTRY],
    outfile: join(outdir, BUNDLE_FILE),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    minify: true,
    sourcemap: false,
    platform: "node",
    target: "node22",
    format: "esm",
    // Prefer the ES-module builds (the AWS SDK ships both), so unused code is tree-shaken away.
    mainFields: ["module", "main"],
    // The AWS SDK is bundled, not taken from the runtime: the deployed code runs the versions the
    // tests ran, and a bundled, tree-shaken client initialises faster than the runtime's full SDK.
    external: [],
    // CommonJS dependencies inside an ES-module bundle still call require() for Node built-ins.
    banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  };
}

export interface HandlerBundle {
  /** Directory holding only the bundle: the Lambda asset. */
  dir: string;
  file: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles into `outdir`, or a fresh temporary directory that is removed when the process exits. */
export function bundleHandler(outdir?: string): HandlerBundle {
  let dir = outdir;
  if (!dir) {
    const tmp = mkdtempSync(join(tmpdir(), "lambda-dav-bundle-"));
    process.once("exit", () => rmSync(tmp, { recursive: true, force: true }));
    dir = tmp;
  }
  const result = buildSync(bundleOptions(dir));
  const file = join(dir, BUNDLE_FILE);
  return { dir, file, bytes: statSync(file).size, metafile: result.metafile! };
}

let cached: HandlerBundle | undefined;

/** One bundle per process: every stack synthesized in a run (tests make several) shares it. */
export function sharedHandlerBundle(): HandlerBundle {
  cached ??= bundleHandler();
  return cached;
}

/** Bytes per npm package (or "app" for this repository's own code), largest first. */
export function bundleComposition(metafile: Metafile): Array<{ name: string; bytes: number }> {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = m ? m[1] : "app";
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
