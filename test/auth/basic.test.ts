import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { authenticate, failureDelayMs, parseBasic } from "../../lib/auth/basic.js";
import { hashPassword, verifyPassword } from "../../lib/auth/password.js";
import type { DavRequest } from "../../lib/http/message.js";
import { createUser, recordAuthFailure, type Store } from "../../lib/store/users.js";
import { dav } from "../../lib/xml/names.js";
import { basic, startTestServer, type TestServer } from "../helpers/server.js";
import { propfindBody, XML_HEADERS } from "../helpers/xml.js";

const REALM = "Auth Realm";
const server: TestServer = await startTestServer({ realm: REALM });
const CHALLENGE = `Basic realm="${REALM}", charset="UTF-8"`;

async function addUser(name: string, password: string) {
  await createUser(server.ctx.store, {
    name,
    passwordHash: await hashPassword(password),
    created: new Date().toISOString(),
  });
}

/** PROPFIND / with a raw Authorization header (or none). */
async function propfindAs(authorization: string | undefined) {
  const headers: Record<string, string> = { ...XML_HEADERS, depth: "0" };
  if (authorization !== undefined) headers.authorization = authorization;
  return server.request("PROPFIND", "/", {
    user: null,
    headers,
    body: propfindBody([dav("current-user-principal")]),
  });
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

describe("HTTP Basic authentication (RFC 7617)", () => {
  it("RFC 7617 §2: parseBasic splits at the first colon, accepts any case of the scheme, refuses the rest", () => {
    assert.deepEqual(parseBasic(`Basic ${b64("alice:pw")}`), { user: "alice", password: "pw" });
    assert.deepEqual(parseBasic(`basic ${b64("alice:p:w:")}`), { user: "alice", password: "p:w:" });
    assert.deepEqual(parseBasic(`BASIC ${b64("alice:")}`), { user: "alice", password: "" });
    assert.deepEqual(parseBasic(`Basic ${b64("jörg:pässwörd")}`), { user: "jörg", password: "pässwörd" });
    for (const bad of [
      undefined,
      "",
      "Basic",
      `Basic ${b64("no-colon")}`,
      `Bearer ${b64("a:b")}`,
      "Basic !!!",
    ]) {
      assert.equal(parseBasic(bad), undefined, String(bad));
    }
  });

  it("RFC 7617 §2: wrong password, unknown user, malformed or other schemes → 401 with the same challenge", async () => {
    for (const auth of [
      undefined,
      basic("alice", "wrong"),
      basic("nobody", "alice-pw"),
      basic("bad name/../x", "pw"),
      `Basic ${b64("alice")}`,
      "Basic",
      `Bearer abc`,
      `Digest username="alice"`,
    ]) {
      const res = await propfindAs(auth);
      assert.equal(res.status, 401, String(auth));
      assert.equal(res.headers.get("www-authenticate"), CHALLENGE, String(auth));
    }
    // A wrong password and an unknown user get the very same answer (no user enumeration).
    const wrong = await propfindAs(basic("alice", "wrong"));
    const unknown = await propfindAs(basic("nobody", "alice-pw"));
    assert.equal(wrong.body, unknown.body);
    assert.equal((await propfindAs(basic("alice"))).status, 207);
  });

  it("RFC 7617 §2.1: charset=UTF-8 — a UTF-8 password works, its Latin-1 bytes do not", async () => {
    const password = "pässwörd-€";
    await addUser("utf8user", password);
    const utf8 = await propfindAs(`Basic ${b64(Buffer.from(`utf8user:${password}`, "utf8"))}`);
    assert.equal(utf8.status, 207);
    const latin1 = await propfindAs(`Basic ${b64(Buffer.from(`utf8user:pässwörd-`, "latin1"))}`);
    assert.equal(latin1.status, 401);
  });

  it("scrypt hashes: salted (two hashes of one password differ), verified only with the right password", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$\d+\$\d+\$\d+\$[^$]+\$[^$]+$/);
    assert.equal(await verifyPassword("same", a), true);
    assert.equal(await verifyPassword("Same", a), false);
    assert.equal(await verifyPassword("same", "plain:same"), false);
  });

  it("slow-down: repeated failures for one user are counted in DynamoDB and answered ever more slowly", async () => {
    await addUser("victim", "right-pw");
    const delays: number[] = [];
    server.ctx.authDelay = async (ms) => {
      delays.push(ms);
    };
    try {
      for (let i = 0; i < 8; i++) assert.equal((await propfindAs(basic("victim", `guess-${i}`))).status, 401);
      assert.equal(delays.length, 8);
      assert.deepEqual(delays, [1, 2, 3, 4, 5, 6, 7, 8].map(failureDelayMs));
      assert.ok(delays[7] > delays[4] && delays[4] > 0, `delays grow: ${delays.join(",")}`);
      for (let i = 1; i < delays.length; i++) assert.ok(delays[i] >= delays[i - 1]);
      // The count lives in DynamoDB: the next failure anywhere is the ninth.
      assert.equal(await recordAuthFailure(server.ctx.store, "victim"), 9);

      // Counted per user: another user's first failure is not slowed.
      delays.length = 0;
      assert.equal((await propfindAs(basic("bob", "wrong"))).status, 401);
      assert.deepEqual(delays, [0]);

      // Never a lockout: the right password still works at once, without any delay.
      delays.length = 0;
      const ok = await propfindAs(basic("victim", "right-pw"));
      assert.equal(ok.status, 207);
      assert.deepEqual(delays, []);

      // A successful login clears the count: the user's next typo is a first failure again.
      assert.equal((await propfindAs(basic("victim", "typo"))).status, 401);
      assert.deepEqual(delays, [0]);
      assert.equal(await recordAuthFailure(server.ctx.store, "victim"), 2);
    } finally {
      server.ctx.authDelay = async () => {};
    }
  });

  it("slow-down schedule: none for the first three failures, then doubling, capped at 3 s", () => {
    assert.deepEqual([1, 2, 3].map(failureDelayMs), [0, 0, 0]);
    assert.ok(failureDelayMs(4) > 0);
    assert.equal(failureDelayMs(5), 2 * failureDelayMs(4));
    assert.equal(failureDelayMs(1000), 3000);
    for (let n = 1; n < 50; n++) assert.ok(failureDelayMs(n + 1) >= failureDelayMs(n));
  });

  it("a cache of successful checks: the second request with the same credentials reads no user record", async () => {
    await addUser("cached", "cached-pw");
    const sent: string[] = [];
    const real = server.ctx.store;
    const counting = {
      tableName: real.tableName,
      client: {
        send: (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return (real.client.send as (c: unknown) => Promise<unknown>)(command);
        },
      },
    } as unknown as Store;
    const req = (password: string): DavRequest => ({
      method: "PROPFIND",
      rawPath: "/",
      path: "/",
      query: "",
      headers: { authorization: basic("cached", password) },
      body: Buffer.alloc(0),
    });
    const first = await authenticate(counting, req("cached-pw"), { realm: REALM });
    assert.equal(first.name, "cached");
    // One read of the user, and the failed-login counter cleared.
    assert.deepEqual(sent, ["GetItemCommand", "DeleteItemCommand"]);
    sent.length = 0;
    const second = await authenticate(counting, req("cached-pw"), { realm: REALM });
    assert.equal(second.name, "cached");
    assert.equal(sent.length, 0, `served from the cache, but sent ${sent.join(",")}`);
    // Failures are never cached, and a cached success does not admit another password.
    await assert.rejects(authenticate(counting, req("other"), { realm: REALM, delay: async () => {} }), {
      status: 401,
    });
    assert.ok(sent.includes("GetItemCommand") && sent.includes("UpdateItemCommand"), sent.join(","));
  });
});
