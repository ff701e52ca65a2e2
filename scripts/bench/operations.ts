/**
 * The operations the bench times against each server, as a client sends them over HTTP: each
 * repeated up to a count or a time budget (at least three times), reported as p50/p95.
 */
import { etagOf, type Http, type Reply } from "./http.js";
import { cardName, eventName, eventText, lcg, vcardText, WEEK } from "./workload.js";

export interface Timing {
  op: string;
  /** Milliseconds of each repetition. */
  ms: number[];
  /** What the last repetition returned (members listed, results found), to compare servers. */
  items?: number;
  /** Throughput, for the concurrent operations (per second). */
  perSecond?: number;
  note?: string;
}

export const p = (ms: number[], q: number): number => {
  if (!ms.length) return NaN;
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Time `run` up to `reps` times or until `budgetMs` is spent (always at least 3 times). */
export async function measure(
  op: string,
  run: (rep: number) => Promise<number | void>,
  reps: number,
  budgetMs: number,
  before?: (rep: number) => Promise<void>,
): Promise<Timing> {
  const ms: number[] = [];
  let items: number | undefined;
  const started = performance.now();
  try {
    for (let rep = 0; rep < reps; rep++) {
      const spent = performance.now() - started;
      // At least three runs, unless one run alone takes far past the budget (Radicale listing 10,000).
      if ((rep >= 3 && spent > budgetMs) || (rep >= 1 && spent > 2 * budgetMs)) break;
      await before?.(rep);
      const t0 = performance.now();
      const n = await run(rep);
      ms.push(performance.now() - t0);
      if (typeof n === "number") items = n;
    }
    if (process.env.BENCH_VERBOSE)
      console.log(`  ${op}: ${ms.length} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    // One server failing one operation is a finding, not the end of the run.
    const note = `failed after ${ms.length} runs: ${String((err as Error).message).slice(0, 160)}`;
    console.error(`${op}: ${note}`);
    return { op, ms, items, note };
  }
  return { op, ms, items };
}

export const responses = (r: Reply): number => (r.body.match(/<(\w+:)?response[\s>]/g) ?? []).length;
export const syncToken = (body: string): string => /<(?:\w+:)?sync-token>([^<]+)</.exec(body)?.[1] ?? "";

const CAL = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"';
const CARD = 'xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav"';
const XML = { "content-type": 'application/xml; charset="utf-8"' };
const ICS = { "content-type": "text/calendar; charset=utf-8" };

export const propfindEtags = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>`;
export const multiget = (kind: "cal" | "card", hrefs: string[]) =>
  kind === "cal"
    ? `<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget ${CAL}><D:prop><D:getetag/><C:calendar-data/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join("")}</C:calendar-multiget>`
    : `<?xml version="1.0" encoding="utf-8"?><A:addressbook-multiget ${CARD}><D:prop><D:getetag/><A:address-data/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join("")}</A:addressbook-multiget>`;
export const weekQuery = `<?xml version="1.0" encoding="utf-8"?><C:calendar-query ${CAL}><D:prop><D:getetag/><C:calendar-data><C:expand start="${WEEK.start}" end="${WEEK.end}"/></C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="${WEEK.start}" end="${WEEK.end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
const cardQuery = `<?xml version="1.0" encoding="utf-8"?><A:addressbook-query ${CARD}><D:prop><D:getetag/><A:address-data/></D:prop><A:filter><A:prop-filter name="FN"><A:text-match collation="i;unicode-casemap" match-type="contains">person12</A:text-match></A:prop-filter></A:filter></A:addressbook-query>`;
export const syncReport = (token: string) =>
  `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>${token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`;
export const tokenProp = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>`;

/** The calendar operations at one size `n` (members e0 … e{n-1}.ics). */
export async function calendarOps(http: Http, cal: string, n: number, label: string, heavyReps: number) {
  const rnd = lcg(n * 31);
  const href = (i: number) => `${cal}${eventName(i)}`;
  const pick = () => Math.floor(rnd() * n);
  const out: Timing[] = [];
  const add = (t: Timing) => {
    out.push({ ...t, op: `${t.op} (n=${label})` });
  };
  add(
    await measure(
      "GET one object",
      async () => void (await http.expect([200], "GET", href(pick()))),
      200,
      4000,
    ),
  );
  add(
    await measure(
      "PROPFIND Depth 1 (getetag)",
      async () => responses(await http.expect([207], "PROPFIND", cal, { depth: "1", ...XML }, propfindEtags)),
      heavyReps,
      8000,
    ),
  );
  add(
    await measure(
      "calendar-multiget, 50 hrefs",
      async () => {
        const hrefs = Array.from({ length: 50 }, pick).map(href);
        return responses(
          await http.expect([207], "REPORT", cal, { depth: "1", ...XML }, multiget("cal", hrefs)),
        );
      },
      60,
      4000,
    ),
  );
  add(
    await measure(
      "calendar-query, one week, expanded",
      async () => responses(await http.expect([207], "REPORT", cal, { depth: "1", ...XML }, weekQuery)),
      heavyReps * 2,
      8000,
    ),
  );
  const created: { href: string; etag: string }[] = [];
  add(
    await measure(
      "PUT create",
      async (k) => {
        const h = `${cal}new-${k}.ics`;
        const r = await http.expect([201, 204], "PUT", h, { ...ICS, "if-none-match": "*" }, eventText(n + k));
        created.push({ href: h, etag: etagOf(r) ?? "" });
      },
      60,
      4000,
    ),
  );
  let etag = "";
  let target = 0;
  add(
    await measure(
      "PUT update (If-Match)",
      async (k) =>
        void (await http.expect(
          // Radicale answers an update with 201.
          [200, 201, 204],
          "PUT",
          href(target),
          { ...ICS, "if-match": etag },
          eventText(target, k + 1),
        )),
      60,
      4000,
      async () => {
        target = pick();
        etag = etagOf(await http.expect([200], "GET", href(target))) ?? "";
      },
    ),
  );
  add(
    await measure(
      "DELETE (If-Match)",
      async (k) => {
        const c = created[k];
        // Radicale answers a PUT without an ETag header on some paths: delete unconditionally then.
        await http.expect([200, 204], "DELETE", c.href, c.etag ? { "if-match": c.etag } : {});
      },
      created.length,
      4000,
    ),
  );
  let token = "";
  add(
    await measure(
      "sync-collection after 10 changes",
      async () => responses(await http.expect([207], "REPORT", cal, XML, syncReport(token))),
      20,
      6000,
      async (rep) => {
        token = syncToken(
          (await http.expect([207], "PROPFIND", cal, { depth: "0", ...XML }, tokenProp)).body,
        );
        for (let j = 0; j < 10; j++) {
          const i = pick();
          await http.expect([200, 201, 204], "PUT", href(i), ICS, eventText(i, 100 + rep * 10 + j));
        }
      },
    ),
  );
  add(
    await measure(
      "sync-collection, initial",
      async () => responses(await http.expect([207], "REPORT", cal, XML, syncReport(""))),
      heavyReps,
      8000,
    ),
  );
  add(
    await measure(
      "first sync (PROPFIND + multiget of all, 100 a request)",
      async () => {
        const r = await http.expect([207], "PROPFIND", cal, { depth: "1", ...XML }, propfindEtags);
        const hrefs = [...r.body.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\//g)].map((m) => m[1]);
        let got = 0;
        for (let i = 0; i < hrefs.length; i += 100) {
          const m = await http.expect(
            [207],
            "REPORT",
            cal,
            { depth: "1", ...XML },
            multiget("cal", hrefs.slice(i, i + 100)),
          );
          got += responses(m);
        }
        return got;
      },
      heavyReps,
      10_000,
    ),
  );
  add(await throughput("GET req/s at 8 connections", 8, 3000, () => http.expect([200], "GET", href(pick()))));
  add(await throughput("GET req/s at 1 connection", 1, 2000, () => http.expect([200], "GET", href(pick()))));
  return out;
}

/** `workers` loops issuing `run` for `ms`: requests per second and the latencies. */
export async function throughput(
  op: string,
  workers: number,
  ms: number,
  run: () => Promise<unknown>,
): Promise<Timing> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  const t0 = performance.now();
  let failed: string | undefined;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end && failed === undefined) {
        const s = performance.now();
        try {
          await run();
        } catch (err) {
          failed = String((err as Error).message).slice(0, 160);
          console.error(`${op}: failed: ${failed}`);
          return;
        }
        lat.push(performance.now() - s);
      }
    }),
  );
  const perSecond = lat.length / ((performance.now() - t0) / 1000);
  return { op, ms: lat, perSecond, ...(failed ? { note: `failed: ${failed}` } : {}) };
}

export async function addressBookOps(http: Http, book: string, n: number): Promise<Timing[]> {
  const rnd = lcg(77);
  const href = (i: number) => `${book}${cardName(i)}`;
  return [
    await measure(
      `PROPFIND Depth 1 (getetag), address book (n=${n})`,
      async () =>
        responses(await http.expect([207], "PROPFIND", book, { depth: "1", ...XML }, propfindEtags)),
      10,
      6000,
    ),
    await measure(
      `addressbook-multiget, 50 hrefs (n=${n})`,
      async () => {
        const hrefs = Array.from({ length: 50 }, () => href(Math.floor(rnd() * n)));
        return responses(
          await http.expect([207], "REPORT", book, { depth: "1", ...XML }, multiget("card", hrefs)),
        );
      },
      40,
      4000,
    ),
    await measure(
      `addressbook-query, FN contains (n=${n})`,
      async () => responses(await http.expect([207], "REPORT", book, { depth: "1", ...XML }, cardQuery)),
      20,
      5000,
    ),
  ];
}

/** A vdirsyncer-style first upload: `count` sequential PUTs of new events with If-None-Match: *. */
export async function sequentialUpload(http: Http, cal: string, count: number): Promise<Timing> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await http.expect(
      [201, 204],
      "PUT",
      `${cal}u${i}.ics`,
      { ...ICS, "if-none-match": "*" },
      eventText(50_000 + i),
    );
  }
  return { op: `sequential upload of ${count} events (total ms)`, ms: [performance.now() - t0] };
}

