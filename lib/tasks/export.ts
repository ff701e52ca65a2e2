/**
 * The worker of an export task: a collection written out by its kind's exporter, page by page,
 * into result parts of about 300 KB (cut between members, so each part is whole lines), which
 * clients fetch one by one from /tasks/<id>/result/<n> and join in order. For collections larger
 * than one response may carry (GET answers 507 past DAV_MAX_RESPONSE_BYTES).
 */
import { getCollection } from "../store/collections.js";
import { memberPages } from "../store/objects.js";
import {
  finishTask,
  LeaseLost,
  recordProgress,
  TaskEnded,
  writeResultPart,
  type TaskRecord,
} from "../store/tasks.js";
import type { DavContext } from "../webdav/context.js";
import type { Registry } from "../webdav/registry.js";
import type { RunOutcome } from "./import.js";

/**
 * A part holds at most this much, or one member alone (at most 380 KB): either way one DynamoDB
 * item, and under any front door's limit.
 */
const PART_BYTES = 300 * 1024;

export async function runExport(ctx: DavContext, registry: Registry, first: TaskRecord): Promise<RunOutcome> {
  const store = ctx.store;
  const task: TaskRecord = { ...first, errors: [...first.errors], next: 0, total: 0, resultParts: 0 };
  try {
    const col = await getCollection(store, {
      kind: task.collection.kind,
      owner: task.owner,
      name: task.collection.name,
    });
    if (!col || col.id !== task.collection.id) {
      task.errors.push({ uid: "", reason: "The collection was deleted or moved." });
      await finishTask(store, task, "failed");
      return "ended";
    }
    const exporter = registry.collectionType(col.kind).exporter!(col);
    let pending: string[] = [exporter.head];
    let bytes = Buffer.byteLength(exporter.head);
    const flush = async () => {
      await writeResultPart(store, task, task.resultParts, Buffer.from(pending.join("")));
      task.resultParts++;
      pending = [];
      bytes = 0;
    };
    for await (const page of memberPages(store, col.id)) {
      for (const obj of page) {
        const part = exporter.member(obj.body!);
        const size = Buffer.byteLength(part);
        // A part stays one DynamoDB item (400 KB): it is cut before a member that would not fit.
        if (bytes > 0 && bytes + size > PART_BYTES) await flush();
        pending.push(part);
        bytes += size;
      }
      task.next += page.length;
      task.total = task.next;
      task.created = task.next;
      // Renews the lease; a cancel ends the export here.
      if ((await recordProgress(store, task, ctx.config.taskLeaseMs)) === "cancelled") {
        await finishTask(store, task, "cancelled");
        return "ended";
      }
    }
    pending.push(exporter.tail);
    await flush();
    await finishTask(store, task, "done");
    return "ended";
  } catch (err) {
    if (err instanceof LeaseLost || err instanceof TaskEnded) return "ended";
    console.error(
      JSON.stringify({
        level: "error",
        msg: "export task failed",
        task: task.id,
        error: String((err as Error)?.message ?? err),
      }),
    );
    task.errors.push({ uid: "", reason: "The export stopped on an internal error." });
    await finishTask(store, task, "failed").catch(() => undefined);
    return "ended";
  }
}
