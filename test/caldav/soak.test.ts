/**
 * A concurrency soak (issue 14): 8 clients at once on a handful of names in one calendar, each
 * creating (If-None-Match: *), updating (If-Match: the ETag it last saw) and deleting (If-Match) at
 * random, for 8 × 25 writes. Every successful write is recorded; afterwards the history must be a
 * chain per name — each success's precondition is the state the previous success left, so no update
 * is lost — the losers got 412 (or 409), never a 5xx, the stored objects are the chains' last
 * states, and a sync-collection REPORT (RFC 6578) from the token taken before the soak reports
 * exactly the final membership.
 *
 * The random choices come from a seeded generator (`SOAK_SEED=<n>` for others), so a failing
 * schedule of choices reproduces; the interleaving of the requests is up to the machine.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CalClient, event } from "../helpers/ical.js";
import { startTestServer, type TestResponse } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";
import { parseXml } from "../../lib/xml/parse.js";

const CLIENTS = 8;
const WRITES_PER_CLIENT = 25;
const NAMES = ["a.ics", "b.ics", "c.ics", "d.ics", "e.ics", "f.ics"];
const CAL = "soak";
const SEED = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : 6578;

const server = await startTestServer();
const c = new CalClient(server);

/** mulberry32: a small seeded generator, one per client. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = "create" | "update" | "delete";

interface Attempt {
  client: number;
  seq: number;
  name: string;
  op: Op;
  /** The If-Match sent (update, delete); undefined for a create (If-None-Match: *). */
  ifMatch?: string;
  status: number;
  /** The ETag the response named (a create or update that succeeded). */
  etag?: string;
  body?: string;
  responseBody: string;
}

const href = (name: string) => `${c.calHref(CAL)}${name}`;

async function syncFrom(token: string) {
  const res = await c.req("REPORT", c.calHref(CAL), {
    headers: { ...XML_HEADERS, depth: "1" },
    body: `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`,
  });
  assert.equal(res.status, 207, res.body);
  const present = new Map<string, string>();
  const removed: string[] = [];
  for (const r of parseMultistatus(res.body)) {
    assert.notEqual(r.status, 507, "the sync is not truncated");
    if (r.status === 404) removed.push(r.href);
    else {
      const etag = r.propstats.find((p) => p.status === 200)?.props.find((p) => p.name === "{DAV:}getetag");
      assert.ok(etag, `an ETag for ${r.href}: ${res.body}`);
      present.set(r.href, etag.text.trim());
    }
  }
  const token2 = parseXml(res.body)
    .children.find((x) => x.name === "{DAV:}sync-token")
    ?.text.trim();
  return { present, removed, token: token2 };
}

/** One client: its own view of each name (the ETag it last saw, or null for absent), its own random choices. */
async function client(id: number, log: Attempt[], refreshes: TestResponse[]): Promise<void> {
  const random = rng(SEED * 1000 + id);
  const seen = new Map<string, string | null>(NAMES.map((n) => [n, null]));
  for (let seq = 0; seq < WRITES_PER_CLIENT; seq++) {
    const name = NAMES[Math.floor(random() * NAMES.length)];
    const known = seen.get(name) ?? null;
    const op: Op = known === null ? "create" : random() < 0.7 ? "update" : "delete";
    // Unique per write, so that each successful write has an ETag (a hash of the body) of its own.
    const body = event(`soak-${name}`, `client ${id} write ${seq} (${op})`);
    let res: TestResponse;
    if (op === "delete") res = await c.delete(href(name), { "if-match": known! });
    else
      res = await c.put(CAL, name, body, op === "create" ? { "if-none-match": "*" } : { "if-match": known! });
    const ok = res.status >= 200 && res.status < 300;
    const etag = res.headers.get("etag") ?? undefined;
    log.push({
      client: id,
      seq,
      name,
      op,
      ifMatch: op === "create" ? undefined : known!,
      status: res.status,
      etag: ok && op !== "delete" ? etag : undefined,
      body: op === "delete" ? undefined : body,
      responseBody: res.body,
    });
    if (ok) {
      if (op !== "delete") assert.ok(etag, `a successful ${op} of ${name} names its ETag`);
      seen.set(name, op === "delete" ? null : etag!);
    } else {
      // Lost the race: look again, as a client would.
      const now = await c.get(CAL, name);
      refreshes.push(now);
      seen.set(name, now.status === 200 ? now.headers.get("etag") : null);
    }
  }
}

