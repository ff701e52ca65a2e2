/**
 * Bulk tasks (an import of a whole file into a calendar or address book): the task's record, the
 * uploaded file it works on, and the one lock per collection that makes "one running task at a
 * time" a DynamoDB condition.
 *
 *   task      TASKS#<owner> / T#<id>          state, counters, first errors, checkpoint, version
 *   upload    TASKS#<owner> / P#<id>#<n>      the file in parts (an item holds 400 KB), with a TTL
 *   lock      COL#<collection id> / T#RUNNING which task runs there, and its lease
 *
 * The lock is written only if absent or its lease ran out, so a worker that dies blocks the
 * collection only until its lease ends; a live worker renews the lease with every progress write,
 * and every object it writes carries a guard that it still holds the lock (`taskGuard`), so a
 * worker whose lease was taken over cannot write on.
 */
import { GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { batchWrite } from "./batch.js";
import { randomUUID } from "node:crypto";
import type { Store } from "./client.js";
import type { CollectionRecord } from "./collections.js";
import { ConcurrentModification, EtagMismatch, StoreError } from "./errors.js";
import type { CollectionKind } from "./keys.js";
import { colPk } from "./keys.js";
import { queryAll, type Item } from "./query.js";
import { absent, allOf, equals, guardFailure, lessThan, WriteTx, type Expr, type Guard } from "./tx.js";

export type TaskKind = "import" | "export";
export type TaskState = "running" | "done" | "failed" | "cancelled";
export type OnConflict = "skip" | "replace" | "fail";

export interface TaskError {
  uid: string;
  reason: string;
}

export interface TaskCounts {
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  total: number;
}

export interface TaskRecord extends TaskCounts {
  id: string;
  owner: string;
  kind: TaskKind;
  collection: { kind: CollectionKind; name: string; id: string };
  state: TaskState;
  onConflict: OnConflict;
  /** The first errors, by UID (at most MAX_TASK_ERRORS). */
  errors: TaskError[];
  started: string;
  finished?: string;
  /** How many of the file's objects are done: a worker taking over resumes there. */
  next: number;
  /** Parts of an export's result, once written (GET /tasks/<id>/result/<n>). */
  resultParts: number;
  /** Parts of the upload. */
  parts: number;
  contentType: string;
  /** Advances with every change of the record; the task's ETag. */
  version: number;
}

export const MAX_TASK_ERRORS = 100;
/** Bytes of an upload part: an item holds 400 KB. */
const PART_BYTES = 350 * 1024;
/** Uploads and finished tasks are kept a week (TTL), long enough to read the outcome. */
const KEEP_SECONDS = 7 * 24 * 3600;

const taskPk = (owner: string) => ({ S: `TASKS#${owner}` });
const taskKey = (owner: string, id: string) => ({ pk: taskPk(owner), sk: { S: `T#${id}` } });
const partKey = (owner: string, id: string, n: number) => ({
  pk: taskPk(owner),
  sk: { S: `P#${id}#${String(n).padStart(4, "0")}` },
});
const lockKey = (colId: string) => ({ pk: { S: colPk(colId) }, sk: { S: "T#RUNNING" } });
const keepUntil = () => ({ N: String(Math.floor(Date.now() / 1000) + KEEP_SECONDS) });

/** Another task runs on the collection. */
export class TaskConflict extends StoreError {
  constructor(
    readonly runningTaskId: string,
    readonly runningKind: TaskKind,
  ) {
    super(`task ${runningTaskId} (${runningKind}) is running on the collection`);
  }
}

/** The task is no longer running (a cancel, or a state change, of a task that ended). */
export class TaskEnded extends StoreError {
  constructor(readonly state: TaskState) {
    super(`the task is ${state}`);
  }
}

/**
 * The worker must stop writing: its lease ran out and another task holds the collection, the lock
 * is gone with the collection (`gone`), or a client cancelled the task (`cancelled`).
 */
export class LeaseLost extends StoreError {
  constructor(
    message: string,
    readonly reason: "taken" | "gone" | "cancelled" = "taken",
  ) {
    super(message);
  }
}

/** At most this many characters of a UID or reason go into the task record (it must stay one item). */
const MAX_ERROR_TEXT = 256;
const clip = (s: string) => (s.length > MAX_ERROR_TEXT ? `${s.slice(0, MAX_ERROR_TEXT)}…` : s);

function taskFromItem(item: Item): TaskRecord {
  const n = (a: string) => Number(item[a]?.N ?? 0);
  return {
    id: item.id.S!,
    owner: item.owner.S!,
    kind: item.kind.S as TaskKind,
    collection: JSON.parse(item.collection.S!),
    state: item.state.S as TaskState,
    onConflict: item.onConflict.S as OnConflict,
    errors: JSON.parse(item.errors?.S ?? "[]"),
    started: item.started.S!,
    finished: item.finished?.S,
    next: n("next"),
    parts: n("parts"),
    resultParts: n("resultParts"),
    contentType: item.contentType.S!,
    version: n("version"),
    created: n("created"),
    updated: n("updated"),
    skipped: n("skipped"),
    failed: n("failed"),
    total: n("total"),
  };
}

function taskItem(t: TaskRecord): Item {
  return {
    ...taskKey(t.owner, t.id),
    id: { S: t.id },
    owner: { S: t.owner },
    kind: { S: t.kind },
    collection: { S: JSON.stringify(t.collection) },
    state: { S: t.state },
    onConflict: { S: t.onConflict },
    started: { S: t.started },
    ...(t.finished ? { finished: { S: t.finished } } : {}),
    parts: { N: String(t.parts) },
    contentType: { S: t.contentType },
    version: { N: String(t.version) },
    ...progressValues(t),
    expiresAt: keepUntil(),
  };
}

/** What a task's progress writes: its counters, its checkpoint and its first errors (clipped, so the record stays one item). */
function progressValues(task: TaskRecord): Record<string, AttributeValue> {
  return {
    created: { N: String(task.created) },
    updated: { N: String(task.updated) },
    skipped: { N: String(task.skipped) },
    failed: { N: String(task.failed) },
    total: { N: String(task.total) },
    next: { N: String(task.next) },
    resultParts: { N: String(task.resultParts) },
    errors: {
      S: JSON.stringify(
        task.errors.slice(0, MAX_TASK_ERRORS).map((e) => ({ uid: clip(e.uid), reason: clip(e.reason) })),
      ),
    },
  };
}

/** The task's entity tag: it changes with every change of the record. */
export const taskEtag = (t: Pick<TaskRecord, "id" | "version">) => `"${t.id}-${t.version}"`;

export interface NewTask {
  owner: string;
  kind: TaskKind;
  col: CollectionRecord;
  onConflict: OnConflict;
  upload: Buffer;
  contentType: string;
  /** How long the lock is held without a renewal. */
  leaseMs: number;
}

/**
 * Start a task: store the upload, then take the collection's lock and write the task in one
 * transaction (the lock's condition: absent, or its lease ran out). A running task makes it fail
 * with TaskConflict naming that task; the stored upload then expires by its TTL.
 */
export async function startTask(store: Store, input: NewTask): Promise<TaskRecord> {
  // A live lock refuses the task before its upload is stored (the write's condition decides all the same).
  const live = await lockItem(store, input.col.id);
  if (live && Number(live.leaseUntil.N) >= Date.now()) {
    throw new TaskConflict(live.taskId.S!, live.kind.S as TaskKind);
  }
  const id = randomUUID();
  const parts = Math.max(1, Math.ceil(input.upload.length / PART_BYTES));
  await writeParts(store, input.owner, id, input.upload, parts);
  const now = Date.now();
  const task: TaskRecord = {
    id,
    owner: input.owner,
    kind: input.kind,
    collection: { kind: input.col.kind, name: input.col.name, id: input.col.id },
    state: "running",
    onConflict: input.onConflict,
    errors: [],
    started: new Date(now).toISOString(),
    next: 0,
    resultParts: 0,
    parts,
    contentType: input.contentType,
    version: 1,
    created: 0,
    updated: 0,
    skipped: 0,
    failed: 0,
    total: 0,
  };
  for (let attempt = 0; ; attempt++) {
    // A lock whose lease ran out belongs to a worker that died: its task is marked failed as this one takes over.
    const held = await lockItem(store, input.col.id);
    const stale =
      held && Number(held.leaseUntil.N) < now ? await getTask(store, input.owner, held.taskId.S!) : undefined;
    const tx = new WriteTx(store)
      .put(
        "lock",
        {
          ...lockKey(input.col.id),
          taskId: { S: id },
          kind: { S: input.kind },
          leaseUntil: { N: String(now + input.leaseMs) },
          expiresAt: keepUntil(),
        },
        held
          ? allOf(equals("taskId", { S: held.taskId.S! }), lessThan("leaseUntil", { N: String(now) }))
          : absent,
      )
      .put("task", taskItem(task), absent);
    if (stale?.state === "running") {
      const errors = [...stale.errors, { uid: "", reason: "The worker stopped; its lease ran out." }];
      tx.update(
        "stale",
        taskKey(stale.owner, stale.id),
        progressUpdate(
          { ...stale, errors },
          { state: { S: "failed" }, finished: { S: new Date(now).toISOString() } },
        ),
        equals("state", { S: "running" }),
      );
    }
    const failed = await tx.commit();
    if (!failed) return task;
    const holder = failed.old("lock");
    if (holder && Number(holder.leaseUntil.N) >= now) {
      await deleteParts(store, input.owner, id, parts);
      throw new TaskConflict(holder.taskId.S!, holder.kind.S as TaskKind);
    }
    // The lock changed hands, or the stale task ended, between the reads and the write: look again.
    if (attempt >= 3) {
      await deleteParts(store, input.owner, id, parts);
      throw new ConcurrentModification("the collection's task lock kept changing hands");
    }
  }
}

async function lockItem(store: Store, colId: string): Promise<Item | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: lockKey(colId), ConsistentRead: true }),
  );
  return Item;
}

