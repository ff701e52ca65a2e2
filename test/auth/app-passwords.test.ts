/**
 * App passwords (one per device): made and revoked with the admin CLI, stored as salted scrypt
 * hashes, accepted for Basic auth on the DAV endpoints, refused on the very next request once
 * revoked (even by a warm function that accepted it a moment before), and optionally the only
 * passwords the DAV endpoints take.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runAdmin } from "../../lib/cli/admin.js";
import { listAppPasswords } from "../../lib/store/app-passwords.js";
import { basic, startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const env = { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT, TABLE_NAME: server.ctx.store.tableName };

async function admin(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const propfind = (user: string, password: string) =>
  server.request("PROPFIND", "/calendars/" + user + "/", {
    user: null,
    headers: { depth: "0", authorization: basic(user, password) },
  });

describe("app passwords", () => {
  it("made with the CLI (shown once, stored only as a scrypt hash), listed without it, and accepted for Basic auth beside the main password", async () => {
    const made = await admin("app-password", "add", "alice", "Alice's phone");
    assert.equal(made.code, 0, made.err);
    const password = /password \(shown once\): (\S+)/.exec(made.out)?.[1];
    assert.ok(password && password.length === 33, made.out);
    const [stored] = await listAppPasswords(server.ctx.store, "alice");
    assert.equal(stored.name, "Alice's phone");
    assert.match(stored.hash, /^scrypt\$/);
    assert.ok(!stored.hash.includes(password));
    assert.equal((await propfind("alice", password)).status, 207);
    assert.equal((await propfind("alice", "alice-pw")).status, 207, "the main password still works");
    const listed = await admin("app-password", "list", "alice");
    assert.match(listed.out, new RegExp(`^${stored.id}  Alice's phone  created \\S+  last used \\S+Z$`));
    assert.ok(!listed.out.includes(password), "never shown again");
    // Another user's app password opens nothing of alice's.
    assert.equal((await propfind("bob", password)).status, 401);
  });

  it("revoking one refuses it on the next request, though this warm function accepted it a moment ago; the others keep working", async () => {
    const a = /shown once\): (\S+)/.exec((await admin("app-password", "add", "bob", "laptop")).out)![1];
    const b = /shown once\): (\S+)/.exec((await admin("app-password", "add", "bob", "tablet")).out)![1];
    assert.equal((await propfind("bob", a)).status, 207);
    assert.equal((await propfind("bob", a)).status, 207, "now cached");
    const id = a.split(".")[0];
    assert.equal((await admin("app-password", "revoke", "bob", id)).code, 0);
    assert.equal((await propfind("bob", a)).status, 401);
    assert.equal((await propfind("bob", b)).status, 207);
    const again = await admin("app-password", "revoke", "bob", id);
    assert.equal(again.code, 1);
    assert.match(again.err, /no app password/);
  });

  it("removing a user removes their app passwords: a new user of the same name inherits none", async () => {
    const made = await admin("user", "add", "temp", "--password", "temp-pw-123");
    assert.equal(made.code, 0, made.err);
    const pw = /shown once\): (\S+)/.exec((await admin("app-password", "add", "temp", "old phone")).out)![1];
    assert.equal((await admin("user", "remove", "temp")).code, 0);
    assert.equal((await admin("user", "add", "temp", "--password", "other-pw-456")).code, 0);
    assert.deepEqual(await listAppPasswords(server.ctx.store, "temp"), []);
    assert.equal((await propfind("temp", pw)).status, 401);
  });

  it("the CLI refuses what it cannot do: an unknown user, an empty or over-long name, a missing argument", async () => {
    assert.equal((await admin("app-password", "add", "nobody", "x")).code, 1);
    assert.equal((await admin("app-password", "add", "alice", " ")).code, 1);
    assert.equal((await admin("app-password", "add", "alice", "x".repeat(65))).code, 1);
    assert.equal((await admin("app-password", "add", "alice")).code, 2);
    assert.equal((await admin("app-password", "forget", "alice", "x")).code, 2);
  });
});

describe("DAV_APP_PASSWORDS_ONLY", () => {
  it("with it set, the DAV endpoints take app passwords only: the main password is refused", async () => {
    const only = await startTestServer({ appPasswordsOnly: true });
    const envOnly = {
      DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
      TABLE_NAME: only.ctx.store.tableName,
    };
    const out: string[] = [];
    assert.equal(
      await runAdmin(
        ["app-password", "add", "alice", "phone"],
        { out: (l) => out.push(l), err: () => {} },
        envOnly,
      ),
      0,
    );
    const password = /shown once\): (\S+)/.exec(out.join("\n"))![1];
    const as = (pw: string) =>
      only.request("PROPFIND", "/calendars/alice/", {
        user: null,
        headers: { depth: "0", authorization: basic("alice", pw) },
      });
    assert.equal((await as("alice-pw")).status, 401);
    assert.equal((await as(password)).status, 207);
  });
});