describe("Concurrency soak: 8 clients, conditional writes on 6 names (RFC 9110 §13.1, RFC 4918 §9.6, RFC 6578)", () => {
  it(`RFC 9110 §13.1.1–2, RFC 6578 §3.5: ${CLIENTS} × ${WRITES_PER_CLIENT} random creates/updates/deletes → per name a chain of successes (no lost update), losers 412/409 only, sync-collection reports the final membership`, async (t) => {
    await c.newCalendar(CAL);
    const { syncToken: initial } = await c.ctag(CAL);
    assert.ok(initial, "a sync token before the soak");

    const log: Attempt[] = [];
    const refreshes: TestResponse[] = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id, log, refreshes)));
    const ms = Math.round(performance.now() - t0);
    const statuses = log.reduce<Record<string, number>>((m, a) => {
      const k = `${a.op} ${a.status}`;
      return { ...m, [k]: (m[k] ?? 0) + 1 };
    }, {});
    t.diagnostic(`seed ${SEED}: ${log.length} writes in ${ms} ms; ${JSON.stringify(statuses)}`);

    // Losers got 412, or 409 (a concurrent change of the same object), never anything else.
    for (const a of log) {
      const ok = a.status >= 200 && a.status < 300;
      const expected = a.op === "create" ? 201 : 204;
      if (ok) assert.equal(a.status, expected, `${a.op} of ${a.name}`);
      else
        assert.ok(
          a.status === 412 || a.status === 409,
          `client ${a.client} #${a.seq} ${a.op} ${a.name} → ${a.status}: ${a.responseBody}`,
        );
    }
    for (const r of refreshes) assert.ok(r.status === 200 || r.status === 404, `a GET → ${r.status}`);

    // No ETag ever names two different bodies.
    const bodyOf = new Map<string, string>();
    for (const a of log) {
      if (!a.etag) continue;
      const earlier = bodyOf.get(a.etag);
      assert.ok(earlier === undefined || earlier === a.body, `ETag ${a.etag} named two bodies`);
      bodyOf.set(a.etag, a.body!);
    }

    // Per name: the successes form chains. A create starts one (the name was absent); each update
    // or delete names, in If-Match, the ETag the previous success in its chain produced, so every
    // ETag is the precondition of at most one success (two would be a lost update); a delete ends
    // the chain. Every chain but the last ends with a delete (a create needs the name absent).
    const final = new Map<string, { etag: string; body: string } | null>();
    const successes = log.filter((a) => a.status >= 200 && a.status < 300);
    for (const name of NAMES) {
      const mine = successes.filter((a) => a.name === name);
      const byPrecondition = new Map<string, Attempt>();
      for (const a of mine) {
        if (a.op === "create") continue;
        const other = byPrecondition.get(a.ifMatch!);
        assert.ok(
          !other,
          `lost update on ${name}: client ${other?.client} #${other?.seq} and client ${a.client} #${a.seq} both succeeded with If-Match ${a.ifMatch}`,
        );
        byPrecondition.set(a.ifMatch!, a);
      }
      const creates = mine.filter((a) => a.op === "create");
      let open = 0;
      let last: { etag: string; body: string } | null = null;
      let consumed = 0;
      for (const start of creates) {
        consumed++;
        let at: Attempt = start;
        while (at.op !== "delete") {
          const next = byPrecondition.get(at.etag!);
          if (!next) break;
          consumed++;
          at = next;
        }
        if (at.op !== "delete") {
          open++;
          last = { etag: at.etag!, body: at.body! };
        }
      }
      assert.equal(consumed, mine.length, `every success on ${name} follows from a create through ETags`);
      assert.ok(open <= 1, `${name}: ${open} chains without a delete; a second create needs the name absent`);
      final.set(name, last);
    }

    // The stored objects are the chains' last states.
    for (const name of NAMES) {
      const got = await c.get(CAL, name);
      const want = final.get(name);
      if (!want) assert.equal(got.status, 404, `${name} ends deleted or never created`);
      else {
        assert.equal(got.status, 200, name);
        assert.equal(got.headers.get("etag"), want.etag, `${name}: the last success's ETag`);
        assert.equal(got.body, want.body, `${name}: the last success's body`);
      }
    }

    // One change-log entry per successful write (each took one step of the collection's sequence).
    const col = (await c.collection(CAL))!;
    assert.equal(col.seq, successes.length, "one sequence step per successful write");
    assert.equal(
      (await c.items(col.id)).changes.length,
      successes.length,
      "one change-log entry per success",
    );

    // RFC 6578 §3.5: from the token before the soak, members present now with their ETags; a 404
    // only for a name that existed and is gone (it may also be left out).
    const sync = await syncFrom(initial);
    const expectPresent = new Map(
      [...final].flatMap(([name, s]) => (s ? [[href(name), s.etag] as [string, string]] : [])),
    );
    assert.deepEqual(
      sync.present,
      expectPresent,
      "sync-collection: exactly the final members, with their ETags",
    );
    for (const h of sync.removed) {
      const name = h.slice(c.calHref(CAL).length);
      assert.ok(NAMES.includes(name), `404 for ${h}`);
      assert.equal(final.get(name), null, `${h} reported removed but it exists`);
      assert.ok(
        successes.some((a) => a.name === name && a.op === "create"),
        `${h} reported removed but never existed`,
      );
    }
    // And from the token the sync handed out, nothing has changed since.
    const again = await syncFrom(sync.token!);
    assert.equal(again.present.size + again.removed.length, 0, "nothing changed since the new token");
  });
});
