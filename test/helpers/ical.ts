/**
 * Calendar test helpers: iCalendar builders, fixture loading, and a small CalDAV client over a
 * `TestServer` that can also look straight into the DynamoDB table (items per collection, the UID
 * reservation, the change log), so tests check what was stored and not only what was answered.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { GetItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { getCollection, type CollectionRecord } from "../../lib/store/collections.js";
import { colPk, uidKey } from "../../lib/store/keys.js";
import { parseXml, type XmlElement } from "../../lib/xml/parse.js";
import { NS } from "../../lib/xml/names.js";
import type { RequestOptions, TestResponse, TestServer } from "./server.js";

export const CALDAV = "urn:ietf:params:xml:ns:caldav";
export const CS = "http://calendarserver.org/ns/";

// ---------------------------------------------------------------------------------------------
// iCalendar builders

/** A minimal Europe/Berlin VTIMEZONE (standard time only), as component lines. */
export const BERLIN_VTIMEZONE = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:STANDARD",
  "DTSTART:19701025T030000",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** A VCALENDAR (CRLF line endings) around the given component lines. */
export function vcalendar(...lines: string[]): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//lambda-dav tests//EN",
    ...lines,
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

export interface EventOptions {
  uid: string;
  summary?: string;
  /** `YYYYMMDDTHHMMSSZ`; default 2024-06-01 10:00 UTC. */
  start?: string;
  end?: string;
  extra?: string[];
}

export function veventLines(o: EventOptions): string[] {
  return [
    "BEGIN:VEVENT",
    `UID:${o.uid}`,
    "DTSTAMP:20240101T000000Z",
    `DTSTART:${o.start ?? "20240601T100000Z"}`,
    `DTEND:${o.end ?? "20240601T110000Z"}`,
    `SUMMARY:${o.summary ?? `Event ${o.uid}`}`,
    ...(o.extra ?? []),
    "END:VEVENT",
  ];
}

/** One VEVENT in its VCALENDAR. */
export function event(uid: string, summary?: string, extra: Partial<EventOptions> = {}): string {
  return vcalendar(...veventLines({ uid, summary, ...extra }));
}

export function todo(uid: string, summary = `Task ${uid}`): string {
  return vcalendar(
    "BEGIN:VTODO",
    `UID:${uid}`,
    "DTSTAMP:20240101T000000Z",
    "DUE:20240610T170000Z",
    `SUMMARY:${summary}`,
    "END:VTODO",
  );
}

