/**
 * `npm run synth` end to end, the way CI and users run it: the cdk CLI, infra/cdk.json, tsx and the
 * local esbuild, with no AWS credentials, no Docker and no network beyond loopback.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const out = mkdtempSync(join(tmpdir(), "lambda-dav-cdk-out-"));
after(() => rmSync(out, { recursive: true, force: true }));

function npmSynth(...args: string[]) {
  // No credentials of any kind: synth must not need them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  return spawnSync("npm", ["run", "--silent", "synth", "--", ...args], {
    env: { ...env, CDK_DISABLE_CLI_TELEMETRY: "true" },
    encoding: "utf8",
    timeout: 180_000,
  });
}

describe("npm run synth", () => {
  it("synthesizes the default stack offline, with the bundled handler as its asset", () => {
    const r = npmSynth("--output", out);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const template = JSON.parse(readFileSync(join(out, "LambdaDav.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      Outputs: Record<string, unknown>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === "AWS::Lambda::Function")!;
    assert.equal(fn.Properties.Runtime, "nodejs22.x");
    assert.ok(Object.values(template.Resources).some((r) => r.Type === "AWS::Lambda::Url"));
    assert.ok(template.Outputs.Url && template.Outputs.TableName);
    const asset = readdirSync(out).find((name) => name.startsWith("asset."))!;
    assert.deepEqual(readdirSync(join(out, asset)), ["index.mjs"], "the asset is the bundle alone");
    assert.ok(statSync(join(out, asset, "index.mjs")).size > 10_000);
  });
});
