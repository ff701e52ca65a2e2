/**
 * DELETE of a calendar (RFC 4918 §9.6.1): the collection disappears at once, its members,
 * reservations and change log are purged in batches, a purge a crash left half done is finished
 * later (resumePurges, or the next collection DELETE), and nothing of it ever comes back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BatchWriteItemCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { deleteCollection } from "../../lib/store/collections.js";
import { resumePurges } from "../../lib/store/purge.js";
import { EtagMismatch } from "../../lib/store/errors.js";
import { collectionKey, colPk, purgeKey } from "../../lib/store/keys.js";
import { parseXml } from "../../lib/xml/parse.js";
import { CalClient, assertExplained, event, queryPartition } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const c = new CalClient(server);
const store = server.ctx.store;

/** The calendar names PROPFIND Depth: 1 lists in alice's calendar home. */
async function listed(): Promise<string[]> {
  const res = await c.req("PROPFIND", "/calendars/alice/", {
    headers: { depth: "1", "content-type": "application/xml" },
    body: '<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>',
  });
  assert.equal(res.status, 207, res.body);
  return parseXml(res.body)
    .children.map((r) => r.children.find((h) => h.name === "{DAV:}href")?.text.trim() ?? "")
    .filter((h) => h !== "/calendars/alice/")
    .map((h) => decodeURIComponent(h.replace(/^\/calendars\/alice\//, "").replace(/\/$/, "")));
}

/** Write raw items into a partition (what a half-done purge leaves behind). */
async function writeItems(items: Record<string, AttributeValue>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length) {
      const res = await store.client.send(
        new BatchWriteItemCommand({ RequestItems: { [store.tableName]: requests } }),
      );
      requests = (res.UnprocessedItems?.[store.tableName] ?? []) as typeof requests;
    }
  }
}

/** Leftovers of a collection partition: objects, reservations and change-log entries. */
function leftovers(colId: string, n: number): Record<string, AttributeValue>[] {
  const pk = { S: colPk(colId) };
  return Array.from({ length: n }, (_, i): Record<string, AttributeValue>[] => [
    { pk, sk: { S: `O#left-${i}.ics` }, name: { S: `left-${i}.ics` }, uid: { S: `left-${i}` } },
    { pk, sk: { S: `U#left-${i}` }, name: { S: `left-${i}.ics` } },
    {
      pk,
      sk: { S: `S#${String(i + 1000).padStart(12, "0")}` },
      op: { S: "put" },
      name: { S: `left-${i}.ics` },
    },
  ]).flat();
}

/** Simulate the crash: the first step of deleteCollection (collection item gone, marker written), no purge. */
async function crashAfterUnlink(name: string): Promise<string> {
  const col = (await c.collection(name))!;
  await store.client.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Delete: { TableName: store.tableName, Key: collectionKey("calendar", "alice", name) } },
        {
          Put: {
            TableName: store.tableName,
            Item: { ...purgeKey(col.id), owner: { S: "alice" }, at: { S: new Date().toISOString() } },
          },
        },
      ],
    }),
  );
  return col.id;
}

const markers = async () => (await queryPartition(store, "PURGE")).map((i) => i.sk.S!);