/** A fixture from test/fixtures/ical/, byte for byte. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/ical/${name}`, import.meta.url));
}

/** The UID of a single-UID iCalendar text (unfolded), for assertions. */
export function uidOf(ics: Buffer | string): string {
  const text = (typeof ics === "string" ? ics : ics.toString("utf8")).replace(/\r?\n[ \t]/g, "");
  const m = /^UID:(.*?)\r?$/m.exec(text);
  assert.ok(m, "the iCalendar text has a UID");
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// XML answers

/** The single precondition element of a `DAV:error` body, and its `DAV:href` children. */
export function davError(res: TestResponse): { name: string; hrefs: string[]; root: XmlElement } {
  assert.match(res.headers.get("content-type") ?? "", /^application\/xml/, `a DAV:error body: ${res.body}`);
  const root = parseXml(res.body);
  assert.equal(root.name, "{DAV:}error", res.body);
  const pre = root.children.find((c) => c.ns !== NS.SERVER);
  assert.ok(pre, `a precondition element in ${res.body}`);
  return {
    name: pre.name,
    hrefs: pre.children.filter((c) => c.name === "{DAV:}href").map((c) => c.text.trim()),
    root,
  };
}

/** Asserts a 4xx answer says why: a DAV:error body or a non-empty plain-text reason, never a stack. */
export function assertExplained(res: TestResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body}`);
  const type = res.headers.get("content-type") ?? "";
  if (type.startsWith("application/xml")) {
    assert.ok(parseXml(res.body).name.startsWith("{DAV:}"), res.body);
  } else {
    assert.match(type, /^text\/plain/, `content-type of a ${status}`);
    assert.ok(res.body.trim().length > 10, `a reason: '${res.body}'`);
  }
  assert.doesNotMatch(res.body, /\n\s+at .*:\d+:\d+/, "no stack trace");
  assert.doesNotMatch(res.body, /ValidationException|ConditionalCheck|TransactionCanceled/);
}

// ---------------------------------------------------------------------------------------------
// A CalDAV client with a view into the table

export class CalClient {
  constructor(
    readonly server: TestServer,
    readonly user = "alice",
  ) {}

  get store() {
    return this.server.ctx.store;
  }

  req(method: string, path: string, init: RequestOptions = {}): Promise<TestResponse> {
    return this.server.request(method, path, { user: this.user, ...init });
  }

  calHref(name: string): string {
    return `/calendars/${this.user}/${name}/`;
  }

  mkcalendar(name: string, body?: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.req("MKCALENDAR", this.calHref(name), {
      body,
      headers: body ? { "content-type": "application/xml; charset=utf-8", ...headers } : headers,
    });
  }

  /** MKCALENDAR that must succeed; returns the stored collection. */
  async newCalendar(name: string, body?: string): Promise<CollectionRecord> {
    const res = await this.mkcalendar(name, body);
    assert.equal(res.status, 201, res.body);
    return (await this.collection(name))!;
  }

  put(
    cal: string,
    name: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    return this.req("PUT", `${this.calHref(cal)}${name}`, {
      body,
      headers: { "content-type": "text/calendar; charset=utf-8", ...headers },
    });
  }

  get(cal: string, name: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.req("GET", `${this.calHref(cal)}${name}`, { headers });
  }

  delete(path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    return this.req("DELETE", path, { headers });
  }

  collection(name: string): Promise<CollectionRecord | undefined> {
    return getCollection(this.store, { kind: "calendar", owner: this.user, name });
  }

  /** CS:getctag and DAV:sync-token of a calendar, through PROPFIND Depth: 0. */
  async ctag(name: string): Promise<{ ctag: string; syncToken: string }> {
    const res = await this.req("PROPFIND", this.calHref(name), {
      headers: { depth: "0", "content-type": "application/xml; charset=utf-8" },
      body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="${CS}"><D:prop><CS:getctag/><D:sync-token/></D:prop></D:propfind>`,
    });
    assert.equal(res.status, 207, res.body);
    const find = (el: XmlElement, name: string): XmlElement | undefined =>
      el.name === name ? el : el.children.map((c) => find(c, name)).find(Boolean);
    const root = parseXml(res.body);
    return {
      ctag: find(root, `{${CS}}getctag`)?.text.trim() ?? "",
      syncToken: find(root, "{DAV:}sync-token")?.text.trim() ?? "",
    };
  }

  /** Every item of a collection's partition, grouped by kind of sort key (O#, U#, S#). */
  async items(colId: string): Promise<{ objects: Item[]; uids: Item[]; changes: Item[]; all: Item[] }> {
    const all = await queryPartition(this.store, colPk(colId));
    return {
      objects: all.filter((i) => i.sk.S!.startsWith("O#")),
      uids: all.filter((i) => i.sk.S!.startsWith("U#")),
      changes: all.filter((i) => i.sk.S!.startsWith("S#")),
      all,
    };
  }

  /** The UID reservation item: which resource name holds the UID, or undefined. */
  async uidHolder(colId: string, uid: string): Promise<string | undefined> {
    const { Item } = await this.store.client.send(
      new GetItemCommand({ TableName: this.store.tableName, Key: uidKey(colId, uid), ConsistentRead: true }),
    );
    return Item?.name?.S;
  }

  /** What a bad request must leave untouched: the object's bytes, the ctag and the partition. */
  async snapshot(cal: string, name: string): Promise<Snapshot> {
    const col = await this.collection(cal);
    assert.ok(col, `calendar ${cal} exists`);
    const obj = await this.get(cal, name);
    const items = await this.items(col.id);
    return {
      status: obj.status,
      etag: obj.headers.get("etag"),
      body: obj.raw.toString("base64"),
      ctag: (await this.ctag(cal)).ctag,
      seq: col.seq,
      bytes: col.bytes,
      keys: items.all.map((i) => i.sk.S!).sort(),
    };
  }
}

export type Item = Record<string, AttributeValue>;

export interface Snapshot {
  status: number;
  etag: string | null;
  body: string;
  ctag: string;
  seq: number;
  bytes: number;
  keys: string[];
}

export async function queryPartition(store: TestServer["ctx"]["store"], pk: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": { S: pk } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Milliseconds a promise took, with its value. */
export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await run();
  return { value, ms: Math.round(performance.now() - t0) };
}
