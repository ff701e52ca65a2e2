/** A worker's turn at a task of either kind (the deployed worker function runs this). */
import { finishTask, getTask } from "../store/tasks.js";
import { getUser } from "../store/users.js";
import type { DavContext } from "../webdav/context.js";
import type { Registry } from "../webdav/registry.js";
import { runExport } from "./export.js";
import { runImport, type RunOutcome } from "./import.js";

/**
 * A worker's turn at a task (the deployed worker function): load it, run it until it ends or
 * `shouldPause` says the time is nearly up, and say whether another turn must resume it from its
 * checkpoint. A task that is not running (done, cancelled, or taken over) needs nothing more.
 */
export async function resumeTask(
  ctx: DavContext,
  registry: Registry,
  ref: { owner: string; id: string },
  shouldPause: () => boolean,
): Promise<RunOutcome> {
  const task = await getTask(ctx.store, ref.owner, ref.id);
  if (!task || task.state !== "running") return "ended";
  if (task.kind === "export") return runExport(ctx, registry, task);
  const user = await getUser(ctx.store, task.owner);
  if (!user) {
    await finishTask(
      ctx.store,
      {
        ...task,
        failed: task.failed + 1,
        errors: [...task.errors, { uid: "", reason: "The user no longer exists." }],
      },
      "failed",
    );
    return "ended";
  }
  return runImport(ctx, registry, user, task, { shouldPause });
}
