/**
 * RFC 6578 sync-collection against DynamoDB Local: initial and delta syncs, deletions, re-creation,
 * truncation, invalid tokens, ctag/sync-token behaviour, and the cost of a delta sync.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BatchWriteItemCommand, UpdateItemCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { etagFor } from "../../lib/store/objects.js";
import type { CollectionRecord } from "../../lib/store/collections.js";
import { changeKey, collectionKey, objectKey, uidKey } from "../../lib/store/keys.js";
import { CalClient, event } from "../helpers/ical.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";
import { parseXml } from "../../lib/xml/parse.js";

const NS = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"`;

function syncBody(token: string, opts: { limit?: number; props?: string } = {}): string {
  const limit = opts.limit ? `<D:limit><D:nresults>${opts.limit}</D:nresults></D:limit>` : "";
  return `<?xml version="1.0"?><D:sync-collection ${NS}><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level>${limit}<D:prop>${opts.props ?? "<D:getetag/>"}</D:prop></D:sync-collection>`;
}

interface SyncResult {
  status: number;
  token: string;
  changed: Map<string, string>; // href → etag
  removed: string[];
  truncated: boolean;
  body: string;
}

async function sync(
  client: CalClient,
  cal: string,
  token: string,
  opts: { limit?: number; props?: string } = {},
): Promise<SyncResult> {
  // Thunderbird sends Depth: 1 with sync-collection; the server must accept it.
  const res = await client.req("REPORT", client.calHref(cal), {
    headers: { ...XML_HEADERS, depth: "1" },
    body: syncBody(token, opts),
  });
  const result: SyncResult = {
    status: res.status,
    token: "",
    changed: new Map(),
    removed: [],
    truncated: false,
    body: res.body,
  };
  if (res.status !== 207) return result;
  const root = parseXml(res.body);
  result.token = root.children.find((c) => c.name === "{DAV:}sync-token")?.text.trim() ?? "";
  for (const r of parseMultistatus(res.body)) {
    if (r.status === 404) result.removed.push(r.href);
    else if (r.status === 507) result.truncated = true;
    else {
      const etag =
        r.propstats.find((p) => p.status === 200)?.props.find((p) => p.name === "{DAV:}getetag")?.text ?? "";
      result.changed.set(r.href, etag);
    }
  }
  return result;
}

const server: TestServer = await startTestServer();
const alice = new CalClient(server);

describe("RFC 6578 sync-collection", () => {
  it("RFC 6578 §3.2: an empty token returns every member with a new token; §3.5.1: a delta returns exactly the changes", async () => {
    await alice.newCalendar("s1");
    const base = alice.calHref("s1");
    for (const n of ["a", "b", "c"])
      assert.equal((await alice.put("s1", `${n}.ics`, event(`s1-${n}`))).status, 201);

    const first = await sync(alice, "s1", "");
    assert.equal(first.status, 207, first.body);
    assert.deepEqual([...first.changed.keys()].sort(), [`${base}a.ics`, `${base}b.ics`, `${base}c.ics`]);
    assert.deepEqual(first.removed, []);
    assert.match(first.token, /^http:\/\//, "sync tokens are URIs (RFC 6578 §3.2)");

    // Nothing changed: an empty delta and the same token.
    const idle = await sync(alice, "s1", first.token);
    assert.equal(idle.changed.size + idle.removed.length, 0);
    assert.equal(idle.token, first.token);

    const put = await alice.put("s1", "a.ics", event("s1-a", "renamed"));
    assert.equal(put.status, 204);
    assert.equal((await alice.put("s1", "d.ics", event("s1-d"))).status, 201);
    assert.equal((await alice.delete(`${base}b.ics`)).status, 204);

    const delta = await sync(alice, "s1", first.token);
    assert.deepEqual([...delta.changed.keys()].sort(), [`${base}a.ics`, `${base}d.ics`]);
    assert.equal(delta.changed.get(`${base}a.ics`), put.headers.get("etag"), "the updated member's new ETag");
    assert.deepEqual(delta.removed, [`${base}b.ics`], "§3.5.2: a removed member is a 404 response");
    assert.notEqual(delta.token, first.token);

    // §3.5.2 read from a later token: only what came after it.
    assert.equal((await alice.delete(`${base}c.ics`)).status, 204);
    const later = await sync(alice, "s1", delta.token);
    assert.deepEqual(later.removed, [`${base}c.ics`]);
    assert.equal(later.changed.size, 0);
  });

  it("RFC 6578 §3.5.1: a member deleted and re-created at the same href since the token is reported as present", async () => {
    await alice.newCalendar("s2");
    const base = alice.calHref("s2");
    await alice.put("s2", "x.ics", event("s2-x"));
    const t0 = (await sync(alice, "s2", "")).token;
    assert.equal((await alice.delete(`${base}x.ics`)).status, 204);
    const recreated = await alice.put("s2", "x.ics", event("s2-x", "again"));
    assert.equal(recreated.status, 201);
    const delta = await sync(alice, "s2", t0);
    assert.deepEqual(delta.removed, []);
    assert.equal(delta.changed.get(`${base}x.ics`), recreated.headers.get("etag"));
    // An initial sync never reports removed members.
    await alice.put("s2", "gone.ics", event("s2-gone"));
    await alice.delete(`${base}gone.ics`);
    const initial = await sync(alice, "s2", "");
    assert.deepEqual(initial.removed, []);
    assert.deepEqual([...initial.changed.keys()], [`${base}x.ics`]);
  });

  it("RFC 6578 §3.6: DAV:limit truncates with a 507 for the request-URI, and the returned token continues the sync", async () => {
    await alice.newCalendar("s3");
    const base = alice.calHref("s3");
    for (let i = 0; i < 5; i++) await alice.put("s3", `m${i}.ics`, event(`s3-${i}`));
    const seen = new Set<string>();
    let token = "";
    let pages = 0;
    for (;;) {
      const page = await sync(alice, "s3", token, { limit: 2 });
      assert.equal(page.status, 207, page.body);
      assert.ok(page.changed.size <= 2, "never more than nresults members");
      for (const href of page.changed.keys()) seen.add(href);
      token = page.token;
      pages++;
      if (!page.truncated) break;
      assert.ok(pages < 10);
    }
    assert.equal(pages, 3, "5 members in pages of 2");
    assert.deepEqual(
      [...seen].sort(),
      [0, 1, 2, 3, 4].map((i) => `${base}m${i}.ics`),
    );
    const truncated = await sync(alice, "s3", "", { limit: 1 });
    const self = parseMultistatus(truncated.body).find((r) => r.status === 507);
    assert.equal(self?.href, base);
  });

  it("RFC 6578 §3.2: unknown, foreign or future tokens → 403 valid-sync-token", async () => {
    const s4 = await alice.newCalendar("s4");
    const other = await alice.newCalendar("s4-other");
    for (const token of [
      "garbage",
      `http://lambda-dav.invalid/sync/${other.id}/0`,
      `http://lambda-dav.invalid/sync/${s4.id}/99`,
    ]) {
      const res = await alice.req("REPORT", alice.calHref("s4"), {
        headers: XML_HEADERS,
        body: syncBody(token),
      });
      assert.equal(res.status, 403, token);
      assert.equal(parseXml(res.body).children[0]?.name, "{DAV:}valid-sync-token");
    }
    // A calendar deleted and re-created at the same URL does not accept its predecessor's tokens.
    const old = (await sync(alice, "s4", "")).token;
    assert.equal((await alice.delete(alice.calHref("s4"))).status, 204);
    await alice.newCalendar("s4");
    const res = await alice.req("REPORT", alice.calHref("s4"), { headers: XML_HEADERS, body: syncBody(old) });
    assert.equal(res.status, 403);
  });

  it("RFC 6578 §4 / CalendarServer ctag: getctag and sync-token change with every mutation and only then", async () => {
    await alice.newCalendar("s5");
    const t0 = await alice.ctag("s5");
    assert.deepEqual(await alice.ctag("s5"), t0, "reads do not move the token");
    await alice.put("s5", "a.ics", event("s5-a"));
    const t1 = await alice.ctag("s5");
    assert.notEqual(t1.ctag, t0.ctag);
    assert.notEqual(t1.syncToken, t0.syncToken);
    // A rejected write changes nothing.
    assert.equal((await alice.put("s5", "b.ics", event("s5-a"))).status, 409);
    assert.deepEqual(await alice.ctag("s5"), t1);
    const patch = await alice.req("PROPPATCH", alice.calHref("s5"), {
      headers: XML_HEADERS,
      body: `<D:propertyupdate ${NS}><D:set><D:prop><D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>`,
    });
    assert.equal(patch.status, 207);
    const t2 = await alice.ctag("s5");
    assert.notEqual(t2.ctag, t1.ctag, "a property change moves the ctag");
    // ... but reports no member.
    const delta = await sync(alice, "s5", t1.syncToken);
    assert.equal(delta.changed.size + delta.removed.length, 0);
    await alice.delete(`${alice.calHref("s5")}a.ics`);
    assert.notEqual((await alice.ctag("s5")).ctag, t2.ctag);
  });

  it("sync-collection can return calendar-data for the changed members", async () => {
    await alice.newCalendar("s6");
    const body = event("s6-a", "with data");
    await alice.put("s6", "a.ics", body);
    const res = await sync(alice, "s6", "", { props: "<D:getetag/><C:calendar-data/>" });
    const r = parseMultistatus(res.body)[0];
    const data = r.propstats[0].props.find((p) => p.name === "{urn:ietf:params:xml:ns:caldav}calendar-data");
    // XML parsers normalise CRLF to LF (XML 1.0 §2.11); the content is otherwise the stored object.
    assert.equal(data?.text, body);
  });
});

/**
 * Bulk-load n events into a calendar with BatchWriteItem: the same items a PUT's transaction writes
 * (object, UID reservation, change-log entry) and the collection's sequence moved to match. A PUT
 * per event would take a minute on DynamoDB Local; the point here is the cost of reading afterwards.
 */
