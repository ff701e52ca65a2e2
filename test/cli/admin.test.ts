import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runAdmin } from "../../lib/cli/admin.js";
import { verifyPassword } from "../../lib/auth/password.js";
import { getUser } from "../../lib/store/users.js";
import { freshStore } from "../helpers/store.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe("admin CLI", () => {
  it("user add → list → passwd → remove round trip stores only scrypt hashes", async () => {
    const store = await freshStore();
    const env = { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: store.tableName };

    let c = capture();
    assert.equal(await runAdmin(["user", "add", "bob", "--password", "s3cret!"], c.io, env), 0);
    const stored = await getUser(store, "bob");
    assert.ok(stored);
    assert.match(stored.passwordHash, /^scrypt\$/);
    assert.ok(!stored.passwordHash.includes("s3cret!"));
    assert.equal(await verifyPassword("s3cret!", stored.passwordHash), true);
    assert.equal(await verifyPassword("wrong", stored.passwordHash), false);

    c = capture();
    assert.equal(await runAdmin(["user", "add", "bob", "--password", "x"], c.io, env), 1);
    assert.match(c.err.join("\n"), /exists/);

    c = capture();
    assert.equal(await runAdmin(["user", "add", "carol"], c.io, env), 0);
    const generated = /password \(shown once\): (\S+)/.exec(c.out.join("\n"))?.[1];
    assert.ok(generated && generated.length >= 20);
    assert.equal(await verifyPassword(generated, (await getUser(store, "carol"))!.passwordHash), true);

    c = capture();
    assert.equal(await runAdmin(["user", "list"], c.io, env), 0);
    assert.deepEqual(c.out.sort(), ["bob", "carol"]);

    c = capture();
    assert.equal(await runAdmin(["user", "passwd", "bob", "--password", "n3w"], c.io, env), 0);
    assert.equal(await verifyPassword("n3w", (await getUser(store, "bob"))!.passwordHash), true);

    c = capture();
    assert.equal(await runAdmin(["user", "remove", "bob"], c.io, env), 0);
    assert.equal(await getUser(store, "bob"), undefined);
    c = capture();
    assert.equal(await runAdmin(["user", "remove", "bob"], c.io, env), 1);
    assert.equal(await runAdmin(["user", "passwd", "nobody", "--password", "x"], c.io, env), 1);
  });

  it("refuses unsafe user names and unknown commands with a usage message", async () => {
    const c = capture();
    assert.equal(await runAdmin(["user", "add", "../evil"], c.io, {}), 2);
    assert.equal(await runAdmin(["frobnicate"], c.io, {}), 2);
    assert.match(c.err.join("\n"), /usage|invalid user name/);
  });
});
