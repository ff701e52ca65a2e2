/**
 * The single Lambda entry point for every DAV method. It only translates: event → DavRequest →
 * core → event result in the shape the front door sent, and logs one JSON line per request
 * (never headers or bodies, so no credentials reach the logs).
 */
import {
  eventShape,
  requestFromEvent,
  resultForEvent,
  type FrontDoorEvent,
  type FrontDoorResult,
} from "../lib/http/lambda-events.js";
import { createDynamoClient, storeConfigFromEnv } from "../lib/store/client.js";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { defaultServerConfig, handle, MODULES, type DavContext, type DavServer } from "../lib/server.js";
import { resumeTask } from "../lib/tasks/resume.js";
import { createImipHandler } from "./imip.js";
import { createPushHandler } from "./push.js";
import { Registry } from "../lib/webdav/registry.js";

/** `dav`: the server to answer with (tests assemble one with extra modules); the standard one by default. */
export function createHandler(getContext: () => DavContext, dav: Pick<DavServer, "handle"> = { handle }) {
  return async (event: FrontDoorEvent): Promise<FrontDoorResult> => {
    const started = Date.now();
    const shape = eventShape(event);
    const request = requestFromEvent(event);
    const response = await dav.handle(getContext(), request);
    if (process.env.DAV_ACCESS_LOG !== "0") {
      console.log(
        JSON.stringify({
          method: request.method,
          path: request.rawPath,
          status: response.status,
          durationMs: Date.now() - started,
          user: request.principal ?? null,
        }),
      );
    }
    return resultForEvent(shape, response);
  };
}

let context: DavContext | undefined;

/** Sends a started task to the worker function (DAV_TASK_WORKER), which runs it on its own time. */
function taskDispatcher(workerName: string, invoke: Invoker = lambdaInvoker()) {
  return (task: { owner: string; id: string }) => invoke(workerName, task);
}

export type Invoker = (functionName: string, payload: { owner: string; id: string }) => Promise<void>;

/** An asynchronous invocation (InvocationType Event): the caller does not wait for the run. */
function lambdaInvoker(): Invoker {
  let client: LambdaClient | undefined;
  return async (functionName, payload) => {
    client ??= new LambdaClient({});
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  };
}

function contextFromEnv(): DavContext {
  if (!context) {
    const storeConfig = storeConfigFromEnv();
    const worker = process.env.DAV_TASK_WORKER;
    context = {
      store: { client: createDynamoClient(storeConfig), tableName: storeConfig.tableName },
      config: defaultServerConfig(),
      ...(worker ? { dispatchTask: taskDispatcher(worker) } : {}),
    };
  }
  return context;
}

/** Built on first use from the environment (TABLE_NAME, DYNAMODB_ENDPOINT, DAV_*), then reused while warm. */
export const handler = createHandler(contextFromEnv);

/** A minute is kept for the last objects, the checkpoint and the next invocation. */
const RESERVE_MS = 60_000;

/**
 * The worker function's entry point (`index.worker`): one turn at a task. When the invocation's
 * time is nearly up the task stops at its checkpoint and the worker invokes itself to resume it,
 * so an import is never bound by one invocation's timeout.
 */
export function createWorker(
  getContext: () => DavContext,
  invoke: Invoker = lambdaInvoker(),
  registry = new Registry(MODULES),
) {
  return async (
    event: { owner: string; id: string },
    lambdaContext: { functionName: string; getRemainingTimeInMillis(): number },
  ): Promise<{ outcome: string }> => {
    const outcome = await resumeTask(
      getContext(),
      registry,
      event,
      () => lambdaContext.getRemainingTimeInMillis() < RESERVE_MS,
    );
    if (outcome === "paused") {
      try {
        await invoke(lambdaContext.functionName, event);
      } catch (err) {
        // The next turn cannot start: the task's lease runs out and it is recorded failed when read
        // or when the next task on its collection takes over; the alarm on worker errors fires.
        console.error(
          JSON.stringify({ level: "error", msg: "worker could not resume itself", task: event.id }),
        );
        throw err;
      }
    }
    return { outcome };
  };
}

export const worker = createWorker(contextFromEnv);

/** E-mailed replies to invitations (SES receiving → SNS → `index.imip`), on the same context. */
export const imip = createImipHandler(contextFromEnv);

/** WebDAV-Push delivery from the table's stream (`index.push`), on the same context. */
export const push = createPushHandler(contextFromEnv);