async function seed(col: CollectionRecord, n: number): Promise<void> {
  const store = server.ctx.store;
  const requests: WriteRequest[] = [];
  for (let i = 0; i < n; i++) {
    const name = `e${i}.ics`;
    const uid = `big-${i}`;
    const body = Buffer.from(event(uid));
    const now = new Date().toISOString();
    requests.push(
      {
        PutRequest: {
          Item: {
            ...objectKey(col.id, name),
            name: { S: name },
            etag: { S: etagFor(body) },
            uid: { S: uid },
            contentType: { S: "text/calendar; charset=utf-8" },
            size: { N: String(body.length) },
            created: { S: now },
            modified: { S: now },
            comp: { S: "VEVENT" },
            body: { B: body },
          },
        },
      },
      { PutRequest: { Item: { ...uidKey(col.id, uid), name: { S: name } } } },
      {
        PutRequest: {
          Item: { ...changeKey(col.id, i + 1), op: { S: "put" }, name: { S: name }, at: { S: now } },
        },
      },
    );
  }
  for (let i = 0; i < requests.length; i += 25) {
    let batch = requests.slice(i, i + 25);
    while (batch.length) {
      const res = await store.client.send(
        new BatchWriteItemCommand({ RequestItems: { [store.tableName]: batch } }),
      );
      batch = res.UnprocessedItems?.[store.tableName] ?? [];
    }
  }
  await store.client.send(
    new UpdateItemCommand({
      TableName: store.tableName,
      Key: collectionKey("calendar", col.owner, col.name),
      UpdateExpression: "SET seq = :n",
      ExpressionAttributeValues: { ":n": { N: String(n) } },
    }),
  );
}