/** Remove a refused task's upload at once (the TTL would only take it in a week). */
function deleteParts(store: Store, owner: string, id: string, parts: number): Promise<void> {
  return batchWrite(
    store,
    Array.from({ length: parts }, (_, n) => ({ DeleteRequest: { Key: partKey(owner, id, n) } })),
  );
}

function writeParts(store: Store, owner: string, id: string, upload: Buffer, parts: number): Promise<void> {
  const items = Array.from({ length: parts }, (_, n) => ({
    ...partKey(owner, id, n),
    body: { B: upload.subarray(n * PART_BYTES, (n + 1) * PART_BYTES) },
    expiresAt: keepUntil(),
  }));
  // A call takes 16 MB; parts are 350 KB, so ten at a time.
  return batchWrite(
    store,
    items.map((Item) => ({ PutRequest: { Item } })),
    10,
  );
}

const resultKey = (owner: string, id: string, n: number) => ({
  pk: taskPk(owner),
  sk: { S: `R#${id}#${String(n).padStart(4, "0")}` },
});

/** Part `n` of an export's result (each under the size one response may carry), kept a week. */
export async function writeResultPart(
  store: Store,
  task: Pick<TaskRecord, "owner" | "id" | "collection">,
  n: number,
  body: Buffer,
): Promise<void> {
  // Under the task's guards: a second run of the task (an invocation delivered twice) cannot overwrite parts.
  const guards = taskGuards(task);
  const failed = await new WriteTx(store)
    .put("part", { ...resultKey(task.owner, task.id, n), body: { B: body }, expiresAt: keepUntil() })
    .guard(guards)
    .commit();
  if (failed) throw guardFailure(failed, guards) ?? new LeaseLost("the task no longer holds the collection");
}

