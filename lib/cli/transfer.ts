/**
 * `npm run admin -- import USER/COLLECTION FILE` and `export USER/COLLECTION [FILE]`: a whole
 * .ics or .vcf into a calendar or address book as an import task (the same task, lock and worker
 * as a POST to the server, run here), and a collection out as one file, written page by page as
 * DynamoDB returns it. A terminal gets a progress bar; anything else plain lines.
 */
import { createWriteStream, readFileSync } from "node:fs";
import { once } from "node:events";
import { defaultServerConfig } from "../webdav/context.js";
import { MODULES } from "../server.js";
import { getCollection, type CollectionRecord } from "../store/collections.js";
import type { Store } from "../store/client.js";
import { memberPages } from "../store/objects.js";
import { getTask, startTask, TaskConflict, type OnConflict } from "../store/tasks.js";
import { getUser } from "../store/users.js";
import { runImport } from "../tasks/import.js";
import { Registry } from "../webdav/registry.js";

export interface TransferIO {
  out(line: string): void;
  err(line: string): void;
  /** A terminal: progress redraws one line. */
  progress?(line: string): void;
}

/** `user/collection` → the calendar or address book of that name (calendars first). */
async function collectionOf(store: Store, spec: string): Promise<CollectionRecord | string> {
  const m = /^([^/]+)\/([^/]+)\/?$/.exec(spec);
  if (!m) return `name the collection as USER/COLLECTION, not '${spec}'`;
  const [, owner, name] = m;
  for (const kind of ["calendar", "addressbook"] as const) {
    const col = await getCollection(store, { kind, owner, name });
    if (col) return col;
  }
  return `${owner} has no calendar or address book named '${name}'`;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : 0;
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`;
}

export async function importFile(
  store: Store,
  spec: string,
  file: string,
  onConflict: OnConflict,
  io: TransferIO,
): Promise<number> {
  const col = await collectionOf(store, spec);
  if (typeof col === "string") return (io.err(col), 1);
  const user = await getUser(store, col.owner);
  if (!user) return (io.err(`there is no user ${col.owner}`), 1);
  const registry = new Registry(MODULES);
  const imports = registry.collectionType(col.kind).imports;
  if (!imports) return (io.err(`a ${col.kind} takes no imports`), 1);
  let upload: Buffer;
  try {
    upload = readFileSync(file);
  } catch (err) {
    return (io.err(`cannot read ${file}: ${(err as Error).message}`), 1);
  }
  const config = defaultServerConfig();
  let task;
  try {
    task = await startTask(store, {
      owner: col.owner,
      kind: "import",
      col,
      onConflict,
      upload,
      contentType: imports.mediaTypes[0],
      leaseMs: config.taskLeaseMs,
    });
  } catch (err) {
    if (err instanceof TaskConflict)
      return (io.err(`task ${err.runningTaskId} (${err.runningKind}) is running on ${spec}`), 1);
    throw err;
  }
  io.out(`importing ${file} into ${spec} as task ${task.id}`);
  const total = imports.split(upload, config.maxResourceSize).length;
  let lastLine = -1;
  await runImport({ store, config }, registry, user, task, {
    afterObject(i) {
      const done = i + 1;
      if (io.progress) io.progress(bar(done, total));
      else if (Math.floor((done * 10) / total) > lastLine) {
        lastLine = Math.floor((done * 10) / total);
        io.out(`${done}/${total}`);
      }
    },
  });
  const end = await getTask(store, col.owner, task.id);
  if (!end) return (io.err("the task vanished"), 1);
  io.out(
    `${end.state}: ${end.created} created, ${end.updated} updated, ${end.skipped} skipped, ${end.failed} failed of ${end.total}`,
  );
  for (const e of end.errors) io.out(`  ${e.uid || "(no UID)"}: ${e.reason}`);
  return end.state === "done" ? 0 : 1;
}

export async function exportFile(
  store: Store,
  spec: string,
  file: string | undefined,
  io: TransferIO,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const col = await collectionOf(store, spec);
  if (typeof col === "string") return (io.err(col), 1);
  const exporter = new Registry(MODULES).collectionType(col.kind).exporter?.(col);
  if (!exporter) return (io.err(`a ${col.kind} has no export`), 1);
  const sink = file ? createWriteStream(file) : stdout;
  if (file) {
    try {
      await once(sink, "open");
    } catch (err) {
      return (io.err(`cannot write ${file}: ${(err as Error).message}`), 1);
    }
  }
  const write = async (text: string) => {
    if (text && !sink.write(text)) await once(sink, "drain");
  };
  let count = 0;
  await write(exporter.head);
  for await (const page of memberPages(store, col.id)) {
    for (const obj of page) await write(exporter.member(obj.body!));
    count += page.length;
    io.progress?.(`${count} exported`);
  }
  await write(exporter.tail);
  if (file) {
    (sink as ReturnType<typeof createWriteStream>).end();
    await once(sink, "finish");
    io.out(
      `exported ${count} ${col.kind === "calendar" ? "calendar objects" : "vCards"} of ${spec} to ${file}`,
    );
  }
  return 0;
}
