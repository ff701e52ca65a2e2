/**
 * WebDAV-Push (draft-bitfire-webdav-push) against DynamoDB Local and its stream: discovery
 * properties, registration and removal with the draft's preconditions, and delivery to a test
 * push service on loopback (allowed by DAV_PUSH_ALLOW_HOSTS) that decrypts what it gets with the
 * subscription's private key (RFC 8291, `http_ece`) and checks the VAPID signature's presence.
 */
import assert from "node:assert/strict";
import { createECDH, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { after, before, describe, it } from "node:test";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import ece from "http_ece";
import { createPushHandler } from "../../functions/push.js";
import { ensureTable } from "../../lib/store/bootstrap.js";
import { tableDefinition } from "../../lib/store/table.js";
import { pollStream, type StreamPoller } from "../../lib/push/stream.js";
import { getSubscription, subscriptionId } from "../../lib/store/push.js";
import { parseXml } from "../../lib/xml/parse.js";
import { dav } from "../../lib/xml/names.js";
import { CalClient, davError, event } from "../helpers/ical.js";
import { defaultServerConfig } from "../../lib/server.js";
import { startTestServer } from "../helpers/server.js";
import { mustProp, parseMultistatus, propfindBody } from "../helpers/xml.js";

const P = "https://bitfire.at/webdav-push";
const p = (local: string) => `{${P}}${local}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
const received: Received[] = [];
const service = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
    res.statusCode = req.url?.startsWith("/gone") ? 410 : 201;
    res.end();
  });
});
await new Promise<void>((r) => service.listen(0, "127.0.0.1", () => r()));
after(() => new Promise<void>((r) => service.close(() => r())));
const servicePort = (service.address() as { port: number }).port;
const pushUrl = (path: string) => `http://127.0.0.1:${servicePort}${path}`;

const server = await startTestServer(
  { push: { ...defaultServerConfig({}).push, allowHosts: ["127.0.0.1", "10.1.2.3"], perMinute: 30 } },
  undefined,
  { stream: true },
);
const alice = new CalClient(server, "alice");
const bob = new CalClient(server, "bob");
await alice.req("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } });
await bob.req("PROPFIND", "/calendars/bob/", { headers: { depth: "0" } });

let poller: StreamPoller;
before(async () => {
  poller = await pollStream(server.ctx.store, server.ctx.config.push, {
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    intervalMs: 200,
  });
});
after(() => poller.stop());

/** A Web Push subscription's client side: its key pair and auth secret (RFC 8291 §3). */
function clientKeys() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { ecdh, p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16) };
}

function registerBody(
  resource: string,
  keys: ReturnType<typeof clientKeys>,
  o: { expires?: string; trigger?: string } = {},
) {
  return `<?xml version="1.0" encoding="utf-8"?>
<push-register xmlns="${P}" xmlns:D="DAV:">
  <subscription><web-push-subscription>
    <push-resource>${resource}</push-resource>
    <content-encoding>aes128gcm</content-encoding>
    <client-public-key type="p256dh">${keys.p256dh}</client-public-key>
    <auth-secret>${keys.auth.toString("base64url")}</auth-secret>
  </web-push-subscription></subscription>
  <trigger>${o.trigger ?? "<content-update><D:sync-level>1</D:sync-level></content-update>"}</trigger>
  ${o.expires ? `<expires>${o.expires}</expires>` : ""}
</push-register>`;
}

const register = (c: CalClient, path: string, body: string) =>
  c.req("POST", path, { body, headers: { "content-type": "application/xml; charset=utf-8" } });

async function props(path: string) {
  const res = await alice.req("PROPFIND", path, {
    headers: { depth: "0", "content-type": "application/xml" },
    body: propfindBody([p("transports"), p("topic"), p("supported-triggers"), dav("sync-token")]),
  });
  assert.equal(res.status, 207, res.body);
  return parseMultistatus(res.body)[0];
}

async function settle(ms = 1200) {
  await poller.polled();
  await new Promise((r) => setTimeout(r, ms));
  await poller.polled();
}

const messagesTo = (path: string) => received.filter((r) => r.path === path);

function decrypt(r: Received, keys: ReturnType<typeof clientKeys>) {
  return ece
    .decrypt(r.body, { version: "aes128gcm", privateKey: keys.ecdh, authSecret: keys.auth })
    .toString("utf8");
}

