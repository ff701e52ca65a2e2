/**
 * The storage contract behind the CalDAV write path: the single-table layout of lib/store/table.ts,
 * object bodies kept in their item, the configurable max-resource-size (default 256 KB), and
 * database failures turned into answers in one place (never a stack trace or a DynamoDB error).
 */
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { afterEach, describe, it } from "node:test";
import { GetItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { collectionKey, objectKey } from "../../lib/store/keys.js";
import { parseXml } from "../../lib/xml/parse.js";
import { CalClient, CALDAV, assertExplained, davError, event, fixture } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const c = new CalClient(server);
const store = server.ctx.store;

/** An iCalendar object of about `bytes` bytes (padding in DESCRIPTION lines). */
const sized = (uid: string, bytes: number) => {
  const base = Buffer.byteLength(event(uid));
  const lines = Math.max(0, Math.ceil((bytes - base) / 72));
  return event(uid, uid, { extra: Array.from({ length: lines }, (_, i) => `X-PAD-${i}:${"p".repeat(60)}`) });
};

describe("Single-table layout and max-resource-size (RFC 4791 §5.2.5)", () => {
  it("lib/store/table.ts: a calendar is HOME#cal#<user> / C#<name>; its object is COL#<id> / O#<name> with the body in the item, deflated", async () => {
    const col = await c.newCalendar("layout");
    const body = fixture("ical4j-apple-iphone-os-26-structured-location.ics");
    assert.equal((await c.put("layout", "loc.ics", body)).status, 201);

    const colItem = await store.client.send(
      new GetItemCommand({ TableName: store.tableName, Key: collectionKey("calendar", "alice", "layout") }),
    );
    assert.equal(colItem.Item?.pk.S, "HOME#cal#alice");
    assert.equal(colItem.Item?.sk.S, "C#layout");
    assert.equal(colItem.Item?.id.S, col.id);

    const objItem = await store.client.send(
      new GetItemCommand({ TableName: store.tableName, Key: objectKey(col.id, "loc.ics") }),
    );
    assert.equal(objItem.Item?.pk.S, `COL#${col.id}`);
    assert.equal(objItem.Item?.sk.S, "O#loc.ics");
    // Deflated, because items are charged by size; it inflates to the body as sent, byte for byte.
    assert.equal(objItem.Item?.enc?.S, "deflate");
    const stored = Buffer.from(objItem.Item!.body.B!);
    assert.ok(stored.length < body.length, `stored ${stored.length} B of a ${body.length} B body`);
    assert.ok(inflateRawSync(stored).equals(body), "the body lives in the item, byte for byte");
    assert.ok((await c.get("layout", "loc.ics")).raw.equals(body), "GET answers the body as sent");
    assert.equal(objItem.Item?.etag.S, (await c.get("layout", "loc.ics")).headers.get("etag"));
    assert.equal(objItem.Item?.gsi1pk?.S, `COL#${col.id}`, "indexed by time range");
  });

  it("RFC 4791 §5.2.5: the default max-resource-size is 256 KB, advertised and enforced (403 max-resource-size above it)", async () => {
    await c.newCalendar("sizes");
    const res = await c.req("PROPFIND", c.calHref("sizes"), {
      headers: { depth: "0", "content-type": "application/xml" },
      body: `<D:propfind xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:prop><C:max-resource-size/></D:prop></D:propfind>`,
    });
    const find = (el: ReturnType<typeof parseXml>): string | undefined =>
      el.name === `{${CALDAV}}max-resource-size` ? el.text : el.children.map(find).find(Boolean);
    assert.equal(find(parseXml(res.body)), String(256 * 1024));

    const under = sized("under", 250 * 1024);
    assert.ok(Buffer.byteLength(under) <= 256 * 1024);
    const ok = await c.put("sizes", "under.ics", under);
    assert.equal(ok.status, 201, ok.body);
    assert.equal((await c.get("sizes", "under.ics")).body, under);

    const over = sized("over", 257 * 1024);
    assert.ok(Buffer.byteLength(over) > 256 * 1024);
    const refused = await c.put("sizes", "over.ics", over);
    assertExplained(refused, 403);
    assert.equal(davError(refused).name, `{${CALDAV}}max-resource-size`);
    assert.equal((await c.get("sizes", "over.ics")).status, 404);
  });

  it("RFC 4791 §5.2.5: max-resource-size is configurable (DAV_MAX_RESOURCE_SIZE / ServerConfig)", async () => {
    const small = await startTestServer({ maxResourceSize: 2048 });
    const s = new CalClient(small);
    await s.newCalendar("tiny");
    assert.equal((await s.put("tiny", "a.ics", sized("a", 1500))).status, 201);
    const res = await s.put("tiny", "b.ics", sized("b", 3000));
    assertExplained(res, 403);
    assert.match(res.body, /2048/);
  });
});

describe("Database failures become answers in one place (lib/errors.ts)", () => {
  const send = store.client.send.bind(store.client);
  afterEach(() => {
    store.client.send = send;
  });
  /** Make TransactWriteItems fail with `err`; everything else (auth, reads) still works. */
  const failTransactions = (err: Error) => {
    store.client.send = ((cmd: unknown, ...rest: unknown[]) => {
      if (cmd instanceof TransactWriteItemsCommand) return Promise.reject(err);
      return (send as (c: unknown, ...r: unknown[]) => Promise<unknown>)(cmd, ...rest);
    }) as typeof store.client.send;
  };
  const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

  it("RFC 9110 §15.6.4: DynamoDB throttling (after the SDK's own retries) → 503 with Retry-After, no internals", async () => {
    await c.newCalendar("throttled");
    failTransactions(awsError("ProvisionedThroughputExceededException", "Rate of requests exceeds capacity"));
    const res = await c.put("throttled", "x.ics", event("throttled"));
    assert.equal(res.status, 503, res.body);
    assert.ok(res.headers.get("retry-after"));
    assert.doesNotMatch(res.body, /Provisioned|Exception|capacity/);
  });

  it("RFC 9110 §15.6.1: an unexpected DynamoDB error → a plain 500 without stack trace or DynamoDB details", async () => {
    await c.newCalendar("broken");
    failTransactions(
      awsError("ValidationException", "One or more parameter values were invalid: secret detail"),
    );
    const original = console.error;
    console.error = () => {};
    try {
      const res = await c.put("broken", "x.ics", event("broken"));
      assert.equal(res.status, 500);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
      assert.doesNotMatch(res.body, /ValidationException|secret detail|\n\s+at /);
    } finally {
      console.error = original;
    }
    store.client.send = send;
    assert.equal((await c.get("broken", "x.ics")).status, 404, "nothing was written");
  });
});
