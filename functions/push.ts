/**
 * The push entry point (`index.push`): Lambda's event source mapping hands it batches of the
 * table's stream (keys only), gathered over a short batching window; the core turns the change-log
 * entries among them into one push message per changed collection. One JSON log line per batch.
 */
import type { DynamoDBStreamEvent } from "aws-lambda";
import { changesOf, notify } from "../lib/push/deliver.js";
import type { DavContext } from "../lib/webdav/context.js";

export function createPushHandler(getContext: () => DavContext) {
  return async (event: DynamoDBStreamEvent) => {
    const ctx = getContext();
    const changes = changesOf(event.Records as Parameters<typeof changesOf>[0]);
    const delivery = await notify(ctx.store, ctx.config.push, changes);
    console.log(
      JSON.stringify({
        msg: "push",
        records: event.Records.length,
        collections: changes.length,
        ...delivery,
      }),
    );
    return delivery;
  };
}