export async function readResultPart(
  store: Store,
  owner: string,
  id: string,
  n: number,
): Promise<Buffer | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: resultKey(owner, id, n), ConsistentRead: true }),
  );
  return Item?.body?.B ? Buffer.from(Item.body.B) : undefined;
}

/** The uploaded file of a task, put together from its parts. */
export async function readUpload(store: Store, task: Pick<TaskRecord, "owner" | "id">): Promise<Buffer> {
  const parts = await queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
      ExpressionAttributeValues: { ":p": taskPk(task.owner), ":s": { S: `P#${task.id}#` } },
      ConsistentRead: true,
    },
    (item) => Buffer.from(item.body.B!),
  );
  return Buffer.concat(parts);
}

export async function getTask(store: Store, owner: string, id: string): Promise<TaskRecord | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: taskKey(owner, id), ConsistentRead: true }),
  );
  return Item ? taskFromItem(Item) : undefined;
}

/**
 * The guards of a task's writes: the task still holds the collection's lock, and it is still
 * running (a cancel stops it after the object in flight).
 */
export function taskGuards(task: Pick<TaskRecord, "id" | "owner" | "collection">): Guard[] {
  return [
    {
      part: "task",
      add: (tx) => tx.check("task", lockKey(task.collection.id), equals("taskId", { S: task.id })),
      failure: (old) => new LeaseLost("the task no longer holds the collection", old ? "taken" : "gone"),
    },
    {
      part: "task-state",
      add: (tx) => tx.check("task-state", taskKey(task.owner, task.id), equals("state", { S: "running" })),
      failure: () => new LeaseLost("the task was cancelled", "cancelled"),
    },
  ];
}

