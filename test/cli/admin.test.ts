import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runAdmin } from "../../lib/cli/admin.js";
import { verifyPassword } from "../../lib/auth/password.js";
import { createCollection, getCollection } from "../../lib/store/collections.js";
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

  it("share add → the sharee's invitation → accept → list → remove: the view comes and goes in the sharee's home", async () => {
    const store = await freshStore();
    const env = { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: store.tableName };
    for (const u of ["alice", "bob"]) assert.equal(await runAdmin(["user", "add", u], capture().io, env), 0);
    await createCollection(store, { kind: "calendar", owner: "alice", name: "family" });
    const view = { kind: "calendar" as const, owner: "bob", name: "alice-family" };

    let c = capture();
    assert.equal(await runAdmin(["share", "add", "alice/family", "bob", "read"], c.io, env), 0);
    assert.match(c.out.join("\n"), /bob is invited to calendars\/alice\/family \(read\)/);
    assert.equal(await getCollection(store, view), undefined, "not in bob's home before he accepts");
    c = capture();
    assert.equal(await runAdmin(["share", "list", "bob"], c.io, env), 0);
    assert.deepEqual(c.out, ["invited to calendars/alice/family: read"]);

    c = capture();
    assert.equal(await runAdmin(["share", "accept", "bob", "alice/family"], c.io, env), 0);
    const seen = await getCollection(store, view);
    assert.equal(seen?.owner, "alice");
    assert.equal(seen?.view?.access, "read");
    c = capture();
    assert.equal(await runAdmin(["share", "list", "alice"], c.io, env), 0);
    assert.deepEqual(c.out, ["shares calendars/alice/family with bob: read, accepted"]);

    c = capture();
    assert.equal(await runAdmin(["share", "remove", "alice/family", "bob"], c.io, env), 0);
    assert.equal(await getCollection(store, view), undefined);

    // Refusals name the reason and exit 1; a malformed command prints the usage (2).
    c = capture();
    assert.equal(await runAdmin(["share", "add", "alice/family", "nobody", "read"], c.io, env), 1);
    assert.match(c.err.join("\n"), /no user nobody/);
    assert.equal(await runAdmin(["share", "add", "alice/family", "alice", "read"], c.io, env), 1);
    assert.match(c.err.join("\n"), /not shared with its owner/);
    assert.equal(await runAdmin(["share", "add", "alice/nothing", "bob", "read"], c.io, env), 1);
    assert.equal(await runAdmin(["share", "add", "alice/family", "bob", "everything"], c.io, env), 2);
  });
});