describe("sync cost: a delta sync reads what changed, not the calendar", () => {
  it("RFC 6578 §3.5: 2,000 objects, 3 changes → the delta sync reads 3 changed items, with no Scan and no listing", async () => {
    const col = await alice.newCalendar("big");
    await seed(col, 2000);
    const token = (await sync(alice, "big", "", { limit: 1 })).token; // any token; then catch up fully
    let t = token;
    for (let page = await sync(alice, "big", t); ; page = await sync(alice, "big", t)) {
      t = page.token;
      if (!page.truncated) break;
    }
    await alice.put("big", "e1.ics", event("big-1", "changed"));
    await alice.put("big", "new.ics", event("big-new"));
    await alice.delete(`${alice.calHref("big")}e2.ics`);

    const calls: { command: string; input: Record<string, unknown>; items: number }[] = [];
    server.ctx.store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as {
          Items?: unknown[];
          Responses?: Record<string, unknown[]>;
          Item?: unknown;
        };
        const items =
          output.Items?.length ??
          Object.values(output.Responses ?? {}).reduce((n, list) => n + list.length, 0) ??
          0;
        calls.push({
          command: context.commandName ?? "",
          input: args.input as Record<string, unknown>,
          items: items || (output.Item ? 1 : 0),
        });
        return result;
      },
      { step: "initialize", name: "countReads" },
    );
    try {
      const delta = await sync(alice, "big", t);
      assert.equal(delta.changed.size, 2);
      assert.equal(delta.removed.length, 1);
    } finally {
      server.ctx.store.client.middlewareStack.remove("countReads");
    }
    assert.ok(!calls.some((c) => c.command === "ScanCommand"), "never a Scan");
    const queries = calls.filter((c) => c.command === "QueryCommand");
    assert.equal(queries.length, 1, "one Query: the change-log range");
    assert.equal(queries[0].items, 3, "the Query returns the 3 change-log entries");
    const batch = calls.filter((c) => c.command === "BatchGetItemCommand");
    assert.equal(
      batch.reduce((n, c) => n + c.items, 0),
      2,
      "BatchGetItem fetches the 2 surviving changed objects",
    );
    const itemsRead = calls.reduce((n, c) => n + c.items, 0);
    assert.ok(
      itemsRead <= 6,
      `items read in all: ${itemsRead} (collection + 3 log entries + 2 objects), not 2,000`,
    );
    assert.equal(col.id.length > 0, true);
  });
});

