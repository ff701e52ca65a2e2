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
import { defaultServerConfig, handle, type DavContext, type DavServer } from "../lib/server.js";

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

/** Built on first use from the environment (TABLE_NAME, DYNAMODB_ENDPOINT, DAV_*), then reused while warm. */
export const handler = createHandler(() => {
  if (!context) {
    const storeConfig = storeConfigFromEnv();
    context = {
      store: { client: createDynamoClient(storeConfig), tableName: storeConfig.tableName },
      config: defaultServerConfig(),
    };
  }
  return context;
});
