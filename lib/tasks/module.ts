/**
 * The tasks module: bulk import as a task. `POST` of a whole file to a calendar or address book
 * starts an import (202, Location /tasks/<id>); `/tasks/<id>` answers its state as JSON (GET) and
 * takes a cancel (PATCH, RFC 5789, with a JSON merge patch, RFC 7396). One task runs on a
 * collection at a time: the lock is a DynamoDB item written on condition (lib/store/tasks.ts), and
 * a second start answers 409 with JSON naming the running task. Task errors are JSON too.
 */
import { JsonProblem } from "../errors.js";
import { mediaType, type DavResponse } from "../http/message.js";
import type { CollectionRecord } from "../store/collections.js";
import { EtagMismatch } from "../store/errors.js";
import {
  cancelTask,
  finishTask,
  getTask,
  readResultPart,
  runningTask,
  startTask,
  taskEtag,
  TaskConflict,
  TaskEnded,
  type OnConflict,
  type TaskRecord,
} from "../store/tasks.js";
import { collectionHref, nests, type Address } from "../webdav/paths.js";
import type {
  DavModule,
  Endpoint,
  MethodContext,
  RequestContext,
  ResourceContext,
} from "../webdav/registry.js";
import { viewed } from "../webdav/access.js";
import { runExport } from "./export.js";
import { runImport } from "./import.js";

const json = (status: number, body: unknown, headers: Record<string, string> = {}): DavResponse => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  body: `${JSON.stringify(body)}\n`,
});

export const taskHref = (id: string) => `/tasks/${id}`;

/** The task as clients read it. */
export function taskView(t: TaskRecord) {
  return {
    id: t.id,
    kind: t.kind,
    collection: collectionHref(t.collection.kind, t.owner, t.collection.name),
    state: t.state,
    created: t.created,
    updated: t.updated,
    skipped: t.skipped,
    failed: t.failed,
    total: t.total,
    errors: t.errors,
    started: t.started,
    ...(t.finished ? { finished: t.finished } : {}),
    // An export's result: fetch the parts in order and join them.
    ...(t.kind === "export" && t.state === "done"
      ? { result: Array.from({ length: t.resultParts }, (_, n) => `${taskHref(t.id)}/result/${n}`) }
      : {}),
  };
}

const KIND_NAMES: Record<string, string> = { calendar: "calendar", addressbook: "address book" };

interface ImportPlan {
  /** `POST …?task=export` starts an export instead (for a collection larger than one GET answers). */
  kind: "import" | "export";
  onConflict: OnConflict;
}

function prepareImport(m: RequestContext): ImportPlan {
  const params = new URLSearchParams(m.req.query);
  const onConflict = params.get("on-conflict") ?? "skip";
  if (onConflict !== "skip" && onConflict !== "replace" && onConflict !== "fail") {
    throw new JsonProblem(400, {
      code: "BadParameter",
      message: "on-conflict is skip, replace or fail.",
    });
  }
  const kind = params.get("task") ?? "import";
  if (kind !== "import" && kind !== "export") {
    throw new JsonProblem(400, { code: "BadParameter", message: "task is import or export." });
  }
  return { kind, onConflict };
}

async function startImport(m: ResourceContext, plan: ImportPlan): Promise<DavResponse> {
  const t = m.target;
  if (plan.kind === "export") return startExport(m);
  const imports = t.type === "collection" ? m.registry.collectionType(t.col.kind).imports : undefined;
  if (t.type !== "collection" || !imports) {
    throw new JsonProblem(
      405,
      { code: "NotImportable", message: "Files are imported into a calendar or an address book." },
      { allow: "OPTIONS" },
    );
  }
  const type = mediaType(m.req.headers["content-type"]);
  if (!imports.mediaTypes.includes(type)) {
    throw new JsonProblem(415, {
      code: "UnsupportedMediaType",
      message: `A ${KIND_NAMES[t.col.kind] ?? t.col.kind} imports ${imports.mediaTypes.join(" or ")}, not ${type || "a body without a Content-Type"}.`,
    });
  }
  if (m.req.body.length === 0)
    throw new JsonProblem(400, { code: "EmptyFile", message: "The file is empty." });
  // A file this kind cannot read at all is refused now, not by a task that fails at once.
  let count: number;
  try {
    count = imports.split(m.req.body, m.ctx.config.maxResourceSize).length;
  } catch (err) {
    throw new JsonProblem(400, { code: "UnreadableFile", message: (err as Error).message });
  }
  if (count === 0) {
    const what = t.col.kind === "calendar" ? "calendar components" : "vCards";
    throw new JsonProblem(400, { code: "EmptyFile", message: `The file holds no ${what}.` });
  }
  const task = await start(m, t.col, "import", plan.onConflict, m.req.body, type);
  // Deployed, the worker function takes it; locally it runs in this process. The request returns at once.
  if (m.ctx.dispatchTask) await dispatch(m, task);
  else void runImport(m.ctx, m.registry, m.user, task);
  return json(202, taskView(task), { location: taskHref(task.id), etag: taskEtag(task) });
}

