/**
 * Every mutation advances the collection's ctag / sync token and appends one change-log entry
 * (`S#<12-digit seq>` in `COL#<id>`) in the same transaction (RFC 6578 §3.2, CalendarServer ctag).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CalClient, event } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";

const server = await startTestServer();
const c = new CalClient(server);

const proppatch = (cal: string, inner: string) =>
  c.req("PROPPATCH", c.calHref(cal), {
    headers: { "content-type": "application/xml" },
    body: `<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/">${inner}</D:propertyupdate>`,
  });

describe("RFC 6578 §3.2 / CS:getctag: the change log and the ctag move with every mutation", () => {
  it("RFC 6578 §3.2: create, update, delete and PROPPATCH each advance the ctag/sync-token and log one entry, in order", async () => {
    const col0 = await c.newCalendar("log");
    const tokens = [await c.ctag("log")];
    assert.ok(tokens[0].syncToken.endsWith(`/${col0.id}/0`), tokens[0].syncToken);

    assert.equal((await c.put("log", "a.ics", event("log-a", "v1"))).status, 201);
    tokens.push(await c.ctag("log"));
    assert.equal((await c.put("log", "a.ics", event("log-a", "v2"))).status, 204);
    tokens.push(await c.ctag("log"));
    assert.equal((await c.delete("/calendars/alice/log/a.ics")).status, 204);
    tokens.push(await c.ctag("log"));
    const pp = await proppatch(
      "log",
      "<D:set><D:prop><D:displayname>Log book</D:displayname></D:prop></D:set>",
    );
    assert.equal(pp.status, 207, pp.body);
    assert.match(pp.body, /200 OK/);
    tokens.push(await c.ctag("log"));

    assert.equal(new Set(tokens.map((t) => t.ctag)).size, tokens.length, "every mutation changed the ctag");
    assert.deepEqual(
      tokens.map((t) => Number(t.syncToken.split("/").pop())),
      [0, 1, 2, 3, 4],
      "the sync token counts the changes",
    );

    const col = (await c.collection("log"))!;
    assert.equal(col.id, col0.id);
    assert.equal(col.seq, 4);
    assert.equal(col.props["{DAV:}displayname"], "Log book");
    const { changes } = await c.items(col.id);
    assert.deepEqual(
      changes.map((e) => [e.sk.S, e.op.S, e.name.S]),
      [
        ["S#000000000001", "put", "a.ics"],
        ["S#000000000002", "put", "a.ics"],
        ["S#000000000003", "delete", "a.ics"],
        ["S#000000000004", "props", ""],
      ],
    );
    for (const e of changes) assert.ok(!Number.isNaN(Date.parse(e.at.S!)), "each entry records its time");
  });

  it("RFC 4918 §9.2: a PROPPATCH that fails (424/403) writes nothing: no ctag move, no log entry", async () => {
    const col0 = await c.newCalendar("log-pp");
    const res = await proppatch(
      "log-pp",
      "<D:set><D:prop><D:displayname>x</D:displayname><D:getetag>y</D:getetag></D:prop></D:set>",
    );
    assert.equal(res.status, 207);
    assert.match(res.body, /424/);
    const col = (await c.collection("log-pp"))!;
    assert.equal(col.seq, col0.seq);
    assert.equal((await c.items(col.id)).changes.length, 0);
    assert.equal(col.props["{DAV:}displayname"], undefined);
  });

  it("RFC 4331: quota-used-bytes follows the members' sizes through create, update and delete", async () => {
    await c.newCalendar("log-bytes");
    const a = event("bytes-a", "a");
    const b = event("bytes-b", "a much longer summary than the first one");
    await c.put("log-bytes", "a.ics", a);
    await c.put("log-bytes", "b.ics", b);
    assert.equal((await c.collection("log-bytes"))!.bytes, Buffer.byteLength(a) + Buffer.byteLength(b));
    const a2 = event("bytes-a", "aa");
    await c.put("log-bytes", "a.ics", a2);
    assert.equal((await c.collection("log-bytes"))!.bytes, Buffer.byteLength(a2) + Buffer.byteLength(b));
    await c.delete("/calendars/alice/log-bytes/b.ics");
    assert.equal((await c.collection("log-bytes"))!.bytes, Buffer.byteLength(a2));
  });

  it("RFC 6578 §3.2: a re-created calendar at the same URL starts a new log (new id), never continuing the old tokens", async () => {
    const old = await c.newCalendar("log-again");
    await c.put("log-again", "x.ics", event("again"));
    const oldToken = (await c.ctag("log-again")).syncToken;
    assert.equal((await c.delete("/calendars/alice/log-again/")).status, 204);
    const fresh = await c.newCalendar("log-again");
    assert.notEqual(fresh.id, old.id);
    const token = (await c.ctag("log-again")).syncToken;
    assert.notEqual(token, oldToken);
    assert.ok(token.endsWith(`/${fresh.id}/0`));
  });
});
