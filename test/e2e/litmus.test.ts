/**
 * litmus (Debian's litmus 0.13, the WebDAV server test suite) against the files home: the suites
 * basic, copymove, props, locks and http, each run on its own against /files/alice/. A test of a
 * suite that fails, or warns, and is not listed in KNOWN (with its reason, also given in the
 * README) fails this test; so does a listed one that passes again (the list must not go stale).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PASSWORDS, startTestServer } from "../helpers/server.js";
import { clientMissing, findWorking, run } from "./clients/run.js";

const SUITES = ["basic", "copymove", "props", "locks", "http"] as const;

/** Tests that may fail or warn, by suite and name, with the reason. None today. */
const KNOWN: Record<string, string> = {};

const litmus = await findWorking(["litmus"], ["--version"]);

/** The numbered results of a litmus run: name → "pass", "FAIL (…)", "WARNING: … pass (with 1 warning)", "SKIPPED …". */
function results(output: string): Map<string, string> {
  const found = new Map<string, string>();
  let current: string | undefined;
  for (const raw of output.split("\n")) {
    // A result may follow its warnings on a line of dots, and that line may start the next test.
    const continued = /^\.{3,}/.test(raw.trim());
    let line = raw.trim().replace(/^\.{3,}\s*/, "");
    let started = false;
    for (let m; (m = /^\d+\.\s+(\w+)\.*\s*(.*)$/.exec(line));) {
      current = m[1];
      found.set(current, "");
      line = m[2];
      started = true;
    }
    if (current && (started || continued)) found.set(current, `${found.get(current)} ${line}`.trim());
  }
  return found;
}

describe("litmus output as read here", () => {
  it("a failure, a warning, a skip and a pass are told apart, also where litmus repeats a test's name or starts the next one on a line of dots", () => {
    const sample = [
      " 2. options............... WARNING: server does not claim Class 2 compliance",
      "    ...................... pass (with 1 warning)",
      "    ......................  3. put_get............... pass",
      " 4. copy_overwrite........  4. copy_overwrite........ FAIL (COPY overwrites collection: 409 Conflict)",
      " 5. precond............... SKIPPED (locking tests skipped)",
      "<- summary for `basic': of 16 tests run: 15 passed, 1 failed. 93.8%",
    ].join("\n");
    assert.deepEqual(Object.fromEntries(results(sample)), {
      options: "WARNING: server does not claim Class 2 compliance pass (with 1 warning)",
      put_get: "pass",
      copy_overwrite: "FAIL (COPY overwrites collection: 409 Conflict)",
      precond: "SKIPPED (locking tests skipped)",
    });
  });
});

if (!litmus) {
  clientMissing("litmus", "apt-get install litmus");
} else {
  describe("litmus 0.13 against the files home (RFC 4918 class 1 and 2)", async () => {
    const server = await startTestServer();
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    for (const suite of SUITES) {
      it(`litmus ${suite}: every test passes without warnings, or is listed with its reason`, async () => {
        // Each suite leaves its files in the working directory (debug.log, child.log).
        const cwd = mkdtempSync(join(tmpdir(), `litmus-${suite}-`));
        dirs.push(cwd);
        // The litmus script runs the suites $TESTS names; one at a time here, so each is a test.
        const res = await run(litmus, [`${server.url}/files/alice/`, "alice", PASSWORDS.alice], {
          cwd,
          env: { ...process.env, TESTS: suite },
          timeoutMs: 240_000,
        });
        const output = res.stdout + res.stderr;
        const found = results(output);
        assert.ok(found.size > 2, `litmus ${suite} ran no tests:\n${output}`);
        const unexpected = [...found].filter(
          ([name, outcome]) =>
            !/^pass$/.test(outcome) && !/^SKIPPED/.test(outcome) && !KNOWN[`${suite}/${name}`],
        );
        assert.deepEqual(unexpected, [], `litmus ${suite}:\n${output}`);
        // A skipped test means a prerequisite failed (locks are skipped without class 2).
        assert.ok(
          ![...found.values()].some((o) => /^SKIPPED/.test(o)),
          `litmus ${suite} skipped tests:\n${output}`,
        );
        const stale = Object.keys(KNOWN).filter(
          (k) => k.startsWith(`${suite}/`) && found.get(k.split("/")[1]) === "pass",
        );
        assert.deepEqual(stale, [], "listed as failing but passing now: update KNOWN and the README");
        assert.equal(res.code, 0, output);
      });
    }
  });
}