export interface WriterLog {
  name: string;
  op: "create" | "update" | "delete";
  ifMatch?: string;
  etag?: string;
}

/**
 * `workers` clients doing random creates, updates and deletes with If-Match (or If-None-Match: *)
 * on `names` members of one calendar for `ms`; a 412 makes the client read the member again. The
 * log of successes is checked for lost updates: no ETag is the If-Match of two successful writes.
 */
export async function concurrentWriters(http: Http, cal: string, workers: number, ms: number, names = 20) {
  const log: WriterLog[] = [];
  const lat: number[] = [];
  let refused = 0;
  let failed = 0;
  /** What the failed writes were answered ("delete 404": a DELETE under a stale If-Match answered 404, not 412). */
  const statuses = new Map<string, number>();
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const rnd = lcg(1000 + w);
      const known = new Map<string, string | null>();
      let rev = 0;
      while (performance.now() < end) {
        const name = `w${Math.floor(rnd() * names)}.ics`;
        const etag = known.get(name) ?? null;
        const i = 90_000 + Number(name.slice(1, -4));
        const s = performance.now();
        let r: Reply;
        let op: WriterLog["op"];
        if (etag === null) {
          op = "create";
          r = await http.send(
            "PUT",
            cal + name,
            { ...ICS, "if-none-match": "*" },
            eventText(i, ++rev * 100 + w),
          );
        } else if (rnd() < 0.75) {
          op = "update";
          r = await http.send("PUT", cal + name, { ...ICS, "if-match": etag }, eventText(i, ++rev * 100 + w));
        } else {
          op = "delete";
          r = await http.send("DELETE", cal + name, { "if-match": etag });
        }
        lat.push(performance.now() - s);
        if (r.status >= 200 && r.status < 300) {
          const next = op === "delete" ? undefined : etagOf(r);
          log.push({ name, op, ifMatch: etag ?? undefined, etag: next });
          // A server that answers a write without an ETag is asked for it (untimed).
          known.set(
            name,
            op === "delete" ? null : (next ?? etagOf(await http.send("GET", cal + name)) ?? null),
          );
        } else if (r.status === 412) {
          refused++;
          const g = await http.send("GET", cal + name);
          known.set(name, g.status === 200 ? (etagOf(g) ?? null) : null);
        } else {
          failed++;
          statuses.set(`${op} ${r.status}`, (statuses.get(`${op} ${r.status}`) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const used = new Map<string, number>();
  for (const e of log)
    if (e.ifMatch) used.set(`${e.name} ${e.ifMatch}`, (used.get(`${e.name} ${e.ifMatch}`) ?? 0) + 1);
  const lost = [...used.values()].filter((c) => c > 1).length;
  return {
    timing: {
      op: `${workers} concurrent writers on one calendar (writes/s)`,
      ms: lat,
      perSecond: log.length / seconds,
      note: `${log.length} written, ${refused} refused (412), ${failed} failed${
        statuses.size ? ` (${[...statuses].map(([k, v]) => `${k} ×${v}`).join(", ")})` : ""
      }, ${lost} lost updates`,
    } satisfies Timing,
    lost,
    failed,
  };
}

export { vcardText };