/** Start an export task of the collection: its result is written in parts for clients to fetch. */
async function startExport(m: ResourceContext): Promise<DavResponse> {
  const t = m.target;
  if (t.type !== "collection" || !m.registry.collectionType(t.col.kind).exporter) {
    throw new JsonProblem(
      405,
      { code: "NotExportable", message: "A calendar or an address book is exported." },
      { allow: "OPTIONS" },
    );
  }
  const task = await start(m, t.col, "export", "skip", Buffer.alloc(0), "");
  if (m.ctx.dispatchTask) await dispatch(m, task);
  else void runExport(m.ctx, m.registry, task);
  return json(202, taskView(task), { location: taskHref(task.id), etag: taskEtag(task) });
}

/** Hand the task to the worker function; if that fails, the task ends failed and the client may retry (503). */
async function dispatch(m: ResourceContext, task: TaskRecord): Promise<void> {
  try {
    await m.ctx.dispatchTask!({ owner: task.owner, id: task.id });
  } catch (err) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "task dispatch failed",
        task: task.id,
        error: String((err as Error)?.message ?? err),
      }),
    );
    await finishTask(
      m.ctx.store,
      { ...task, failed: 1, errors: [{ uid: "", reason: "The worker could not be started." }] },
      "failed",
    );
    throw new JsonProblem(
      503,
      { code: "WorkerUnavailable", message: "The task's worker could not be started; try again shortly." },
      { "retry-after": "5" },
    );
  }
}

/** Take the collection's task lock (409 naming the running task when another holds it). */
async function start(
  m: ResourceContext,
  col: CollectionRecord,
  kind: "import" | "export",
  onConflict: OnConflict,
  upload: Buffer,
  contentType: string,
): Promise<TaskRecord> {
  try {
    return await startTask(m.ctx.store, {
      owner: col.owner,
      kind,
      col,
      onConflict,
      upload,
      contentType,
      leaseMs: m.ctx.config.taskLeaseMs,
    });
  } catch (err) {
    if (err instanceof TaskConflict) {
      const what = err.runningKind === "import" ? "An import" : "An export";
      throw new JsonProblem(
        409,
        {
          code: "TaskConflict",
          message: `${what} is already running on this ${KIND_NAMES[col.kind] ?? "collection"}.`,
          task: err.runningKind,
          runningTaskId: err.runningTaskId,
        },
        { location: taskHref(err.runningTaskId) },
      );
    }
    throw err;
  }
}

const notFound = () => new JsonProblem(404, { code: "NotFound", message: "There is no such task." });

/** `/tasks/<id>`: GET its state, PATCH to cancel it. */
async function handleTask(m: Parameters<Endpoint["handle"]>[0], segments: string[]): Promise<DavResponse> {
  const id = segments[0];
  const partOf = segments.length === 3 && segments[1] === "result" ? /^\d{1,4}$/.exec(segments[2]) : null;
  if (segments.length !== 1 && !partOf) throw notFound();
  if (m.req.method !== "GET" && m.req.method !== "HEAD" && m.req.method !== "PATCH") {
    throw new JsonProblem(
      405,
      { code: "MethodNotAllowed", message: `${m.req.method} is not supported on a task.` },
      {
        allow: "GET, HEAD, PATCH",
      },
    );
  }
  // Another user's task does not exist for this one.
  let task = /^[0-9a-f-]{36}$/.test(id) ? await getTask(m.ctx.store, m.user.name, id) : undefined;
  if (!task) throw notFound();
  if (partOf) return resultPart(m, task, Number(partOf[0]));
  // A running task whose lease ran out (its worker died) is recorded as failed when it is read.
  if (task.state === "running" && (await runningTask(m.ctx.store, task.collection.id)) !== task.id) {
    const stopped = {
      ...task,
      errors: [...task.errors, { uid: "", reason: "The worker stopped; its lease ran out." }],
    };
    await finishTask(m.ctx.store, stopped, "failed");
    task = (await getTask(m.ctx.store, m.user.name, id)) ?? task;
  }
  if (m.req.method !== "PATCH") {
    const answer = json(200, taskView(task), { etag: taskEtag(task) });
    return m.req.method === "HEAD" ? { ...answer, body: undefined } : answer;
  }
  return cancel(m, task);
}