describe("WebDAV-Push: discovery and registration", () => {
  it("draft §2: webdav-push in DAV; transports (web-push with the VAPID key), topic and supported-triggers on calendars and homes", async () => {
    const options = await alice.req("OPTIONS", "/calendars/alice/default/");
    assert.match(options.headers.get("dav") ?? "", /webdav-push/);
    const cal = await props("/calendars/alice/default/");
    const key = mustProp(cal, p("transports")).children[0].children[0];
    assert.equal(key.name, p("vapid-public-key"));
    assert.equal(key.attrs["{}type"], "p256ecdsa");
    assert.equal(Buffer.from(key.text.trim(), "base64url").length, 65, "an uncompressed P-256 point");
    const topic = mustProp(cal, p("topic")).text.trim();
    assert.match(topic, /^[A-Za-z0-9_-]{16,}$/);
    assert.ok(!topic.includes("alice") && !topic.includes("default"), "the topic reveals nothing");
    assert.equal(mustProp(cal, p("supported-triggers")).children[0].name, p("content-update"));
    const home = await props("/calendars/alice/");
    assert.notEqual(mustProp(home, p("topic")).text.trim(), topic);
    // The topic stays with the collection (its id), not its URL.
    assert.equal(mustProp(await props("/calendars/alice/default/"), p("topic")).text.trim(), topic);
  });

  it("draft §4.1: registration answers 201 with Location and Expires (at least three days, at most the server's bound); the same push resource again updates it", async () => {
    const keys = clientKeys();
    const soon = new Date(Date.now() + 3600_000).toUTCString();
    const res = await register(
      alice,
      "/calendars/alice/default/",
      registerBody(pushUrl("/reg-1"), keys, { expires: soon }),
    );
    assert.equal(res.status, 201, res.body);
    const location = res.headers.get("location")!;
    // Absolute (the draft's MUST: DAVx5 resolves it as a URL).
    assert.match(location, new RegExp(`^${server.url}/push/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$`));
    const path = new URL(location).pathname;
    const expires = Date.parse(res.headers.get("expires")!);
    assert.ok(expires >= Date.now() + 3 * 86400_000 - 5000, "at least three days (draft §4.4)");
    const far = new Date(Date.now() + 365 * 86400_000).toUTCString();
    const again = await register(
      alice,
      "/calendars/alice/default/",
      registerBody(pushUrl("/reg-1"), clientKeys(), { expires: far }),
    );
    assert.equal(again.status, 204, "an update, not a new registration");
    assert.equal(again.headers.get("location"), location, "one registration per push resource");
    assert.ok(
      Date.parse(again.headers.get("expires")!) <= Date.now() + 7 * 86400_000 + 5000,
      "capped at DAV_PUSH_MAX_DAYS",
    );
    // §4.3: DELETE removes it; again, or by someone else, is 404.
    assert.equal((await bob.req("DELETE", path)).status, 404);
    assert.equal((await alice.req("DELETE", path)).status, 204);
    assert.equal((await alice.req("DELETE", path)).status, 404);
    assert.equal((await alice.req("DELETE", `/push/${"A".repeat(3000)}/x`)).status, 404, "never a 500");
  });

  it("DAVx5's registration (no trigger, subscription-public-key, no content-encoding) is taken as content updates; a collection takes at most 20", async () => {
    const keys = clientKeys();
    const davx5 = `<?xml version="1.0" encoding="utf-8"?>
<P:push-register xmlns:P="${P}"><P:subscription><P:web-push-subscription>
<P:push-resource>${pushUrl("/davx5")}</P:push-resource>
<P:subscription-public-key type="p256dh">${keys.p256dh}</P:subscription-public-key>
<P:auth-secret>${keys.auth.toString("base64url")}</P:auth-secret>
</P:web-push-subscription></P:subscription><P:expires>${new Date(Date.now() + 5 * 86400_000).toUTCString()}</P:expires></P:push-register>`;
    await alice.newCalendar("capped");
    assert.equal((await register(alice, "/calendars/alice/capped/", davx5)).status, 201);
    for (let i = 1; i < 20; i++) {
      assert.equal(
        (await register(alice, "/calendars/alice/capped/", registerBody(pushUrl(`/cap${i}`), keys))).status,
        201,
      );
    }
    const over = await register(alice, "/calendars/alice/capped/", registerBody(pushUrl("/cap-over"), keys));
    assert.equal(over.status, 403);
    assert.equal(davError(over).name, p("push-not-available"));
    // Renewing one that is there still works.
    assert.equal((await register(alice, "/calendars/alice/capped/", davx5)).status, 204);
  });

  it("draft §4.1 preconditions: invalid-subscription (missing keys, http:, private, loopback not allowed), no-supported-trigger; another user's collection is refused", async () => {
    const keys = clientKeys();
    const cases: [string, string][] = [
      [
        registerBody(pushUrl("/x"), keys).replace(/<auth-secret>.*<\/auth-secret>/, ""),
        "invalid-subscription",
      ],
      [registerBody("http://push.example.com/x", keys), "invalid-subscription"],
      [registerBody("https://10.1.2.3/x", keys), "invalid-subscription"],
      [registerBody("https://192.168.0.7/x", keys), "invalid-subscription"],
      [registerBody("https://[::1]:8443/x", keys), "invalid-subscription"],
      [registerBody("https://[::ffff:127.0.0.1]/x", keys), "invalid-subscription"],
      [registerBody("https://2886729729/x", keys), "invalid-subscription"],
      [registerBody("https://169.254.169.254/latest", keys), "invalid-subscription"],
      [
        registerBody(pushUrl("/x"), keys, {
          trigger: "<property-update><D:depth>0</D:depth></property-update>",
        }),
        "no-supported-trigger",
      ],
    ];
    for (const [body, pre] of cases) {
      const res = await register(alice, "/calendars/alice/default/", body);
      assert.equal(res.status, 403, `${pre}: ${res.body}`);
      assert.equal(davError(res).name, p(pre));
    }
    const other = await register(bob, "/calendars/alice/default/", registerBody(pushUrl("/bob"), keys));
    assert.equal(other.status, 403);
    // A POST that is not a registration is still an import.
    const imp = await alice.req("POST", "/calendars/alice/default/", {
      body: event("push-import-1"),
      headers: { "content-type": "text/calendar" },
    });
    assert.equal(imp.status, 202, imp.body);
  });
});

