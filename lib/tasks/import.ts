/**
 * The worker of an import task: the uploaded file split into members by the collection's kind,
 * each validated as a PUT would be and written under the guard that the task still holds the
 * collection: the new members of each twenty in one conditional transaction, and where that is refused,
 * one by one as PUTs are, so a bad object, a UID clash or the quota is reported for that UID and the
 * rest land. Members are named by their UID, so importing a file again finds
 * what it wrote before: `skip` leaves it, `replace` writes it anew, `fail` reports it. Progress
 * (and the lease on the collection) is recorded every few objects; a task cancelled meanwhile stops
 * after the object in flight.
 */
import { createHash } from "node:crypto";
import { DavError, fromStoreError } from "../errors.js";
import { EtagMismatch, ParentMissing, UidConflict } from "../store/errors.js";
import { createObjects, getObjects, putObject, type NewObject } from "../store/objects.js";
import { getCollection, type CollectionRecord } from "../store/collections.js";
import {
  finishTask,
  LeaseLost,
  MAX_TASK_ERRORS,
  readUpload,
  recordProgress,
  taskGuards,
  TaskEnded,
  type TaskRecord,
} from "../store/tasks.js";
import type { UserRecord } from "../store/users.js";
import type { DavContext } from "../webdav/context.js";
import type { Registry } from "../webdav/registry.js";

/**
 * Objects are taken twenty at a time: one BatchGetItem tells which are there already, the new ones
 * are one transaction (four parts each, within DynamoDB's 100), and progress (with the lease, and
 * the check for a cancel) is recorded after each twenty, so a cancel stops the task within twenty
 * objects of the one in flight.
 */
const CHUNK = 20;

/** At most this many body bytes in one transaction (DynamoDB takes 4 MB; items are counted with their keys). */
const BATCH_BYTES = 1024 * 1024;

/** A body that validated: the member it makes and its name. */
interface Validated {
  member: Omit<NewObject, "name">;
  name: string;
}

/** A member name from a UID: the UID itself where it is a safe name, else a digest of it. */
export function memberName(uid: string, extension: string): string {
  if (/^[A-Za-z0-9@._+-]{1,200}$/.test(uid) && !uid.startsWith(".")) return `${uid}${extension}`;
  return `${createHash("sha256").update(uid).digest("base64url").slice(0, 32)}${extension}`;
}

/** The UID a body names, for reporting an object that did not validate. */
const uidHint = (body: Buffer) =>
  /^UID[;:](?:[^:\r\n]*:)?([^\r\n]*)/m.exec(body.toString("utf8"))?.[1]?.trim() ?? "";

export interface ImportHooks {
  /** Called after each object (tests stop a worker there, as a crash would). */
  afterObject?(index: number): Promise<void> | void;
  /** Asked after each twenty objects: true stops the run at a checkpoint (a Lambda running out of time). */
  shouldPause?(): boolean;
}

/** How a run ended: the task ended, or it stopped at a checkpoint for another run to resume. */
export type RunOutcome = "ended" | "paused";

export async function runImport(
  ctx: DavContext,
  registry: Registry,
  user: UserRecord,
  first: TaskRecord,
  hooks: ImportHooks = {},
): Promise<RunOutcome> {
  const store = ctx.store;
  const task: TaskRecord = { ...first, errors: [...first.errors] };
  const fail = (uid: string, reason: string) => {
    task.failed++;
    if (task.errors.length < MAX_TASK_ERRORS) task.errors.push({ uid, reason });
  };
  try {
    const ref = { kind: task.collection.kind, owner: task.owner, name: task.collection.name };
    const col = await getCollection(store, ref);
    if (!col || col.id !== task.collection.id) {
      fail("", "The collection was deleted.");
      await finishTask(store, task, "failed");
      return "ended";
    }
    const type = registry.collectionType(col.kind);
    const imports = type.imports!;
    let bodies: ReturnType<typeof imports.split>;
    try {
      bodies = imports.split(await readUpload(store, task), ctx.config.maxResourceSize);
    } catch (err) {
      fail("", err instanceof DavError ? err.message : "The file could not be read.");
      await finishTask(store, task, "failed");
      return "ended";
    }
    task.total = bodies.length;
    const run = new ImportRun(ctx, registry, user, task, col, imports.extension, fail);
    for (let i = task.next; i < bodies.length; i += CHUNK) {
      const chunk = bodies
        .slice(i, i + CHUNK)
        .map((body) => (Buffer.isBuffer(body) ? run.validate(body) : void fail(body.uid, body.reason)));
      const names = chunk.flatMap((v) => (v ? [v.name] : []));
      // What an earlier import (or a client) stored under these names: skipped or reported without a
      // write (or, to replace, written one by one); the rest are new and go in one transaction.
      const present = await getObjects(store, col.id, names, false);
      const fresh = chunk.filter((v) => v && !present.has(v.name)) as Validated[];
      const batched = (await run.createAll(fresh)) ? new Set(fresh) : new Set<Validated>();
      for (let j = 0; j < chunk.length; j++) {
        const v = chunk[j];
        if (!v || batched.has(v)) {
          // Written with the others, or already reported.
        } else if (present.has(v.name) && task.onConflict !== "replace") run.exists(v.member.uid);
        else await run.write(v.member, v.name);
        task.next = i + j + 1;
        await hooks.afterObject?.(i + j);
      }
      if ((await recordProgress(store, task, ctx.config.taskLeaseMs)) === "cancelled") break;
      if (hooks.shouldPause?.() && task.next < bodies.length) return "paused";
    }
    await finishTask(store, task, "done");
    return "ended";
  } catch (err) {
    // A client cancelled it: record where it stopped.
    if (err instanceof LeaseLost && err.reason === "cancelled") {
      await finishTask(store, task, "cancelled");
      return "ended";
    }
    // The collection was deleted or moved away (its lock went with it, or another has its name).
    if ((err instanceof LeaseLost && err.reason === "gone") || err instanceof ParentMissing) {
      fail("", "The collection was deleted or moved while the import ran.");
      await finishTask(store, task, "failed");
      return "ended";
    }
    // Another worker holds the collection now (this one's lease ran out), or the task ended: stop quietly.
    if (err instanceof LeaseLost || err instanceof TaskEnded) return "ended";
    console.error(
      JSON.stringify({
        level: "error",
        msg: "import task failed",
        task: task.id,
        error: String((err as Error)?.message ?? err),
      }),
    );
    fail("", "The import stopped on an internal error.");
    await finishTask(store, task, "failed").catch(() => undefined);
    return "ended";
  }
}