describe("RFC 6578 on a calendar home (Apple Calendar polls it for calendars added, renamed or removed)", () => {
  async function syncHome(
    client: CalClient,
    token: string,
    opts: { limit?: number; level?: string; home?: string } = {},
  ) {
    const limit = opts.limit ? `<D:limit><D:nresults>${opts.limit}</D:nresults></D:limit>` : "";
    const res = await client.req("REPORT", opts.home ?? "/calendars/bob/", {
      headers: { ...XML_HEADERS, depth: "0" },
      body: `<?xml version="1.0"?><D:sync-collection ${NS}><D:sync-token>${token}</D:sync-token><D:sync-level>${opts.level ?? "1"}</D:sync-level>${limit}<D:prop><D:displayname/><D:sync-token/></D:prop></D:sync-collection>`,
    });
    if (res.status !== 207) {
      return {
        status: res.status,
        body: res.body,
        token: "",
        present: [] as string[],
        removed: [] as string[],
        truncated: false,
        names: {} as Record<string, string>,
      };
    }
    const root = parseXml(res.body);
    const responses = parseMultistatus(res.body);
    const names: Record<string, string> = {};
    for (const r of responses) {
      const dn = r.propstats.find((p) => p.status === 200)?.props.find((p) => p.name === "{DAV:}displayname");
      if (dn) names[r.href] = dn.text;
    }
    return {
      status: res.status,
      body: res.body,
      token: root.children.find((c) => c.name === "{DAV:}sync-token")?.text.trim() ?? "",
      present: responses
        .filter((r) => r.status === undefined)
        .map((r) => r.href)
        .sort(),
      removed: responses
        .filter((r) => r.status === 404)
        .map((r) => r.href)
        .sort(),
      truncated: responses.some((r) => r.status === 507),
      names,
    };
  }
  const bob = new CalClient(server, "bob");

  it("RFC 6578 §3.2, §3.5: the initial sync lists the calendars; a delta reports those created, renamed, deleted, or whose events changed since", async () => {
    await bob.newCalendar("work");
    const first = await syncHome(bob, "");
    assert.equal(first.status, 207, first.body);
    // The scheduling inbox and outbox are collections of the home as well (RFC 6638 §2.2, §2.3).
    assert.deepEqual(first.present, [
      "/calendars/bob/default/",
      "/calendars/bob/inbox/",
      "/calendars/bob/outbox/",
      "/calendars/bob/work/",
    ]);
    assert.match(first.token, /^http:\/\//);
    assert.equal((await syncHome(bob, first.token)).present.length, 0, "nothing changed");

    await bob.newCalendar("trip");
    const rename = await bob.req("PROPPATCH", bob.calHref("work"), {
      headers: XML_HEADERS,
      body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Office</D:displayname></D:prop></D:set></D:propertyupdate>`,
    });
    assert.equal(rename.status, 207);
    assert.equal((await bob.delete(bob.calHref("default"))).status, 204);
    assert.equal((await bob.put("trip", "e.ics", event("home-sync-e"))).status, 201);

    const delta = await syncHome(bob, first.token);
    assert.equal(delta.status, 207, delta.body);
    assert.deepEqual(delta.present, ["/calendars/bob/trip/", "/calendars/bob/work/"]);
    assert.equal(delta.names["/calendars/bob/work/"], "Office");
    assert.deepEqual(delta.removed, ["/calendars/bob/default/"]);
    assert.notEqual(delta.token, first.token);

    // A change inside a calendar names that calendar in the next delta, and only it.
    assert.equal((await bob.put("work", "w.ics", event("home-sync-w"))).status, 201);
    const inside = await syncHome(bob, delta.token);
    assert.deepEqual(inside.present, ["/calendars/bob/work/"]);
    assert.deepEqual(inside.removed, []);
    assert.deepEqual((await syncHome(bob, inside.token)).present, [], "and then nothing");
  });

  it("RFC 6578 §3.6: DAV:limit pages a delta with a 507 and a token that continues it; a token of a calendar is not the home's; infinite depth → 403", async () => {
    const t0 = (await syncHome(bob, "")).token;
    for (const n of ["p1", "p2", "p3"]) await bob.newCalendar(n);
    const page = await syncHome(bob, t0, { limit: 2 });
    assert.equal(page.present.length, 2);
    assert.equal(page.truncated, true);
    const rest = await syncHome(bob, page.token);
    assert.deepEqual(rest.present, ["/calendars/bob/p3/"]);
    const calToken = (await sync(bob, "p1", "")).token;
    const foreign = await syncHome(bob, calToken);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /valid-sync-token/);
    const deep = await syncHome(bob, "", { level: "infinite" });
    assert.equal(deep.status, 403);
    assert.match(deep.body, /sync-traversal-supported/);
  });

  it("RFC 6578 on an address-book home: the address books, and a new one in the next delta", async () => {
    const first = await syncHome(bob, "", { home: "/addressbooks/bob/" });
    assert.equal(first.status, 207, first.body);
    assert.deepEqual(first.present, ["/addressbooks/bob/default/"]);
    const made = await bob.req("MKCOL", "/addressbooks/bob/friends/");
    assert.equal(made.status, 201, made.body);
    const delta = await syncHome(bob, first.token, { home: "/addressbooks/bob/" });
    assert.deepEqual(delta.present, ["/addressbooks/bob/friends/"]);
  });
});