describe("WebDAV-Push: delivery", () => {
  it("draft §5, RFC 8291, RFC 8292: a change sends exactly one encrypted, VAPID-signed message with the topic and the new sync-token", async () => {
    await alice.newCalendar("pushed");
    const keys = clientKeys();
    assert.equal(
      (await register(alice, "/calendars/alice/pushed/", registerBody(pushUrl("/one"), keys))).status,
      201,
    );
    await settle(300);
    assert.equal((await alice.put("pushed", "e.ics", event("push-e1"))).status, 201);
    await settle();
    const got = messagesTo("/one");
    assert.equal(got.length, 1, `one message, got ${got.length}`);
    const m = got[0];
    assert.equal(m.headers["content-encoding"], "aes128gcm");
    assert.match(String(m.headers.authorization), /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);
    assert.ok(Number(m.headers.ttl) > 0);
    assert.equal(m.headers.urgency, "normal");
    const after = await props("/calendars/alice/pushed/");
    const topic = mustProp(after, p("topic")).text.trim();
    assert.equal(m.headers.topic, topic);
    assert.ok(!m.body.toString("latin1").includes("push-e1"), "the body is encrypted");
    const xml = parseXml(decrypt(m, keys));
    assert.equal(xml.name, p("push-message"));
    assert.equal(xml.children.find((c) => c.name === p("topic"))?.text, topic);
    const token = xml.children
      .find((c) => c.name === p("content-update"))
      ?.children.find((c) => c.name === dav("sync-token"))?.text;
    assert.equal(
      token,
      mustProp(after, dav("sync-token")).text.trim(),
      "the token a sync-collection now starts from",
    );
  });

  it("draft §5.1: a burst of 20 changes yields one or a few messages, never 20", async () => {
    await alice.newCalendar("burst");
    const keys = clientKeys();
    assert.equal(
      (await register(alice, "/calendars/alice/burst/", registerBody(pushUrl("/burst"), keys))).status,
      201,
    );
    await settle(300);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => alice.put("burst", `b${i}.ics`, event(`burst-${i}`))),
    );
    await settle();
    const n = messagesTo("/burst").length;
    assert.ok(n >= 1 && n <= 4, `one or few messages, got ${n}`);
    const last = parseXml(decrypt(messagesTo("/burst").at(-1)!, keys));
    const token = last.children.find((c) => c.name === p("content-update"))?.children[0]?.text;
    assert.equal(
      token,
      mustProp(await props("/calendars/alice/burst/"), dav("sync-token")).text.trim(),
      "the last message names the final state",
    );
  });

  it("draft §5.2: a push service answering 410 Gone removes the subscription; an expired one gets nothing", async () => {
    await alice.newCalendar("gone");
    const col = (await alice.collection("gone"))!;
    const keys = clientKeys();
    assert.equal(
      (await register(alice, "/calendars/alice/gone/", registerBody(pushUrl("/gone-1"), keys))).status,
      201,
    );
    const id = subscriptionId(pushUrl("/gone-1"));
    assert.ok(await getSubscription(server.ctx.store, `COL#${col.id}`, id));
    await settle(300);
    assert.equal((await alice.put("gone", "g.ics", event("gone-1"))).status, 201);
    await settle();
    assert.equal(messagesTo("/gone-1").length, 1);
    assert.equal(
      await getSubscription(server.ctx.store, `COL#${col.id}`, id),
      undefined,
      "removed after 410",
    );
    assert.equal((await alice.put("gone", "g2.ics", event("gone-2"))).status, 201);
    await settle();
    assert.equal(messagesTo("/gone-1").length, 1, "nothing more to a removed subscription");

    // Expired: the item's time is up (DynamoDB's TTL deletes lazily), and reads ignore it.
    assert.equal(
      (await register(alice, "/calendars/alice/gone/", registerBody(pushUrl("/expired"), clientKeys())))
        .status,
      201,
    );
    const { UpdateItemCommand } = await import("@aws-sdk/client-dynamodb");
    await server.ctx.store.client.send(
      new UpdateItemCommand({
        TableName: server.ctx.store.tableName,
        Key: { pk: { S: `PUSH#COL#${col.id}` }, sk: { S: `S#${subscriptionId(pushUrl("/expired"))}` } },
        UpdateExpression: "SET expiresAt = :t",
        ExpressionAttributeValues: { ":t": { N: String(Math.floor(Date.now() / 1000) - 10) } },
      }),
    );
    await settle(300);
    assert.equal((await alice.put("gone", "g3.ics", event("gone-3"))).status, 201);
    await settle();
    assert.equal(messagesTo("/expired").length, 0);
  });

  it("a home's subscription hears of a new calendar", async () => {
    const keys = clientKeys();
    assert.equal((await register(bob, "/calendars/bob/", registerBody(pushUrl("/home"), keys))).status, 201);
    await settle(300);
    await bob.newCalendar("trip");
    await settle();
    assert.equal(messagesTo("/home").length, 1);
    const xml = parseXml(decrypt(messagesTo("/home")[0], keys));
    assert.equal(
      xml.children.find((c) => c.name === p("topic"))?.text,
      mustProp(await props2(bob, "/calendars/bob/"), p("topic")).text.trim(),
    );
  });
});

