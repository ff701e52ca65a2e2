import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashPassword } from "../../lib/auth/password.js";
import { createCollection, listCollections } from "../../lib/store/collections.js";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { createUser, getUser, PROVISIONING, removeUser, userByEmail } from "../../lib/store/users.js";
import { cal, dav } from "../../lib/xml/names.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { mustProp, parseMultistatus, propfindBody, responseFor, XML_HEADERS } from "../helpers/xml.js";

const server: TestServer = await startTestServer();
const store = server.ctx.store;

async function addUser(name: string) {
  await createUser(store, {
    name,
    passwordHash: await hashPassword(`${name}-pw`),
    created: new Date().toISOString(),
  });
}
const as = (name: string) => ({ user: name, password: `${name}-pw` });

async function names(kind: "calendar" | "addressbook", owner: string) {
  return (await listCollections(store, kind, owner)).map((c) => c.name).sort();
}

describe("provisioning on the first authenticated request", () => {
  it("a user's first authenticated request creates a `default` calendar and a `default` address book", async () => {
    await addUser("fresh");
    assert.deepEqual(await names("calendar", "fresh"), []);
    assert.deepEqual(await names("addressbook", "fresh"), []);
    // Even an unauthenticated request must not create anything.
    assert.equal((await server.request("PROPFIND", "/calendars/fresh/", { user: null })).status, 401);
    assert.deepEqual(await names("calendar", "fresh"), []);

    const res = await server.request("PROPFIND", "/calendars/fresh/", {
      ...as("fresh"),
      headers: { ...XML_HEADERS, depth: "1" },
      body: propfindBody([dav("displayname"), cal("supported-calendar-component-set")]),
    });
    assert.equal(res.status, 207, res.body);
    const cal0 = responseFor(parseMultistatus(res.body), "/calendars/fresh/default/");
    assert.equal(mustProp(cal0, dav("displayname")).text, "Calendar");
    const comps = mustProp(cal0, cal("supported-calendar-component-set")).children.map(
      (c) => c.attrs["{}name"],
    );
    assert.ok(comps.includes("VEVENT") && comps.includes("VTODO"), comps.join(","));
    // RFC 6638 §2.2, §2.3: and the scheduling inbox and outbox.
    assert.deepEqual(await names("calendar", "fresh"), ["default", "inbox", "outbox"]);
    assert.deepEqual(await names("addressbook", "fresh"), ["default"]);
  });

  it("concurrent first requests provision exactly once and all succeed", async () => {
    await addUser("racer");
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        server.request("PROPFIND", "/addressbooks/racer/", { ...as("racer"), headers: { depth: "1" } }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(6).fill(207),
    );
    assert.deepEqual(await names("calendar", "racer"), ["default", "inbox", "outbox"]);
    assert.deepEqual(await names("addressbook", "racer"), ["default"]);
  });

  it("a user who already has a calendar gets no extra `default` calendar (only the missing address book)", async () => {
    await addUser("migrated");
    await createCollection(store, {
      kind: "calendar",
      owner: "migrated",
      name: "work",
      components: ["VEVENT"],
    });
    const res = await server.request("PROPFIND", "/calendars/migrated/", {
      ...as("migrated"),
      headers: { depth: "1" },
    });
    assert.equal(res.status, 207);
    assert.deepEqual(
      parseMultistatus(res.body)
        .map((r) => r.href)
        .sort(),
      [
        "/calendars/migrated/",
        "/calendars/migrated/inbox/",
        "/calendars/migrated/outbox/",
        "/calendars/migrated/work/",
      ],
    );
    assert.deepEqual(await names("calendar", "migrated"), ["inbox", "outbox", "work"]);
    assert.deepEqual(await names("addressbook", "migrated"), ["default"]);
  });

  it("a deleted default calendar is not created again on later requests", async () => {
    await addUser("deleter");
    assert.equal(
      (await server.request("PROPFIND", "/", { ...as("deleter"), headers: { depth: "0" } })).status,
      207,
    );
    const del = await server.request("DELETE", "/calendars/deleter/default/", as("deleter"));
    assert.ok(del.status === 204 || del.status === 200, `${del.status} ${del.body}`);
    assert.equal(
      (await server.request("PROPFIND", "/", { ...as("deleter"), headers: { depth: "0" } })).status,
      207,
    );
    assert.deepEqual(await names("calendar", "deleter"), ["inbox", "outbox"]);
  });

  it("a user provisioned by an earlier release (a flag, round 1) gets the inbox and outbox and the e-mail index on the next login, and no default calendar again", async () => {
    await createUser(store, {
      name: "veteran",
      passwordHash: await hashPassword("veteran-pw"),
      created: new Date().toISOString(),
    });
    // As round 1 left it: the flag set, no default calendar (deleted long ago), no boxes, no e-mail index.
    await store.client.send(
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: { pk: { S: "USERS" }, sk: { S: "U#veteran" } },
        UpdateExpression: "SET provisioned = :t, email = :e",
        ExpressionAttributeValues: { ":t": { BOOL: true }, ":e": { S: "Veteran@Example.com" } },
      }),
    );
    assert.equal((await getUser(store, "veteran"))!.provisioned, 1);
    assert.equal(await userByEmail(store, "veteran@example.com"), undefined);
    const res = await server.request("PROPFIND", "/", { ...as("veteran"), headers: { depth: "0" } });
    assert.equal(res.status, 207);
    assert.deepEqual(await names("calendar", "veteran"), ["inbox", "outbox"]);
    assert.deepEqual(await names("addressbook", "veteran"), []);
    assert.equal(
      await userByEmail(store, "veteran@example.com"),
      "veteran",
      "addresses compare case-insensitively",
    );
    assert.equal((await getUser(store, "veteran"))!.provisioned, PROVISIONING);
  });

  it("an e-mail address belongs to one user: a second user with it is refused, and removing the user frees it", async () => {
    await createUser(store, {
      name: "first",
      passwordHash: "x",
      created: "2026-01-01",
      email: "shared@example.com",
    });
    await assert.rejects(
      createUser(store, {
        name: "second",
        passwordHash: "x",
        created: "2026-01-01",
        email: "SHARED@example.com",
      }),
      /belongs to another user/,
    );
    assert.equal(await getUser(store, "second"), undefined, "nothing of the refused user was stored");
    await removeUser(store, "first");
    assert.equal(await userByEmail(store, "shared@example.com"), undefined);
    await createUser(store, {
      name: "second",
      passwordHash: "x",
      created: "2026-01-01",
      email: "shared@example.com",
    });
    assert.equal(await userByEmail(store, "shared@example.com"), "second");
  });
});
