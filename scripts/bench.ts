/**
 * `npm run bench`: measurements, never pass/fail. This server as `npm start` runs it (DynamoDB Local
 * on disk) and Radicale (Debian's package; skipped with a note when absent), seeded with the same
 * calendars of 1,000 and 10,000 events and an address book of 1,000 vCards, take the same requests
 * over loopback HTTP in one run; the bench prints p50/p95, throughput, the ratio to Radicale, the
 * DynamoDB calls and units per operation with their on-demand price, and writes bench/RESULTS.md.
 *
 *   BENCH_SMALL=1 npm run bench   # 100 and 1,000 events: a quick look, not for RESULTS.md
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { meteredServer, PRICE, type Usage } from "./bench/capacity.js";
import { etagOf, Http } from "./bench/http.js";
import {
  addressBookOps,
  calendarOps,
  concurrentWriters,
  measure,
  multiget,
  p,
  propfindEtags,
  syncReport,
  syncToken,
  tokenProp,
  weekQuery,
  sequentialUpload,
  type Timing,
} from "./bench/operations.js";
import { radicaleVersion, startOurs, startRadicale, type Peer } from "./bench/peers.js";
import {
  bigTimezone,
  calendarFile,
  cardName,
  eventName,
  eventText,
  prose,
  vcardText,
} from "./bench/workload.js";

// The metered in-process server of the cost phase would print an access line per request.
process.env.DAV_ACCESS_LOG = "0";
const SMALL = process.env.BENCH_SMALL === "1";
const SIZES = SMALL ? [100, 1000] : [1000, 10_000];
const CARDS = SMALL ? 200 : 1000;
const started = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const XML = { "content-type": 'application/xml; charset="utf-8"' };
const mkcalendar = (tz?: string) =>
  `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>bench</D:displayname>${
    tz ? `<C:calendar-timezone><![CDATA[${tz}]]></C:calendar-timezone>` : ""
  }</D:prop></D:set></C:mkcalendar>`;
const mkAddressBook = `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><A:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`;

const calName = (n: number) => `cal${n}`;

/** Seed this server the way a user would: MKCALENDAR, then import tasks (POST of a file, polled). */
async function seedOurs(http: Http, peer: Peer): Promise<{ objects: number; ms: number }> {
  let objects = 0;
  const t0 = performance.now();
  const importFile = async (collection: string, text: string, type: string) => {
    const r = await http.expect([202], "POST", collection, { "content-type": type }, text);
    const task = r.headers.location as string;
    for (;;) {
      const s = JSON.parse((await http.expect([200], "GET", task)).body) as {
        state: string;
        created: number;
      };
      if (s.state === "done") return void (objects += s.created);
      if (s.state !== "running") throw new Error(`import ${collection}: ${JSON.stringify(s)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  };
  // One task per collection at a time (a second one is a 409); the collections import side by side.
  const book = `${peer.addressbooks}book/`;
  await Promise.all([
    ...SIZES.map(async (n) => {
      const cal = `${peer.calendars}${calName(n)}/`;
      await http.expect([201], "MKCALENDAR", cal, XML, mkcalendar());
      for (let i = 0; i < n; i += 2000)
        await importFile(cal, calendarFile(i, Math.min(n, i + 2000)), "text/calendar");
    }),
    (async () => {
      await http.expect([201], "MKCOL", book, XML, mkAddressBook);
      await importFile(book, Array.from({ length: CARDS }, (_, i) => vcardText(i)).join(""), "text/vcard");
    })(),
  ]);
  for (const c of ["writers", "upload"])
    await http.expect([201], "MKCALENDAR", `${peer.calendars}${c}/`, XML, mkcalendar());
  return { objects, ms: performance.now() - t0 };
}

async function seedRadicale(dir: string): Promise<Peer> {
  const cals = SIZES.map((n) => ({
    path: calName(n),
    tag: "VCALENDAR" as const,
    items: (function* () {
      for (let i = 0; i < n; i++) yield [eventName(i), eventText(i)] as [string, string];
    })(),
  }));
  const book = {
    path: "book",
    tag: "VADDRESSBOOK" as const,
    items: (function* () {
      for (let i = 0; i < CARDS; i++) yield [cardName(i), vcardText(i)] as [string, string];
    })(),
  };
  const empties = ["writers", "upload"].map((path) => ({ path, tag: "VCALENDAR" as const, items: [] }));
  return startRadicale(dir, [...cals, book, ...empties]);
}

interface PeerRun {
  peer: Peer;
  timings: Timing[];
  lost: number;
}

async function runOps(peer: Peer): Promise<PeerRun> {
  const http = new Http(peer.url, peer.user, peer.password);
  const timings: Timing[] = [];
  timings.push(
    await measure(
      "OPTIONS (the per-request floor)",
      async () => void (await http.expect([200], "OPTIONS", peer.calendars)),
      200,
      3000,
    ),
  );
  timings.push(
    await measure(
      "PROPFIND Depth 0 on a calendar",
      async () =>
        void (await http.expect(
          [207],
          "PROPFIND",
          `${peer.calendars}${calName(SIZES[0])}/`,
          { depth: "0", ...XML },
          propfindEtags.replace("<D:resourcetype/>", "<D:resourcetype/><D:displayname/>"),
        )),
      200,
      3000,
    ),
  );
  for (const n of SIZES) {
    const cal = `${peer.calendars}${calName(n)}/`;
    // Warm: a server's first look at a collection (Radicale builds its cache) is not what a client waits for daily.
    await http.expect([207], "PROPFIND", cal, { depth: "1", ...XML }, propfindEtags);
    log(`${peer.name}: calendar of ${n}`);
    timings.push(...(await calendarOps(http, cal, n, n.toLocaleString("en"), n >= 10_000 ? 3 : 8)));
  }
  log(`${peer.name}: address book, upload, writers`);
  const book = `${peer.addressbooks}book/`;
  await http.expect([207], "PROPFIND", book, { depth: "1", ...XML }, propfindEtags);
  timings.push(...(await addressBookOps(http, book, CARDS)));
  timings.push(await sequentialUpload(http, `${peer.calendars}upload/`, 200));
  const w = await concurrentWriters(http, `${peer.calendars}writers/`, 8, 8000);
  timings.push(w.timing);
  http.close();
  return { peer, timings, lost: w.lost };
}

/** Cost per operation against this server's table, one request each. */
async function costs(ours: Peer & { instance: { dynamoEndpoint: string; tableName: string } }) {
  const metered = await meteredServer(ours.instance.dynamoEndpoint, ours.instance.tableName);
  const http = new Http(metered.url, ours.user, ours.password);
  const m = metered.meter;
  const rows: { op: string; u: Usage; per?: number }[] = [];
  const at = async (op: string, run: () => Promise<unknown>, per?: number) =>
    rows.push({ op, u: await m.of(run), per });
  await http.expect([200], "OPTIONS", ours.calendars); // the credential check is cached after this
  const big = SIZES[SIZES.length - 1];
  for (const n of SIZES) {
    const cal = `${ours.calendars}${calName(n)}/`;
    // A warm function has seen the calendar before (it remembers the collection's id).
    await http.expect([200], "GET", `${cal}${eventName(3)}`);
    await at(`GET one object (n=${n})`, () => http.expect([200], "GET", `${cal}${eventName(7)}`));
    await at(
      `PROPFIND Depth 1 (n=${n}), per member`,
      () => http.expect([207], "PROPFIND", cal, { depth: "1", ...XML }, propfindEtags),
      n,
    );
  }
  const cal = `${ours.calendars}${calName(big)}/`;
  const hrefs = Array.from({ length: 50 }, (_, i) => `${cal}${eventName(i * 13)}`);
  await at("calendar-multiget, 50 hrefs", () =>
    http.expect([207], "REPORT", cal, { depth: "1", ...XML }, multiget("cal", hrefs)),
  );
  // A 2 KB event, into an ordinary calendar and into one whose properties carry a 3 KB timezone;
  // its description is prose (random words and numbers), which compresses as mail-like text does.
  const twoKb = (i: number, rev = 0) => {
    const t = eventText(i, rev);
    const text = prose(i, Math.max(0, 2048 - t.length - 40));
    return t.replace(
      "DESCRIPTION:",
      `DESCRIPTION:${text}`.replace(/(.{70})/g, "$1\r\n ").replace(/\r\n $/, ""),
    );
  };
  const tzcal = `${ours.calendars}tz/`;
  await http.expect([201], "MKCALENDAR", tzcal, XML, mkcalendar(bigTimezone()));
  const breakdowns: { op: string; u: Usage }[] = [];
  for (const [label, c] of [
    ["calendar", cal],
    ["calendar with a 3 KB calendar-timezone", tzcal],
  ] as const) {
    const body = twoKb(70_000);
    const href = `${c}cost.ics`;
    let u = await m.of(() =>
      http.expect([201], "PUT", href, { "content-type": "text/calendar", "if-none-match": "*" }, body),
    );
    rows.push({ op: `PUT create, ${Buffer.byteLength(body)} B event, ${label}`, u });
    breakdowns.push({ op: `PUT create into the ${label}`, u });
    const etag = etagOf(await http.expect([200], "GET", href))!;
    u = await m.of(() =>
      http.expect(
        [204],
        "PUT",
        href,
        { "content-type": "text/calendar", "if-match": etag },
        twoKb(70_000, 1),
      ),
    );
    rows.push({ op: `PUT update, ${label}`, u });
    const etag2 = etagOf(await http.expect([200], "GET", href))!;
    rows.push({
      op: `DELETE, ${label}`,
      u: await m.of(() => http.expect([204], "DELETE", href, { "if-match": etag2 })),
    });
  }
  const token = syncToken(
    (await http.expect([207], "PROPFIND", cal, { depth: "0", ...XML }, tokenProp)).body,
  );
  for (let j = 0; j < 10; j++)
    await http.expect(
      [204],
      "PUT",
      `${cal}${eventName(j)}`,
      { "content-type": "text/calendar" },
      eventText(j, 500),
    );
  await at("sync-collection after 10 changes", () =>
    http.expect([207], "REPORT", cal, XML, syncReport(token)),
  );
  await at("calendar-query, one week, expanded", () =>
    http.expect([207], "REPORT", cal, { depth: "1", ...XML }, weekQuery),
  );
  http.close();
  await metered.stop();
  return { rows, breakdowns };
}

/** The issue's targets against this run's figures: met or not, with the numbers. */
function targets(
  mine: PeerRun,
  theirs: PeerRun | undefined,
  cost: { rows: { op: string; u: Usage; per?: number }[]; breakdowns: { op: string; u: Usage }[] },
): string[] {
  const [small, big] = [SIZES[0], SIZES[SIZES.length - 1]];
  const label = (n: number) => n.toLocaleString("en");
  const t = (r: PeerRun | undefined, op: string) => r?.timings.find((x) => x.op === op);
  const value = (x: Timing | undefined) =>
    x === undefined || x.note?.startsWith("failed") ? NaN : (x.perSecond ?? p(x.ms, 0.5));
  const ratio = (op: string) => value(t(mine, op)) / value(t(theirs, op));
  const verdict = (ok: boolean) => (ok ? "**met**" : "**not met**");
  const r2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");
  const out: string[] = [];
  const within = (what: string, ops: string[], limit: number, atLeast = false) => {
    const rs = ops.map(ratio);
    const ok = rs.every((r) => Number.isFinite(r) && (atLeast ? r >= limit : r <= limit));
    out.push(
      `${what} ${atLeast ? "≥" : "≤"} ${limit}× Radicale: ${ops.map((o, i) => `${o} ${r2(rs[i])}`).join("; ")}: ${verdict(ok)}`,
    );
  };
  if (theirs) {
    within(
      "GET and multiget",
      [small, big].flatMap((n) => [
        `GET one object (n=${label(n)})`,
        `calendar-multiget, 50 hrefs (n=${label(n)})`,
      ]),
      1.5,
    );
    within(
      "first sync and the week query",
      [
        `first sync (PROPFIND + multiget of all, 100 a request) (n=${label(small)})`,
        `calendar-query, one week, expanded (n=${label(small)})`,
      ],
      0.5,
    );
    within(
      "PUT update and DELETE",
      [`PUT update (If-Match) (n=${label(small)})`, `DELETE (If-Match) (n=${label(small)})`],
      0.75,
    );
    within(
      "GET throughput at 8 connections",
      [small, big].map((n) => `GET req/s at 8 connections (n=${label(n)})`),
      1,
      true,
    );
    within("sequential upload", ["sequential upload of 200 events (total ms)"], 0.6);
    within("8 concurrent writers (throughput)", ["8 concurrent writers on one calendar (writes/s)"], 1, true);
  }
  const pf = (n: number) => value(t(mine, `PROPFIND Depth 1 (getetag) (n=${label(n)})`));
  const growth = pf(big) / pf(small);
  const rru = cost.rows.filter((r) => r.per).map((r) => r.u.reads / r.per!);
  out.push(
    `PROPFIND Depth 1 linear (${label(big)} within ${big / small + 1}× of ${label(small)}): ${r2(growth)}×; ≤ 0.25 read units per member: ${rru.map((x) => x.toFixed(3)).join(", ")}: ${verdict(growth <= big / small + 1 && rru.every((x) => x <= 0.25))}`,
  );
  const puts = cost.breakdowns.filter((b) => b.op.startsWith("PUT create"));
  out.push(
    `member PUT of a 2 KB event ≤ 14 write units: ${puts.map((b) => `${b.op.replace("PUT create into the ", "")} ${b.u.billedWrites}`).join("; ")}: ${verdict(puts.every((b) => b.u.billedWrites <= 14))}`,
  );
  // Every figure at the larger size within 1.5× of the smaller, except those that return what grows.
  const grows = /PROPFIND Depth 1|first sync|calendar-query|sync-collection, initial/;
  const off = mine.timings
    .filter((x) => x.op.endsWith(`(n=${label(big)})`) && !grows.test(x.op))
    .map((x) => {
      const a = t(mine, x.op.replace(`(n=${label(big)})`, `(n=${label(small)})`));
      const rate = x.perSecond !== undefined;
      const g = rate ? value(a) / value(x) : value(x) / value(a);
      return { op: x.op.replace(` (n=${label(big)})`, ""), g };
    });
  const bad = off.filter((x) => !(x.g <= 1.5));
  out.push(
    `every figure at ${label(big)} within 1.5× of ${label(small)} (listings, first sync, queries and the initial sync excepted): ${
      bad.length
        ? `over: ${bad.map((x) => `${x.op} ${r2(x.g)}×`).join("; ")}`
        : `largest ${r2(Math.max(...off.map((x) => x.g)))}×`
    }: ${verdict(bad.length === 0)}`,
  );
  return out;
}

function bundle(): { kb: number; gzKb: number; initMs: number } | undefined {
  try {
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "scripts/bundle-report.ts", "--json", "--runs", "5"],
      { encoding: "utf8" },
    );
    const r = JSON.parse(out) as { kb: number; gzipKb: number; coldImportMs: { median: number } };
    return { kb: r.kb, gzKb: r.gzipKb, initMs: r.coldImportMs.median };
  } catch (err) {
    console.error(`bundle report failed: ${(err as Error).message}`);
    return undefined;
  }
}

// ---- the run ----
const dir = mkdtempSync(join(tmpdir(), "lambda-dav-bench-"));
const lines: string[] = [];
const startedPeers: Peer[] = [];
const out = (s = "") => {
  lines.push(s);
  console.log(s);
};
try {
  log("starting this server (npm start, DynamoDB Local on disk)");
  const ours = await startOurs(join(dir, "ours"));
  startedPeers.push(ours);
  const oursHttp = new Http(ours.url, ours.user, ours.password);
  log("seeding it through import tasks");
  const seeded = await seedOurs(oursHttp, ours);
  log(`imported ${seeded.objects} objects in ${(seeded.ms / 1000).toFixed(1)} s`);
  // Each server runs alone: this one is measured and stopped before Radicale starts.
  const runs: PeerRun[] = [await runOps(ours)];

  log("export task (this server)");
  const big = `${ours.calendars}${calName(SIZES[SIZES.length - 1])}/`;
  const e0 = performance.now();
  const ex = await oursHttp.expect([202], "POST", `${big}?task=export`);
  let parts: string[] = [];
  for (;;) {
    const s = JSON.parse((await oursHttp.expect([200], "GET", ex.headers.location as string)).body) as {
      state: string;
      result?: string[];
    };
    if (s.state === "done") {
      parts = s.result ?? [];
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  let exportBytes = 0;
  for (const part of parts) exportBytes += (await oursHttp.expect([200], "GET", part)).body.length;
  const exportMs = performance.now() - e0;
  const rss = (() => {
    try {
      return /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${ours.instance.pid}/status`, "utf8"))?.[1];
    } catch {
      return undefined;
    }
  })();

  log("cost per operation (DynamoDB consumed capacity)");
  const cost = await costs(ours);
  oursHttp.close();
  await ours.stop();

  let radicale: Peer | undefined;
  const rv = radicaleVersion();
  if (rv) {
    log(`starting Radicale ${rv}, seeded with the same files`);
    radicale = await seedRadicale(join(dir, "radicale"));
    startedPeers.push(radicale);
    runs.push(await runOps(radicale));
    await radicale.stop();
  } else log("radicale is not installed (apt-get install radicale): no ratios in this run");
  log("bundle size and cold start");
  const b = bundle();

  // ---- report ----
  const [mine, theirs] = runs;
  const find = (r: PeerRun | undefined, op: string) => r?.timings.find((t) => t.op === op);
  const f = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? "—" : x.toFixed(d));
  out(`# lambda-dav benchmark results`);
  out();
  out(
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; lambda-dav ${ours.version} (npm start, DynamoDB Local on disk); ${radicale ? `Radicale ${radicale.version} (Debian, filesystem storage)` : "Radicale not installed"}. One run, same machine, same seeded workload (${SIZES.map((n) => n.toLocaleString("en")).join(" and ")} events, 10% weekly series with a VTIMEZONE, a third with attendees, a quarter with alarms; ${CARDS} vCards). Milliseconds; ratio = ours ÷ Radicale (below 1: we are faster; for req/s, above 1).`,
  );
  out();
  out(
    `| operation | ours p50 | ours p95 | Radicale p50 | Radicale p95 | ratio (p50) | results ours / Radicale |`,
  );
  out(`|---|---|---|---|---|---|---|`);
  for (const t of mine.timings) {
    const o = find(theirs, t.op);
    const rate = t.perSecond !== undefined;
    const a = rate ? t.perSecond! : p(t.ms, 0.5);
    const bb = rate ? o?.perSecond : o && p(o.ms, 0.5);
    const ratio = bb ? a / bb : undefined;
    out(
      `| ${t.op} | ${rate ? `${f(t.perSecond, 0)}/s (p50 ${f(p(t.ms, 0.5))})` : f(p(t.ms, 0.5))} | ${f(p(t.ms, 0.95))} | ${
        o ? (rate ? `${f(o.perSecond, 0)}/s (p50 ${f(p(o.ms, 0.5))})` : f(p(o.ms, 0.5))) : "—"
      } | ${o ? f(p(o.ms, 0.95)) : "—"} | ${f(ratio, 2)} | ${t.items ?? t.note ?? ""}${o ? ` / ${o.items ?? o.note ?? ""}` : ""} |`,
    );
  }
  out();
  out(
    `Import (seeding this server through import tasks): ${seeded.objects} objects in ${(seeded.ms / 1000).toFixed(1)} s = ${f(seeded.objects / (seeded.ms / 1000), 0)} objects/s. Export task of ${calName(SIZES[SIZES.length - 1])}: ${parts.length} parts, ${(exportBytes / 2 ** 20).toFixed(1)} MB in ${(exportMs / 1000).toFixed(1)} s. Server process peak RSS over the run: ${rss ? `${(Number(rss) / 1024).toFixed(0)} MB` : "—"}.`,
  );
  out();
  out(`## Cost per operation (DynamoDB Local's consumed capacity, one request each)`);
  out();
  out(
    `On-demand prices (us-east-1): $${PRICE.read} per million read request units, $${PRICE.write} per million write request units. Transactional writes cost 2 units per KB.`,
  );
  out();
  out(
    `Read units are DynamoDB Local's (strongly consistent: 1 per 4 KB). DynamoDB Local counts a transaction's items once, so write units are computed as DynamoDB bills them: each part of a transaction (ConditionChecks included) at 2 units per KB of the item, plus the index writes DynamoDB Local reports; its own figure is beside it.`,
  );
  out();
  out(
    `| operation | DynamoDB calls | read units | write units (billed) | write units (DynamoDB Local) | $ per million operations | calls |`,
  );
  out(`|---|---|---|---|---|---|---|`);
  for (const r of cost.rows) {
    const per = r.per ? ` (${f(r.u.reads / r.per, 3)} per member)` : "";
    out(
      `| ${r.op} | ${r.u.calls} | ${f(r.u.reads, 1)}${per} | ${f(r.u.billedWrites, 0)} | ${f(r.u.writes, 0)} | ${f(r.u.reads * PRICE.read + r.u.billedWrites * PRICE.write, 2)} | ${r.u.commands.join(", ")} |`,
    );
  }
  out();
  for (const bd of cost.breakdowns) {
    out(
      `${bd.op}: ${bd.u.billedWrites} write units billed (DynamoDB Local: table ${bd.u.byIndex.table ?? 0}${Object.entries(
        bd.u.byIndex,
      )
        .filter(([k]) => k !== "table")
        .map(([k, v]) => `, index ${k} ${v}`)
        .join("")}); by part: ${bd.u.parts.map((x) => `${x.part} ${x.bytes} B → ${x.units}`).join("; ")}.`,
    );
    out();
  }
  if (b)
    out(
      `Bundled handler: ${f(b.kb, 0)} KB (${f(b.gzKb, 0)} KB gzipped); cold import ${f(b.initMs, 0)} ms (median of 5 fresh processes).`,
    );
  out();
  out(`## Targets (issue 14), read from this run`);
  out();
  for (const line of targets(mine, theirs, cost)) out(`- ${line}`);
  out();
  out(
    `Lost updates among the concurrent writers: ours ${mine.lost}${theirs ? `, Radicale ${theirs.lost}` : ""}. Total bench time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  );
  if (!SMALL) {
    mkdirSync("bench", { recursive: true });
    writeFileSync("bench/RESULTS.md", `${lines.join("\n")}\n`);
    log("wrote bench/RESULTS.md");
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  // A server still running (the run failed halfway) keeps writing into the folder being removed.
  await Promise.allSettled(startedPeers.map((peer) => peer.stop()));
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