/** SET of a task's progress (counters, errors, checkpoint) and the advance of its version. */
function progressUpdate(task: TaskRecord, extra: Record<string, AttributeValue> = {}) {
  const values = { ...progressValues(task), ...extra };
  return (e: Expr) =>
    `SET ${Object.entries(values)
      .map(([k, v]) => `${e.name(k)} = ${e.value(v)}`)
      .join(", ")} ADD ${e.name("version")} ${e.value({ N: "1" })}`;
}

/**
 * Record progress and renew the lease in one transaction: the task must still be running (a
 * cancel makes this return "cancelled") and its lock still ours (else LeaseLost).
 */
export async function recordProgress(
  store: Store,
  task: TaskRecord,
  leaseMs: number,
): Promise<"running" | "cancelled"> {
  const now = Date.now();
  const tx = new WriteTx(store)
    .update("task", taskKey(task.owner, task.id), progressUpdate(task), equals("state", { S: "running" }))
    .update(
      "lock",
      lockKey(task.collection.id),
      (e) => `SET ${e.name("leaseUntil")} = ${e.value({ N: String(now + leaseMs) })}`,
      equals("taskId", { S: task.id }),
    );
  const failed = await tx.commit();
  if (!failed) return "running";
  if (failed.has("task")) {
    const state = failed.old("task")?.state?.S as TaskState | undefined;
    if (state === "cancelled") return "cancelled";
    throw new TaskEnded(state ?? "failed");
  }
  throw new LeaseLost("the task no longer holds the collection", failed.old("lock") ? "taken" : "gone");
}

/**
 * End a task: its final counts and state (from running; a task a client cancelled stays
 * cancelled) and the release of its lock if it still holds it, in one transaction.
 */
export async function finishTask(store: Store, task: TaskRecord, state: TaskState): Promise<void> {
  const finished = { finished: { S: new Date().toISOString() } };
  const attempt = (from: TaskState, extra: Record<string, AttributeValue>, withLock: boolean) => {
    const tx = new WriteTx(store).update(
      "task",
      taskKey(task.owner, task.id),
      progressUpdate(task, extra),
      equals("state", { S: from }),
    );
    if (withLock) tx.delete("lock", lockKey(task.collection.id), equals("taskId", { S: task.id }));
    return tx.commit();
  };
  for (const from of ["running", "cancelled"] as const) {
    const extra = from === "running" ? { ...finished, state: { S: state } } : finished;
    let failed = await attempt(from, extra, true);
    // The lock went to another task after the lease ran out: record the end without it.
    if (failed?.has("lock") && !failed.has("task")) failed = await attempt(from, extra, false);
    if (!failed?.has("task")) return;
  }
}

/**
 * A client's cancel (PATCH state: cancelled) of a running task, and (If-Match) only of the version
 * the client saw. The worker stops after the object in flight and releases the lock.
 */
export async function cancelTask(
  store: Store,
  owner: string,
  id: string,
  ifMatchVersion?: number,
): Promise<TaskRecord> {
  for (;;) {
    const task = await getTask(store, owner, id);
    if (!task) throw new TaskEnded("failed");
    if (ifMatchVersion !== undefined && task.version !== ifMatchVersion)
      throw new EtagMismatch(taskEtag(task));
    if (task.state !== "running") throw new TaskEnded(task.state);
    const failed = await new WriteTx(store)
      .update(
        "task",
        taskKey(owner, id),
        (e) =>
          `SET ${e.name("state")} = ${e.value({ S: "cancelled" })} ADD ${e.name("version")} ${e.value({ N: "1" })}`,
        allOf(equals("state", { S: "running" }), equals("version", { N: String(task.version) })),
      )
      .commit();
    if (!failed) return { ...task, state: "cancelled", version: task.version + 1 };
    // Progress was recorded meanwhile: look again (If-Match then fails, a plain cancel retries).
  }
}

/** The task whose lease holds a collection now, if any. */
export async function runningTask(store: Store, colId: string): Promise<string | undefined> {
  const item = await lockItem(store, colId);
  if (!item || Number(item.leaseUntil.N) < Date.now()) return undefined;
  return item.taskId.S;
}