/** Part n of a finished export, as its collection's media type. */
async function resultPart(
  m: Parameters<Endpoint["handle"]>[0],
  task: TaskRecord,
  n: number,
): Promise<DavResponse> {
  if (m.req.method !== "GET" && m.req.method !== "HEAD") {
    throw new JsonProblem(
      405,
      { code: "MethodNotAllowed", message: "A result part is read with GET." },
      { allow: "GET, HEAD" },
    );
  }
  if (task.kind !== "export" || task.state !== "done" || n >= task.resultParts) throw notFound();
  const body = await readResultPart(m.ctx.store, task.owner, task.id, n);
  if (!body) throw notFound();
  const contentType = m.registry.collectionType(task.collection.kind).contentType;
  return {
    status: 200,
    headers: {
      "content-type": contentType,
      "cache-control": "no-store",
      "content-length": String(body.length),
    },
    body: m.req.method === "HEAD" ? undefined : body,
  };
}

const tasksEndpoint: Endpoint = {
  methods: ["GET", "HEAD", "PATCH"],
  options: { "accept-patch": "application/merge-patch+json" },
  handle: handleTask,
};

/** RFC 5789 PATCH with a JSON merge patch (RFC 7396): the one change a task takes is `{"state":"cancelled"}`. */
async function cancel(m: Parameters<Endpoint["handle"]>[0], task: TaskRecord): Promise<DavResponse> {
  const type = mediaType(m.req.headers["content-type"]);
  if (type !== "application/merge-patch+json") {
    throw new JsonProblem(
      415,
      {
        code: "UnsupportedPatch",
        message: "A task takes a JSON merge patch (application/merge-patch+json).",
      },
      { "accept-patch": "application/merge-patch+json" },
    );
  }
  let patch: unknown;
  try {
    patch = JSON.parse(m.req.body.toString("utf8"));
  } catch {
    throw new JsonProblem(400, { code: "MalformedPatch", message: "The patch is not JSON." });
  }
  // RFC 7396: an empty merge patch changes nothing.
  if (
    typeof patch === "object" &&
    patch !== null &&
    !Array.isArray(patch) &&
    Object.keys(patch).length === 0
  ) {
    return json(200, taskView(task), { etag: taskEtag(task) });
  }
  if (
    typeof patch !== "object" ||
    patch === null ||
    Array.isArray(patch) ||
    Object.keys(patch).length !== 1 ||
    (patch as Record<string, unknown>).state !== "cancelled"
  ) {
    throw new JsonProblem(422, {
      code: "UnprocessablePatch",
      message: 'The one change a task takes is {"state":"cancelled"}.',
    });
  }
  const ifMatch = m.req.headers["if-match"]?.trim();
  let version: number | undefined;
  if (ifMatch && ifMatch !== "*") {
    const match = ifMatch
      .split(",")
      .map((s) => s.trim())
      .find((tag) => tag === taskEtag(task));
    if (!match) throw precondition(task);
    version = task.version;
  }
  try {
    const cancelled = await cancelTask(m.ctx.store, task.owner, task.id, version);
    return json(200, taskView(cancelled), { etag: taskEtag(cancelled) });
  } catch (err) {
    if (err instanceof EtagMismatch) throw precondition(task);
    if (err instanceof TaskEnded) {
      throw new JsonProblem(409, {
        code: "TaskEnded",
        message: `The task is ${err.state} already; only a running task can be cancelled.`,
        state: err.state,
        task: taskHref(task.id),
      });
    }
    throw err;
  }
}

const precondition = (task: TaskRecord) =>
  new JsonProblem(
    412,
    { code: "PreconditionFailed", message: "The task changed since that ETag (If-Match)." },
    {
      etag: taskEtag(task),
    },
  );

const importable = (a: Address) => a.type === "collection" && !nests(a.kind);

/** A task runs as the collection's owner, on their own path: not through a view of a shared one. */
function ownOnly(m: MethodContext): string {
  if (viewed(m.target)) {
    throw new JsonProblem(403, {
      code: "SharedWithYou",
      message:
        "Import and export tasks run on your own calendars and address books, not on one shared with you.",
    });
  }
  return "{DAV:}bind";
}

export const tasks: DavModule = {
  name: "tasks",
  methods: { POST: { allowedOn: importable, prepare: prepareImport, privilege: ownOnly, run: startImport } },
  endpoints: { tasks: tasksEndpoint },
};
