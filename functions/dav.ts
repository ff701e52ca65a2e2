/**
 * The single Lambda entry point for every DAV method. It only translates: event → DavRequest →
 * core → event result in the shape the front door sent.
 */
import {
  eventShape,
  requestFromEvent,
  resultForEvent,
  type FrontDoorEvent,
} from "../lib/http/lambda-events.js";
import { createDynamoClient, storeConfigFromEnv } from "../lib/store/client.js";
import { defaultServerConfig, handle, type DavContext } from "../lib/server.js";

let context: DavContext | undefined;

function getContext(): DavContext {
  if (!context) {
    const storeConfig = storeConfigFromEnv();
    context = {
      store: { client: createDynamoClient(storeConfig), tableName: storeConfig.tableName },
      config: defaultServerConfig(),
    };
  }
  return context;
}

export async function handler(event: FrontDoorEvent) {
  const shape = eventShape(event);
  const request = requestFromEvent(event);
  const response = await handle(getContext(), request);
  return resultForEvent(shape, response);
}
