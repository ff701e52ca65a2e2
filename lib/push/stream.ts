/**
 * The local stand-in for Lambda's stream event source: polls the table's stream on DynamoDB Local
 * (`@aws-sdk/client-dynamodb-streams`) and hands each batch to the same delivery code the push
 * function runs, so the local path and the deployed one differ only in who polls. A batch is what
 * what arrived until a poll finds nothing new (at most a few seconds), which is what collapses a
 * burst of changes into one message per collection.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import type { Store } from "../store/client.js";
import type { PushConfig } from "../webdav/context.js";
import { logged } from "../webdav/registry.js";
import { changesOf, notify, type Delivery } from "./deliver.js";

export interface StreamPoller {
  stop(): Promise<void>;
  /** Resolves after the next complete poll (tests wait on it). */
  polled(): Promise<void>;
}

export async function pollStream(
  store: Store,
  config: PushConfig,
  opts: { endpoint: string; intervalMs?: number; windowMs?: number; onDelivery?: (d: Delivery) => void },
): Promise<StreamPoller> {
  const streams = new DynamoDBStreamsClient({
    endpoint: opts.endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const { Table } = await store.client.send(new DescribeTableCommand({ TableName: store.tableName }));
  const arn = Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${store.tableName} has no stream`);
  /** Open shards and where we are in each. */
  const iterators = new Map<string, string | undefined>();
  const discover = async () => {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (iterators.has(id)) continue;
      // A shard there when we start: from now on; one that opens later: from its beginning.
      const type = started ? "TRIM_HORIZON" : "LATEST";
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: id, ShardIteratorType: type }),
      );
      iterators.set(id, ShardIterator);
    }
  };
  let started = false;
  await discover();
  started = true;
  let running = true;
  let waiters: (() => void)[] = [];
  /** Records read but not yet delivered, and when the first of them came. */
  let pending: _Record[] = [];
  let since = 0;
  let failures = 0;
  /** The last record read of each shard, to pick up after an iterator that expired. */
  const last = new Map<string, string>();
  const iteratorAfter = async (id: string): Promise<string | undefined> => {
    const after = last.get(id);
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: arn,
        ShardId: id,
        ...(after
          ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after }
          : { ShardIteratorType: "LATEST" }),
      }),
    );
    return ShardIterator;
  };
  const poll = async () => {
    let read = 0;
    for (const [id, it] of iterators) {
      if (!it) continue;
      try {
        const res = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
        const records = res.Records ?? [];
        if (records.length && !pending.length) since = Date.now();
        pending.push(...records);
        read += records.length;
        const seq = records.at(-1)?.dynamodb?.SequenceNumber;
        if (seq) last.set(id, seq);
        iterators.set(id, res.NextShardIterator);
      } catch (err) {
        // An iterator that expired (a laptop that slept) or data trimmed meanwhile: go on from the
        // last record read (or from now), one shard's trouble not holding up the others.
        console.error(JSON.stringify({ level: "warn", msg: "stream shard read failed", error: String(err) }));
        iterators.set(id, await iteratorAfter(id).catch(() => undefined));
      }
    }
    // Changes keep coming: wait for a quiet poll (or the window's end), then send once per
    // collection, as Lambda's batching window does deployed.
    if (pending.length && (read === 0 || Date.now() - since >= (opts.windowMs ?? 3000))) {
      const batch = pending;
      pending = [];
      try {
        const delivery = await notify(store, config, changesOf(batch));
        failures = 0;
        opts.onDelivery?.(delivery);
      } catch (err) {
        // Kept for the next poll a couple of times (the VAPID key could not be read), then dropped.
        if (++failures < 3) pending = [...batch, ...pending];
        throw err;
      }
    }
    await discover();
  };
  const loop = (async () => {
    while (running) {
      await logged("polling the table's stream failed", poll);
      const done = waiters;
      waiters = [];
      for (const w of done) w();
      if (running) await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      streams.destroy();
    },
    polled: () => new Promise<void>((r) => waiters.push(r)),
  };
}