/** One import's writes, with the collection as its last write left it (which saves a read per object). */
class ImportRun {
  constructor(
    private readonly ctx: DavContext,
    private readonly registry: Registry,
    private readonly user: UserRecord,
    private readonly task: TaskRecord,
    /** The collection as the task found it (its component set cannot change). */
    private readonly target: CollectionRecord,
    private readonly extension: string,
    private readonly fail: (uid: string, reason: string) => void,
  ) {
    this.col = target;
  }

  /** The collection as this run's last write left it; undefined: read it afresh. */
  private col: CollectionRecord | undefined;

  private get type() {
    return this.registry.collectionType(this.task.collection.kind);
  }

  /** The member a body makes, validated as a PUT's would be, and its name; undefined (and reported) when refused. */
  validate(body: Buffer): Validated | undefined {
    try {
      const member = this.type.validateMember(this.target, body, undefined, this.ctx.config, "");
      return { member, name: memberName(member.uid, this.extension) };
    } catch (err) {
      if (!(err instanceof DavError)) throw err;
      this.fail(uidHint(body), err.message);
      return undefined;
    }
  }

  /** The UID is in the collection already: skipped, or reported under on-conflict=fail. */
  exists(uid: string): void {
    if (this.task.onConflict === "fail") this.fail(uid, "The UID exists in the collection already.");
    else this.task.skipped++;
  }

  async write(member: Omit<NewObject, "name">, name: string): Promise<void> {
    let failure: unknown;
    try {
      return await this.put(member, name, this.task.onConflict === "replace");
    } catch (err) {
      if (err instanceof LeaseLost || err instanceof ParentMissing) throw err;
      // There already, under this name (written meanwhile) or another one (a client's).
      if (err instanceof EtagMismatch || err instanceof UidConflict) {
        if (this.task.onConflict !== "replace") return this.exists(member.uid);
      }
      failure = err;
      if (err instanceof UidConflict) {
        try {
          return await this.put(member, err.existingName, true);
        } catch (again) {
          if (again instanceof LeaseLost || again instanceof ParentMissing) throw again;
          failure = again;
        }
      }
    }
    const answer = fromStoreError(failure);
    if (answer instanceof DavError) return this.fail(member.uid, answer.message);
    throw failure;
  }

  /** The write as the modules' guards and hooks see it. */
  private writeOf(name: string) {
    return {
      ctx: this.ctx,
      user: this.user,
      col: this.target,
      name,
      op: "put" as const,
      membership: true,
      tokens: [],
    };
  }

  /**
   * New members in one transaction, when they can be: at least two, distinct names, under a size
   * DynamoDB takes in one transaction. False when not written (the caller writes them one by one,
   * which reports each clash, the quota or a lost lease precisely).
   */
  async createAll(members: readonly Validated[]): Promise<boolean> {
    const bytes = members.reduce((n, m) => n + m.member.body.length, 0);
    if (
      members.length < 2 ||
      bytes > BATCH_BYTES ||
      new Set(members.map((m) => m.name)).size < members.length
    )
      return false;
    const { ctx, registry, task } = this;
    const col = this.col ?? (await getCollection(ctx.store, this.ref));
    this.col = undefined;
    if (!col || col.id !== task.collection.id) return false;
    const result = await createObjects(
      ctx.store,
      col,
      members.map((m) => ({ ...m.member, name: m.name })),
      (name) => [...taskGuards(task), ...registry.guards(this.writeOf(name))],
      ctx.config.quotaBytes,
    );
    if (!result) return false;
    this.col = result.col;
    for (const [i, m] of members.entries()) {
      await registry.afterWrite({ ...this.writeOf(m.name), etag: result.etags[i] });
      task.created++;
    }
    return true;
  }

  private get ref() {
    return { kind: this.task.collection.kind, owner: this.task.owner, name: this.task.collection.name };
  }

  private async put(member: Omit<NewObject, "name">, name: string, replace: boolean): Promise<void> {
    const { ctx, registry, task, ref } = this;
    const w = this.writeOf(name);
    const first = this.col;
    // Until this write is known to have advanced the sequence, the next one reads the collection afresh.
    this.col = undefined;
    const result = await putObject(ctx.store, ref, { ...member, name }, replace ? {} : { ifNoneMatch: "*" }, {
      first,
      guards: [...taskGuards(task), ...registry.guards(w)],
      collectionId: task.collection.id,
      quota: ctx.config.quotaBytes,
    });
    if (first && result.created) {
      this.col = { ...first, seq: first.seq + 1, bytes: first.bytes + member.body.length };
    }
    await registry.afterWrite({ ...w, etag: result.etag });
    if (result.created) task.created++;
    else task.updated++;
  }
}
