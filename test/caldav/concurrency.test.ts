/**
 * Racing writers, with real parallel HTTP requests: DynamoDB conditions (not reads in code) decide
 * who wins, every loser gets a precise 409/412/405, and afterwards the stored data matches exactly
 * one writer with exactly one change-log entry per successful write.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CalClient, CALDAV, davError, event, queryPartition, timed } from "../helpers/ical.js";
import { startTestServer, type TestResponse } from "../helpers/server.js";

const N = 20;
const server = await startTestServer();
const c = new CalClient(server);
// Provision alice before the races, so they race on what they are about and not on her first login.
await c.req("PROPFIND", "/calendars/alice/", { headers: { depth: "0" } });

const statuses = (rs: TestResponse[]) =>
  rs.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});

/** The change log must hold exactly entries 1..seq, one per successful write. */
async function assertLog(colName: string, expected: { op: string; name: string }[]) {
  const col = (await c.collection(colName))!;
  const { changes } = await c.items(col.id);
  assert.equal(col.seq, expected.length, "one sequence step per successful write");
  assert.deepEqual(
    changes.map((e) => e.sk.S),
    expected.map((_, i) => `S#${String(i + 1).padStart(12, "0")}`),
    "contiguous change-log entries",
  );
  assert.deepEqual(
    changes.map((e) => ({ op: e.op.S, name: e.name.S })),
    expected,
  );
}

