/**
 * `npm run admin -- import` and `export` against DynamoDB Local: a file into a calendar as an
 * import task run by the CLI (plain progress lines off a terminal, a summary), refused while
 * another task runs, and the calendar back out as one file, page by page (more members than a page).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runAdmin } from "../../lib/cli/admin.js";
import { createCollection, getCollection } from "../../lib/store/collections.js";
import { startTask } from "../../lib/store/tasks.js";
import { createUser } from "../../lib/store/users.js";
import { freshStore } from "../helpers/store.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const event = (i: number) =>
  [
    "BEGIN:VEVENT",
    `UID:cli-${i}`,
    "DTSTAMP:20260101T000000Z",
    `DTSTART:202604${String(1 + (i % 28)).padStart(2, "0")}T100000Z`,
    "DURATION:PT1H",
    `SUMMARY:CLI ${i}`,
    "END:VEVENT",
  ].join("\r\n");

describe("admin CLI: import and export", async () => {
  const store = await freshStore();
  const env = { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: store.tableName };
  const dir = mkdtempSync(join(tmpdir(), "cli-transfer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  await createUser(store, { name: "dana", passwordHash: "scrypt$x", created: new Date().toISOString() });
  await createCollection(store, { kind: "calendar", owner: "dana", name: "cal", components: ["VEVENT"] });

  it("import runs the task to its end with progress lines and a summary; export writes every object in one VCALENDAR", async () => {
    const file = join(dir, "in.ics");
    const n = 150;
    writeFileSync(
      file,
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n${Array.from({ length: n }, (_, i) => event(i)).join("\r\n")}\r\nEND:VCALENDAR\r\n`,
    );
    let c = capture();
    assert.equal(await runAdmin(["import", "dana/cal", file], c.io, env), 0, c.err.join("\n"));
    assert.match(c.out.join("\n"), /^done: 150 created, 0 updated, 0 skipped, 0 failed of 150$/m);
    assert.ok(c.out.filter((l) => /^\d+\/150$/.test(l)).length >= 10, c.out.join("\n"));
    c = capture();
    assert.equal(await runAdmin(["import", "dana/cal", file], c.io, env), 0);
    assert.match(c.out.join("\n"), /done: 0 created, 0 updated, 150 skipped/);
    const out = join(dir, "out.ics");
    c = capture();
    assert.equal(await runAdmin(["export", "dana/cal", out], c.io, env), 0, c.err.join("\n"));
    const text = readFileSync(out, "utf8");
    assert.equal(text.match(/^BEGIN:VCALENDAR\r$/gm)?.length, 1);
    assert.equal(text.match(/^BEGIN:VEVENT\r$/gm)?.length, n);
    for (let i = 0; i < n; i++) assert.ok(text.includes(`UID:cli-${i}\r\n`), `cli-${i}`);
  });

  it("a collection with a running task refuses the import, naming the task; a bad name or option → usage", async () => {
    const col = (await getCollection(store, { kind: "calendar", owner: "dana", name: "cal" }))!;
    const running = await startTask(store, {
      owner: "dana",
      kind: "import",
      col,
      onConflict: "skip",
      upload: Buffer.from("x"),
      contentType: "text/calendar",
      leaseMs: 60_000,
    });
    const file = join(dir, "one.ics");
    writeFileSync(
      file,
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n${event(999)}\r\nEND:VCALENDAR\r\n`,
    );
    let c = capture();
    assert.equal(await runAdmin(["import", "dana/cal", file], c.io, env), 1);
    assert.match(c.err.join("\n"), new RegExp(`task ${running.id} \\(import\\) is running`));
    c = capture();
    assert.equal(await runAdmin(["import", "dana/none", file], c.io, env), 1);
    assert.match(c.err.join("\n"), /no calendar or address book named 'none'/);
    c = capture();
    assert.equal(await runAdmin(["import", "dana/cal", file, "--on-conflict", "maybe"], c.io, env), 2);
  });
});

describe("admin CLI: export to a path that cannot be written", async () => {
  it("says so (exit 1) instead of crashing", async () => {
    const store = await freshStore();
    const env = { DYNAMODB_ENDPOINT: store.endpoint, TABLE_NAME: store.tableName };
    await createUser(store, { name: "erin", passwordHash: "scrypt$x", created: new Date().toISOString() });
    await createCollection(store, { kind: "calendar", owner: "erin", name: "cal" });
    const c = capture();
    assert.equal(await runAdmin(["export", "erin/cal", "/nonexistent-dir/x.ics"], c.io, env), 1);
    assert.match(c.err.join("\n"), /cannot write \/nonexistent-dir\/x\.ics/);
  });
});
