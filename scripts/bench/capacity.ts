/**
 * Cost per DAV operation: an in-process server on the bench's own DynamoDB Local table, whose
 * client asks every call for `ReturnConsumedCapacity: INDEXES` and adds up calls, read and write
 * units per request; a transaction's parts are sized as DynamoDB sizes items, for a breakdown.
 */
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Server } from "node:http";
import { createHandler } from "../../functions/dav.js";
import { createLocalServer } from "../../lib/http/node-server.js";
import { createDynamoClient } from "../../lib/store/client.js";
import { defaultServerConfig, type DavContext } from "../../lib/server.js";

/** On-demand prices, us-east-1, per million request units (aws.amazon.com/dynamodb/pricing, since Nov 2024). */
export const PRICE = { read: 0.125, write: 0.625 };

export interface Usage {
  calls: number;
  reads: number;
  /** Write units as DynamoDB Local reports them (it counts a transaction's items once, not twice). */
  writes: number;
  /** Write units as DynamoDB bills them: a transaction's parts at 2 per KB (ConditionChecks too), plus its index writes. */
  billedWrites: number;
  /** Units by table or index. */
  byIndex: Record<string, number>;
  /** The last transaction's parts: what the item is, its size, its units (2 per KB, transactional). */
  parts: { part: string; bytes: number; units: number }[];
  commands: string[];
}

const empty = (): Usage => ({
  calls: 0,
  reads: 0,
  writes: 0,
  billedWrites: 0,
  byIndex: {},
  parts: [],
  commands: [],
});

/** DynamoDB's item size: attribute names plus values (docs: "Item sizes and formats"). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + valueBytes(v);
  return n;
}
function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, "").length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M) return 3 + Object.keys(v.M).length + itemBytes(v.M);
  if (v.L) return 3 + v.L.length + v.L.reduce((s, x) => s + valueBytes(x), 0);
  if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  return 0;
}

const KINDS: [RegExp, string][] = [
  [/^C#/, "collection item"],
  [/^O#/, "member item"],
  [/^M#/, "member metadata item"],
  [/^U#/, "UID reservation"],
  [/^S#/, "change-log entry"],
  [/^SEQ$/, "home sequence"],
  [/^L#|LOCK/, "lock"],
];
const partName = (sk: string | undefined) => KINDS.find(([re]) => re.test(sk ?? ""))?.[1] ?? `item ${sk}`;

type Part = { Put?: { Item?: Record<string, AttributeValue> } } & Record<
  string,
  { Key?: Record<string, AttributeValue>; Item?: Record<string, AttributeValue> } | undefined
>;

/** Meter `client`: every call asks for its consumed capacity, which adds to `usage.current`. */
export function meter(client: DynamoDBClient, plain: DynamoDBClient, tableName: string) {
  const usage = { current: empty() };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = "INDEXES";
      const name = context.commandName ?? "?";
      const u = usage.current;
      if (name === "TransactWriteItemsCommand") {
        u.parts = [];
        for (const part of input.TransactItems as Part[]) {
          const [type, body] = Object.entries(part)[0] as [string, NonNullable<Part[string]>];
          let item = body.Item;
          if (!item && body.Key) {
            // The size DynamoDB charges is the item's as stored (an update: the larger of before and after).
            item = (await plain.send(new GetItemCommand({ TableName: tableName, Key: body.Key }))).Item;
          }
          const bytes = item ? itemBytes(item) : 0;
          const sk = (body.Item ?? body.Key)?.sk?.S;
          u.parts.push({
            part: `${type} ${partName(sk)}`,
            bytes,
            units: 2 * Math.max(1, Math.ceil(bytes / 1024)),
          });
        }
      }
      let out;
      try {
        out = await next(args);
      } catch (err) {
        u.calls++;
        u.commands.push(`${name.replace(/Command$/, "")} failed (${(err as Error).name})`);
        throw err;
      }
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as {
        CapacityUnits?: number;
        Table?: { CapacityUnits?: number };
        GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
      }[];
      const write = /Put|Update|Delete|TransactWrite|BatchWrite/.test(name);
      u.calls++;
      u.commands.push(name.replace(/Command$/, ""));
      if (name === "TransactWriteItemsCommand") u.billedWrites += u.parts.reduce((n, x) => n + x.units, 0);
      for (const c of list) {
        if (write) u.writes += c.CapacityUnits ?? 0;
        else u.reads += c.CapacityUnits ?? 0;
        if (write && name !== "TransactWriteItemsCommand") u.billedWrites += c.CapacityUnits ?? 0;
        if (write && name === "TransactWriteItemsCommand")
          for (const v of Object.values(c.GlobalSecondaryIndexes ?? {}))
            u.billedWrites += v.CapacityUnits ?? 0;
        u.byIndex.table = (u.byIndex.table ?? 0) + (c.Table?.CapacityUnits ?? 0);
        for (const [ix, v] of Object.entries(c.GlobalSecondaryIndexes ?? {}))
          u.byIndex[ix] = (u.byIndex[ix] ?? 0) + (v.CapacityUnits ?? 0);
      }
      return out;
    },
    { step: "initialize", name: "benchCapacity" },
  );
  return {
    /** The usage of everything `run` makes the server do. */
    async of(run: () => Promise<unknown>): Promise<Usage> {
      const u = empty();
      usage.current = u;
      await run();
      // What the bench does between measurements (reading an ETag, making a calendar) is not counted.
      usage.current = empty();
      return u;
    },
  };
}

/** This server, in process, on the table of the running bench instance, with a metered client. */
export async function meteredServer(endpoint: string, tableName: string) {
  const client = createDynamoClient({ tableName, endpoint });
  const plain = createDynamoClient({ tableName, endpoint });
  const meterer = meter(client, plain, tableName);
  const ctx: DavContext = {
    store: { client, tableName },
    config: defaultServerConfig({}),
    authDelay: async () => {},
  };
  const server: Server = createLocalServer(createHandler(() => ctx));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const url = new URL(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`);
  return {
    url,
    meter: meterer,
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      client.destroy();
      plain.destroy();
    },
  };
}