describe("Concurrent writers on one calendar (DynamoDB conditional writes)", () => {
  it(`RFC 4791 §5.3.2.1: ${N} parallel PUTs of one UID to ${N} hrefs → one 201, ${N - 1}× 409 no-uid-conflict naming the winner`, async (t) => {
    await c.newCalendar("race-uid");
    const { value: rs, ms } = await timed(() =>
      Promise.all(
        Array.from({ length: N }, (_, i) => c.put("race-uid", `r${i}.ics`, event("race-uid", `writer ${i}`))),
      ),
    );
    t.diagnostic(`${N} parallel same-UID PUTs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    const winners = rs.flatMap((r, i) => (r.status === 201 ? [i] : []));
    assert.equal(winners.length, 1, `exactly one 201: ${JSON.stringify(statuses(rs))}`);
    const w = winners[0];
    const winnerHref = `/calendars/alice/race-uid/r${w}.ics`;
    for (const [i, r] of rs.entries()) {
      if (i === w) continue;
      assert.equal(r.status, 409, `writer ${i}: ${r.body}`);
      const err = davError(r);
      assert.equal(err.name, `{${CALDAV}}no-uid-conflict`);
      assert.deepEqual(err.hrefs, [winnerHref], `writer ${i} is told the winner's href`);
    }
    // Stored: the winner's object only, its reservation, one log entry.
    const got = await c.get("race-uid", `r${w}.ics`);
    assert.match(got.body, new RegExp(`SUMMARY:writer ${w}\\r\\n`));
    assert.equal(got.headers.get("etag"), rs[w].headers.get("etag"));
    const col = (await c.collection("race-uid"))!;
    const items = await c.items(col.id);
    assert.deepEqual(
      items.objects.map((o) => o.name.S),
      [`r${w}.ics`],
    );
    assert.equal(await c.uidHolder(col.id, "race-uid"), `r${w}.ics`);
    assert.equal(items.uids.length, 1);
    await assertLog("race-uid", [{ op: "put", name: `r${w}.ics` }]);
  });

  it(`RFC 9110 §13.1.1: ${N} parallel PUTs with the same If-Match ETag → one 204, ${N - 1}× 412`, async (t) => {
    await c.newCalendar("race-etag");
    const first = await c.put("race-etag", "shared.ics", event("race-etag", "original"));
    const etag = first.headers.get("etag")!;
    const { value: rs, ms } = await timed(() =>
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          c.put("race-etag", "shared.ics", event("race-etag", `writer ${i}`), { "if-match": etag }),
        ),
      ),
    );
    t.diagnostic(`${N} parallel If-Match PUTs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    const winners = rs.flatMap((r, i) => (r.status === 204 ? [i] : []));
    assert.equal(winners.length, 1, `exactly one success: ${JSON.stringify(statuses(rs))}`);
    const w = winners[0];
    for (const [i, r] of rs.entries()) if (i !== w) assert.equal(r.status, 412, `writer ${i}: ${r.body}`);
    const got = await c.get("race-etag", "shared.ics");
    assert.match(got.body, new RegExp(`SUMMARY:writer ${w}\\r\\n`));
    assert.equal(got.headers.get("etag"), rs[w].headers.get("etag"));
    const col = (await c.collection("race-etag"))!;
    assert.equal((await c.items(col.id)).objects.length, 1);
    await assertLog("race-etag", [
      { op: "put", name: "shared.ics" },
      { op: "put", name: "shared.ics" },
    ]);
  });

  it(`RFC 9110 §13.1.2: ${N} parallel PUTs with If-None-Match: * to one href → one 201, ${N - 1}× 412`, async (t) => {
    await c.newCalendar("race-inm");
    const { value: rs, ms } = await timed(() =>
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          c.put("race-inm", "new.ics", event("race-inm", `writer ${i}`), { "if-none-match": "*" }),
        ),
      ),
    );
    t.diagnostic(`${N} parallel If-None-Match PUTs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    const winners = rs.flatMap((r, i) => (r.status === 201 ? [i] : []));
    assert.equal(winners.length, 1, JSON.stringify(statuses(rs)));
    for (const [i, r] of rs.entries()) if (i !== winners[0]) assert.equal(r.status, 412, r.body);
    assert.match((await c.get("race-inm", "new.ics")).body, new RegExp(`SUMMARY:writer ${winners[0]}\\r\\n`));
    await assertLog("race-inm", [{ op: "put", name: "new.ics" }]);
  });

  it(`RFC 4791 §5.3.1: ${N} parallel MKCALENDARs on one URL → one 201, ${N - 1}× 405 resource-must-be-null`, async (t) => {
    const body = (i: number) =>
      `<C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:set><D:prop><D:displayname>maker ${i}</D:displayname></D:prop></D:set></C:mkcalendar>`;
    const { value: rs, ms } = await timed(() =>
      Promise.all(Array.from({ length: N }, (_, i) => c.mkcalendar("race-mk", body(i)))),
    );
    t.diagnostic(`${N} parallel MKCALENDARs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    const winners = rs.flatMap((r, i) => (r.status === 201 ? [i] : []));
    assert.equal(winners.length, 1, JSON.stringify(statuses(rs)));
    for (const [i, r] of rs.entries()) {
      if (i === winners[0]) continue;
      assert.equal(r.status, 405, r.body);
      assert.equal(davError(r).name, "{DAV:}resource-must-be-null");
    }
    const home = await queryPartition(server.ctx.store, "HOME#cal#alice");
    const made = home.filter((i) => i.sk.S === "C#race-mk");
    assert.equal(made.length, 1);
    assert.equal(made[0].props.M?.["{DAV:}displayname"]?.S, `maker ${winners[0]}`, "the winner's properties");
    const col = (await c.collection("race-mk"))!;
    assert.equal(col.seq, 0);
    assert.equal((await c.items(col.id)).all.length, 0);
  });

  it(`RFC 6578 §3.2: ${N} parallel PUTs of distinct objects into one calendar all succeed and serialise on the sequence`, async (t) => {
    await c.newCalendar("race-many");
    const { value: rs, ms } = await timed(() =>
      Promise.all(Array.from({ length: N }, (_, i) => c.put("race-many", `m${i}.ics`, event(`many-${i}`)))),
    );
    t.diagnostic(`${N} parallel distinct PUTs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    assert.deepEqual(statuses(rs), { 201: N }, rs.find((r) => r.status !== 201)?.body);
    const col = (await c.collection("race-many"))!;
    const items = await c.items(col.id);
    assert.equal(items.objects.length, N);
    assert.equal(items.uids.length, N);
    assert.equal(col.seq, N);
    assert.equal(items.changes.length, N);
    assert.deepEqual(
      items.changes.map((e) => e.name.S).sort(),
      Array.from({ length: N }, (_, i) => `m${i}.ics`).sort(),
      "each write logged exactly once",
    );
    assert.equal(
      col.bytes,
      rs.reduce((sum, _r, i) => sum + Buffer.byteLength(event(`many-${i}`)), 0),
      "quota bytes add up",
    );
  });

  it(`RFC 4918 §9.6: ${N} parallel DELETEs of one object → one 204, ${N - 1}× 404; one delete logged`, async (t) => {
    await c.newCalendar("race-del");
    await c.put("race-del", "gone.ics", event("race-del"));
    const { value: rs, ms } = await timed(() =>
      Promise.all(Array.from({ length: N }, () => c.delete("/calendars/alice/race-del/gone.ics"))),
    );
    t.diagnostic(`${N} parallel DELETEs: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    assert.deepEqual(statuses(rs), { 204: 1, 404: N - 1 });
    const col = (await c.collection("race-del"))!;
    const items = await c.items(col.id);
    assert.equal(items.objects.length + items.uids.length, 0);
    await assertLog("race-del", [
      { op: "put", name: "gone.ics" },
      { op: "delete", name: "gone.ics" },
    ]);
  });

  it(`RFC 4791 §5.3.2.1: ${N} parallel PUTs that each take the UID another one holds → the reservations stay one-to-one`, async (t) => {
    await c.newCalendar("race-swap");
    for (let i = 0; i < N; i++) await c.put("race-swap", `s${i}.ics`, event(`swap-${i}`));
    // Every object tries to take its neighbour's UID: each such write must be refused or, if the
    // neighbour moved away first, succeed — but never leave two objects with one UID.
    const { value: rs, ms } = await timed(() =>
      Promise.all(
        Array.from({ length: N }, (_, i) => c.put("race-swap", `s${i}.ics`, event(`swap-${(i + 1) % N}`))),
      ),
    );
    t.diagnostic(`${N} parallel UID swaps: ${ms} ms, statuses ${JSON.stringify(statuses(rs))}`);
    for (const r of rs) assert.ok(r.status === 204 || r.status === 409, `${r.status}: ${r.body}`);
    const col = (await c.collection("race-swap"))!;
    const items = await c.items(col.id);
    const uids = items.objects.map((o) => o.uid.S!);
    assert.equal(new Set(uids).size, N, "no two objects share a UID");
    assert.equal(items.uids.length, N);
    for (const r of items.uids) {
      const holder = items.objects.find((o) => o.name.S === r.name.S);
      assert.equal(holder?.uid.S, r.sk.S!.slice(2), "each reservation names the object holding it");
    }
    assert.equal(col.seq, N + rs.filter((r) => r.status === 204).length);
  });
});