describe("WebDAV-Push: the deployed entry points", () => {
  it("the push function (index.push) turns a stream batch (keys only) into one message per collection", async () => {
    await alice.newCalendar("lambda");
    const col = (await alice.collection("lambda"))!;
    const keys = clientKeys();
    assert.equal(
      (await register(alice, "/calendars/alice/lambda/", registerBody(pushUrl("/lambda"), keys))).status,
      201,
    );
    await settle(300);
    const before = messagesTo("/lambda").length;
    const record = (seq: number) => ({
      eventName: "INSERT" as const,
      dynamodb: { Keys: { pk: { S: `COL#${col.id}` }, sk: { S: `S#${String(seq).padStart(12, "0")}` } } },
    });
    const handler = createPushHandler(() => server.ctx);
    const result = await handler({
      Records: [record(7), record(8), record(9)],
    } as unknown as DynamoDBStreamEvent);
    assert.equal(result.sent, 1);
    assert.equal(messagesTo("/lambda").length, before + 1);
    const xml = parseXml(decrypt(messagesTo("/lambda").at(-1)!, keys));
    const token = xml.children.find((c) => c.name === p("content-update"))?.children[0]?.text;
    assert.match(token ?? "", new RegExp(`/sync/${col.id}/9$`), "the batch's last sequence");
  });

  it("a table made before push gets its stream turned on at start (ensureTable)", async () => {
    const name = `t_old_${Date.now()}`;
    const { StreamSpecification: _omit, ...old } = tableDefinition(name);
    await server.ctx.store.client.send(new CreateTableCommand(old));
    await ensureTable(server.ctx.store.client, name);
    const { Table } = await server.ctx.store.client.send(new DescribeTableCommand({ TableName: name }));
    assert.equal(Table?.StreamSpecification?.StreamEnabled, true);
    assert.equal(Table?.StreamSpecification?.StreamViewType, "KEYS_ONLY");
  });
});

async function props2(c: CalClient, path: string) {
  const res = await c.req("PROPFIND", path, {
    headers: { depth: "0", "content-type": "application/xml" },
    body: propfindBody([p("topic")]),
  });
  return parseMultistatus(res.body)[0];
}
