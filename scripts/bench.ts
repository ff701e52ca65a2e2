/**
 * `npm run bench`: measurements, never pass/fail. For now the bulk paths of issue 13 (the
 * per-request comparison with Radicale is issue 14's): an import of a generated calendar through
 * the import task's worker, and its export page by page, with the heap's high-water mark, on
 * DynamoDB Local on disk (a temporary directory), as `npm start` runs it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDynamoLocal } from "../lib/local/dynamodb-local.js";
import { MODULES } from "../lib/server.js";
import { ensureTable } from "../lib/store/bootstrap.js";
import { createDynamoClient } from "../lib/store/client.js";
import { createCollection } from "../lib/store/collections.js";
import { memberPages } from "../lib/store/objects.js";
import { getTask, startTask } from "../lib/store/tasks.js";
import { createUser } from "../lib/store/users.js";
import { runImport } from "../lib/tasks/import.js";
import { defaultServerConfig } from "../lib/webdav/context.js";
import { Registry } from "../lib/webdav/registry.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);

/** `events` VEVENTs: every fourth UID a weekly series with one override (two components), one shared VTIMEZONE. */
function calendarFile(events: number): { text: string; uids: number } {
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lambda-dav//bench//EN"];
  lines.push("BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000");
  lines.push("TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE");
  let written = 0;
  let uids = 0;
  for (let i = 0; written < events; i++, uids++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const common = [`UID:bench-${i}@example.com`, "DTSTAMP:20260101T000000Z"];
    if (i % 4 === 0 && written + 2 <= events) {
      lines.push(
        "BEGIN:VEVENT",
        ...common,
        `DTSTART;TZID=Europe/Berlin:202603${day}T090000`,
        "DURATION:PT1H",
      );
      lines.push("RRULE:FREQ=WEEKLY;COUNT=10", `SUMMARY:Series ${i}`, "END:VEVENT");
      lines.push("BEGIN:VEVENT", ...common, `RECURRENCE-ID;TZID=Europe/Berlin:202603${day}T090000`);
      lines.push(
        `DTSTART;TZID=Europe/Berlin:202603${day}T110000`,
        "DURATION:PT1H",
        "SUMMARY:Moved",
        "END:VEVENT",
      );
      written += 2;
    } else {
      lines.push("BEGIN:VEVENT", ...common, `DTSTART:202603${day}T100000Z`, "DURATION:PT30M");
      lines.push(`SUMMARY:Event ${i}`, "END:VEVENT");
      written++;
    }
  }
  lines.push("END:VCALENDAR");
  return { text: `${lines.join("\r\n")}\r\n`, uids };
}

/** The heap's high-water mark while `run` runs, sampled every 20 ms (after a collection, when exposed). */
async function peakHeap<T>(run: () => Promise<T>): Promise<{ value: T; peakMb: number; baseMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { value, peakMb: peak / 2 ** 20, baseMb: base / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const dir = mkdtempSync(join(tmpdir(), "lambda-dav-bench-"));
const dynamo = await startDynamoLocal({ dataDir: dir });
try {
  const tableName = "bench";
  const client = createDynamoClient({ tableName, endpoint: dynamo.endpoint });
  await ensureTable(client, tableName);
  const store = { client, tableName };
  const user = { name: "bench", passwordHash: "scrypt$x", created: new Date().toISOString() };
  await createUser(store, user);
  const col = await createCollection(store, { kind: "calendar", owner: "bench", name: "cal" });
  const config = defaultServerConfig();
  const registry = new Registry(MODULES);
  const file = calendarFile(EVENTS);
  console.log(
    `import: ${EVENTS} events (${file.uids} UIDs, ${(file.text.length / 2 ** 20).toFixed(1)} MB) into one calendar`,
  );

  const start = () =>
    startTask(store, {
      owner: "bench",
      kind: "import",
      col,
      onConflict: "skip",
      upload: Buffer.from(file.text),
      contentType: "text/calendar",
      leaseMs: config.taskLeaseMs,
    });
  const task = await start();
  const t0 = performance.now();
  const imported = await peakHeap(() =>
    runImport({ store, config }, registry, { ...user, provisioned: true }, task),
  );
  const importMs = performance.now() - t0;
  const done = await getTask(store, "bench", task.id);
  const again = await start();
  const t1 = performance.now();
  await runImport({ store, config }, registry, { ...user, provisioned: true }, again);
  const reimportMs = performance.now() - t1;

  const exporter = registry.collectionType("calendar").exporter!(col);
  let bytes = 0;
  const t2 = performance.now();
  const exported = await peakHeap(async () => {
    bytes += exporter.head.length;
    for await (const page of memberPages(store, col.id))
      for (const obj of page) bytes += exporter.member(obj.body!).length;
    bytes += exporter.tail.length;
  });
  const exportMs = performance.now() - t2;

  const rows = [
    ["measure", "value"],
    ["import: state", `${done?.state}, ${done?.created} created, ${done?.failed} failed of ${done?.total}`],
    ["import: events/s", (EVENTS / (importMs / 1000)).toFixed(0)],
    ["import: objects (UIDs)/s", (file.uids / (importMs / 1000)).toFixed(0)],
    ["import: total", `${(importMs / 1000).toFixed(1)} s`],
    ["import: heap peak above start", `${(imported.peakMb - imported.baseMb).toFixed(0)} MB`],
    ["re-import (all skipped): objects/s", (file.uids / (reimportMs / 1000)).toFixed(0)],
    ["export: objects/s", (file.uids / (exportMs / 1000)).toFixed(0)],
    ["export: total", `${(exportMs / 1000).toFixed(1)} s for ${(bytes / 2 ** 20).toFixed(1)} MB`],
    ["export: heap peak above start", `${(exported.peakMb - exported.baseMb).toFixed(0)} MB`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  client.destroy();
} finally {
  await dynamo.stop();
  rmSync(dir, { recursive: true, force: true });
}