describe("RFC 4918 §9.6.1: DELETE of a calendar on DynamoDB", () => {
  it("RFC 4918 §9.6.1: DELETE removes the calendar, its members, reservations and change log (204), and it leaves listings at once", async () => {
    const col = await c.newCalendar("doomed");
    for (let i = 0; i < 5; i++) await c.put("doomed", `d${i}.ics`, event(`doomed-${i}`));
    assert.equal((await c.items(col.id)).all.length, 15, "5 objects, 5 reservations, 5 log entries");
    assert.ok((await listed()).includes("doomed"));

    const res = await c.delete("/calendars/alice/doomed/");
    assert.equal(res.status, 204, res.body);
    assert.ok(!(await listed()).includes("doomed"));
    assert.equal(await c.collection("doomed"), undefined);
    assert.equal((await c.items(col.id)).all.length, 0, "no orphans");
    assert.ok(!(await markers()).includes(col.id), "the purge marker is gone once done");
    assertExplained(await c.get("doomed", "d0.ics"), 404);
    assertExplained(await c.delete("/calendars/alice/doomed/"), 404);
    assertExplained(await c.put("doomed", "d0.ics", event("doomed-0")), 409);
  });

  it("RFC 4918 §9.6.1: a crash after the unlink leaves no resurrection: the URL re-created is an empty calendar, UIDs free", async () => {
    await c.newCalendar("phoenix");
    for (let i = 0; i < 3; i++) await c.put("phoenix", `p${i}.ics`, event(`phoenix-${i}`));
    const oldId = await crashAfterUnlink("phoenix");
    // Gone at once, although its items are still in the table.
    assert.ok(!(await listed()).includes("phoenix"));
    assertExplained(await c.get("phoenix", "p0.ics"), 404);
    assert.equal((await c.items(oldId)).objects.length, 3);

    const fresh = await c.newCalendar("phoenix");
    assert.notEqual(fresh.id, oldId);
    assertExplained(await c.get("phoenix", "p0.ics"), 404);
    assert.equal((await c.items(fresh.id)).all.length, 0, "the new calendar is empty");
    assert.equal((await c.ctag("phoenix")).syncToken.split("/").pop(), "0");
    assert.equal((await c.put("phoenix", "other.ics", event("phoenix-0"))).status, 201, "old UIDs are free");

    assert.ok((await markers()).includes(oldId));
    assert.ok((await resumePurges(store)) >= 1);
    assert.equal((await c.items(oldId)).all.length, 0, "the old partition is purged");
    assert.ok(!(await markers()).includes(oldId));
    assert.equal((await c.items(fresh.id)).objects.length, 1, "the new calendar is untouched by the purge");
  });

  it("RFC 4918 §9.6.1: a half-done purge (marker + 1,200 leftovers, more than one query page) is finished by the next collection DELETE", async () => {
    const crashed = await c.newCalendar("crashed");
    await c.put("crashed", "real.ics", event("crashed-real"));
    const oldId = await crashAfterUnlink("crashed");
    await writeItems(leftovers(oldId, 400));
    assert.equal((await c.items(oldId)).all.length, 1203);

    await c.newCalendar("trigger");
    assert.equal((await c.delete("/calendars/alice/trigger/")).status, 204);
    assert.equal((await c.items(oldId)).all.length, 0, "no orphans left");
    assert.ok(!(await markers()).includes(oldId));
    assert.equal(crashed.id, oldId);
  });

  it("RFC 4918 §9.6.1: resuming a purge twice (two workers, or a retry after a crash mid-purge) is harmless", async () => {
    await c.newCalendar("twice");
    const oldId = await crashAfterUnlink("twice");
    await writeItems(leftovers(oldId, 60));
    // A purge that crashed halfway: some items already gone.
    await store.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [store.tableName]: leftovers(oldId, 8).map((i) => ({
            DeleteRequest: { Key: { pk: i.pk, sk: i.sk } },
          })),
        },
      }),
    );
    await Promise.all([resumePurges(store), resumePurges(store)]);
    assert.equal((await c.items(oldId)).all.length, 0);
    assert.equal(await resumePurges(store), 0, "nothing left to resume");
  });

  it("RFC 9110 §13.1.1: DELETE of a calendar with a stale If-Match (ctag) → 412 and the calendar stays; the current one → 204", async () => {
    await c.newCalendar("guarded");
    const before = (await c.ctag("guarded")).ctag;
    await c.put("guarded", "g.ics", event("guarded"));
    assertExplained(await c.delete("/calendars/alice/guarded/", { "if-match": before }), 412);
    assert.ok(await c.collection("guarded"));
    const now = (await c.ctag("guarded")).ctag;
    assert.equal((await c.delete("/calendars/alice/guarded/", { "if-match": now })).status, 204);
    assert.equal(await c.collection("guarded"), undefined);
  });

  it("RFC 9110 §13.1.1: the collection's If-Match is part of the DynamoDB condition, not only checked on a read", async () => {
    const read = await c.newCalendar("raced");
    // Another writer commits between the read and the delete.
    await c.put("raced", "r.ics", event("raced"));
    await assert.rejects(deleteCollection(store, read, { unchanged: true }), EtagMismatch);
    const still = await c.collection("raced");
    assert.equal(still?.id, read.id, "the calendar was not deleted");
    assert.equal((await c.items(read.id)).objects.length, 1);
    assert.ok(!(await markers()).includes(read.id), "and no purge was started");
  });
});
