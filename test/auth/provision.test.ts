import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashPassword } from "../../lib/auth/password.js";
import { createCollection, listCollections } from "../../lib/store/collections.js";
import { createUser } from "../../lib/store/users.js";
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
    assert.deepEqual(await names("calendar", "fresh"), ["default"]);
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
    assert.deepEqual(await names("calendar", "racer"), ["default"]);
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
      ["/calendars/migrated/", "/calendars/migrated/work/"],
    );
    assert.deepEqual(await names("calendar", "migrated"), ["work"]);
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
    assert.deepEqual(await names("calendar", "deleter"), []);
  });
});
