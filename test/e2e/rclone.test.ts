/**
 * End to end with rclone (Debian's rclone, its `webdav` backend), a generic WebDAV file client, on
 * the files home: a tree of folders and files (one of them binary) copied up, checked, a folder
 * moved on the server (MOVE), the tree copied back byte for byte, and the lot purged (DELETE).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PASSWORDS, startTestServer } from "../helpers/server.js";
import { clientMissing, findWorking, run } from "./clients/run.js";

const rclone = await findWorking(["rclone"], ["version"]);

if (!rclone) {
  clientMissing("rclone", "apt-get install rclone");
} else {
  describe("rclone webdav backend against the files home", async () => {
    const server = await startTestServer();
    const dir = mkdtempSync(join(tmpdir(), "rclone-e2e-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const obscured = (await run(rclone, ["obscure", PASSWORDS.alice])).stdout.trim();
    const env = {
      ...process.env,
      RCLONE_CONFIG: join(dir, "rclone.conf"),
      RCLONE_CONFIG_DAV_TYPE: "webdav",
      RCLONE_CONFIG_DAV_URL: `${server.url}/files/alice/`,
      RCLONE_CONFIG_DAV_VENDOR: "other",
      RCLONE_CONFIG_DAV_USER: "alice",
      RCLONE_CONFIG_DAV_PASS: obscured,
    };
    const rc = async (...args: string[]) => {
      const res = await run(rclone, [...args, "--retries", "1", "--low-level-retries", "1"], {
        env,
        timeoutMs: 60_000,
      });
      assert.equal(res.code, 0, `rclone ${args.join(" ")}:\n${res.stdout}\n${res.stderr}`);
      return res.stdout;
    };
    const src = join(dir, "src");
    const binary = randomBytes(100_000);

    it("copies a tree up (MKCOL, PUT), lists it (PROPFIND) and finds every file equal (rclone check)", async () => {
      mkdirSync(join(src, "a", "b"), { recursive: true });
      writeFileSync(join(src, "one.txt"), "one\n");
      writeFileSync(join(src, "a", "two.txt"), "zwei ✓\n");
      writeFileSync(join(src, "a", "b", "random.bin"), binary);
      await rc("copy", src, "dav:backup");
      assert.deepEqual((await rc("lsf", "-R", "dav:backup")).trim().split("\n").sort(), [
        "a/",
        "a/b/",
        "a/b/random.bin",
        "a/two.txt",
        "one.txt",
      ]);
      await rc("check", src, "dav:backup");
    });

    it("moves a folder on the server (one MOVE of the subtree) and copies the tree back byte for byte; purge removes it", async () => {
      await rc("moveto", "dav:backup/a", "dav:backup/moved");
      const back = join(dir, "back");
      await rc("copy", "dav:backup", back);
      assert.deepEqual(readFileSync(join(back, "moved", "b", "random.bin")), binary);
      assert.equal(readFileSync(join(back, "moved", "two.txt"), "utf8"), "zwei ✓\n");
      assert.equal(readFileSync(join(back, "one.txt"), "utf8"), "one\n");
      await rc("purge", "dav:backup");
      assert.equal((await rc("lsf", "dav:")).trim(), "");
    });
  });
}
