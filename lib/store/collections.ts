/**
 * Collections (calendars, address books): one item each in the owner's home partition, holding the
 * collection's random id, its change sequence number (the ctag and sync token derive from it), byte
 * count and properties. Members live in the `COL#<id>` partition (objects.ts). Every change to a
 * collection or its members advances the collection's sequence and logs the change in the same
 * transaction; creating, changing or deleting a collection also advances its home's sequence and
 * logs it in the home's partition, for a sync of the home.
 */
import { GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";
import { logChange, type Change } from "./change-log.js";
import type { Store } from "./client.js";
import { AlreadyExists, EtagMismatch, NotFound, ParentMissing, SharedCollection } from "./errors.js";
import { RoundExpectation, satisfies, type Expectation } from "./expectation.js";
import {
  collectionKey,
  colPk,
  homePk,
  homeSeqKey,
  inviteKey,
  objectKey,
  uidKey,
  type CollectionKind,
} from "./keys.js";
import { markForPurge, purgeCollection } from "./purge.js";
import { queryAll, type Item } from "./query.js";
import { RETRY, withRetries } from "./transact.js";
import {
  Contains,
  leafOf,
  MAX_FOLDERS_PER_WRITE,
  NameTooLong,
  nests,
  parentFolder,
  sameFolder,
  TooManyFolders,
  treeIs,
  within,
} from "./folders.js";
import {
  absent,
  allOf,
  anyOf,
  equals,
  guardFailure,
  lacks,
  pathEquals,
  WriteTx,
  type Cond,
  type Guard,
  type TxFailures,
} from "./tx.js";
import {
  grantsFromAttr,
  isViewItem,
  viewOfAttr,
  viewOfItem,
  type ShareGrant,
  type ViewInfo,
} from "./views.js";

export interface CollectionRecord {
  kind: CollectionKind;
  owner: string;
  name: string;
  id: string;
  /** Sequence number of the last change; the sync token and ctag derive from it. */
  seq: number;
  /** Total size of the members' bodies, for quota reporting. */
  bytes: number;
  created: string;
  modified: string;
  /** Live properties the server understands, as plain text (displayname, calendar-timezone, …). */
  props: Record<string, string>;
  /** Dead properties: Clark name → inner XML, returned verbatim. */
  dead: Record<string, string>;
  /** Calendar component types accepted (supported-calendar-component-set). */
  components?: string[];
  /** A folder's count of folders made in it (folders.ts): a delete of its subtree is conditioned on it. */
  tree: number;
  /**
   * When the last lock rooted in this collection (on it, or on a member) runs out, in ms; 0 when
   * there never was one; absent when unknown (an item older than the attribute), which keeps
   * every lock checked path by path. Every LOCK and refresh there raises it in its own transaction, so a
   * member write that reads it in the past needs no per-path lock checks (store/locks.ts).
   */
  lockedUntil?: number;
  /** The users it is shared with, and how (views.ts); absent or empty when it is not shared. */
  shares?: Record<string, ShareGrant>;
  /** Advances with every change of `shares`: a delete that read the grants is conditioned on it. */
  shareSeq?: number;
  /** Present when read through a sharee's view: where the sharee sees it and what they may do there. */
  view?: ViewInfo;
}

export interface CollectionRef {
  kind: CollectionKind;
  owner: string;
  name: string;
}

/** The collection's version as an entity tag: it changes with every change to the collection or a member. */
export function collectionEtag(col: Pick<CollectionRecord, "id" | "seq"> & { tree?: number }): string {
  // A folder changes too when a folder is made in it or leaves it (its tree counter).
  return col.tree ? `"${col.id}-${col.seq}-${col.tree}"` : `"${col.id}-${col.seq}"`;
}

export const strMap = (m: Record<string, string>): AttributeValue => ({
  M: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { S: v }])),
});
const fromStrMap = (a: AttributeValue | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(a?.M ?? {}).map(([k, v]) => [k, v.S ?? ""]));

export function collectionFromItem(item: Item): CollectionRecord {
  return {
    kind: item.kind.S as CollectionKind,
    owner: item.owner.S!,
    name: item.name.S!,
    id: item.id.S!,
    seq: Number(item.seq.N),
    bytes: Number(item.bytes?.N ?? 0),
    created: item.created.S!,
    modified: item.modified.S!,
    props: fromStrMap(item.props),
    dead: fromStrMap(item.dead),
    components: item.components?.L?.map((c) => c.S!),
    tree: Number(item.tree?.N ?? 0),
    ...(item.lockedUntil?.N ? { lockedUntil: Number(item.lockedUntil.N) } : {}),
    ...(item.shares?.M ? { shares: grantsFromAttr(item.shares) } : {}),
    ...(item.shareSeq?.N ? { shareSeq: Number(item.shareSeq.N) } : {}),
  };
}

/** The owner's grants as read: `shareSeq` unchanged (a change of them meanwhile fails the write). */
export const sharesAsRead = (col: CollectionRecord): Cond =>
  col.shareSeq === undefined ? lacks("shareSeq") : equals("shareSeq", { N: String(col.shareSeq) });

/** Whether the collection is shared with anyone (a grant pending or accepted). */
export const isShared = (col: CollectionRecord) =>
  Object.values(col.shares ?? {}).some((g) => g.status !== "declined");

/**
 * The owner's collection as the sharee of view item `item` sees it, or undefined when the view no
 * longer stands for it (un-shared, declined, or the collection deleted or replaced).
 */
export function throughView(col: CollectionRecord | undefined, item: Item): CollectionRecord | undefined {
  const of = viewOfItem(item);
  const user = item.owner.S!;
  const name = item.name.S!;
  const grant = col?.shares?.[user];
  if (!col || col.id !== of.id || grant?.status !== "accepted" || grant.view !== name) return undefined;
  return {
    ...col,
    view: { user, name, access: grant.access, props: fromStrMap(item.props), created: item.created.S! },
  };
}

/** The record an item of a home stands for: a collection, or (a view) the owner's collection as shared. */
export async function recordOf(store: Store, item: Item): Promise<CollectionRecord | undefined> {
  if (!isViewItem(item)) return collectionFromItem(item);
  const of = viewOfItem(item);
  const kind = item.kind.S as CollectionKind;
  return throughView(await getOwnCollection(store, { kind, owner: of.owner, name: of.name }), item);
}

/** The item that stores a collection record. */
function collectionItem(record: CollectionRecord): Item {
  return {
    ...collectionKey(record.kind, record.owner, record.name),
    kind: { S: record.kind },
    owner: { S: record.owner },
    name: { S: record.name },
    id: { S: record.id },
    seq: { N: String(record.seq) },
    bytes: { N: String(record.bytes) },
    created: { S: record.created },
    modified: { S: record.modified },
    props: strMap(record.props),
    dead: strMap(record.dead),
    ...(record.components ? { components: { L: record.components.map((c) => ({ S: c })) } } : {}),
    tree: { N: String(record.tree) },
    ...(record.lockedUntil !== undefined ? { lockedUntil: { N: String(record.lockedUntil) } } : {}),
  };
}

export interface NewCollection extends CollectionRef {
  props?: Record<string, string>;
  dead?: Record<string, string>;
  components?: string[];
}

/**
 * Create a collection; the condition on the key makes "must not exist" atomic (AlreadyExists). A
 * folder is placed in its parent folder in the same transaction (`placeFolder`); `replaceFile`:
 * a file of its name there is removed with it (COPY with Overwrite: T).
 */
export async function createCollection(
  store: Store,
  input: NewCollection,
  guards: readonly Guard[] = [],
  replaceFile = false,
): Promise<CollectionRecord> {
  const now = new Date().toISOString();
  const record: CollectionRecord = {
    kind: input.kind,
    owner: input.owner,
    name: input.name,
    id: randomBytes(12).toString("base64url"),
    seq: 0,
    bytes: 0,
    created: now,
    modified: now,
    props: input.props ?? {},
    dead: input.dead ?? {},
    components: input.components,
    tree: 0,
    // Made now, no lock is rooted in it yet; an item without the attribute (made before it
    // existed, or moved) always has its locks checked path by path.
    lockedUntil: 0,
  };
  if (!fitsSortKey(`C#${input.name}`)) throw new NameTooLong(input.name);
  const item = collectionItem(record);
  await withRetries(async () => {
    const tx = new WriteTx(store).put("collection", item, absent).guard(guards);
    if (nests(input.kind)) await placeFolder(store, tx, record, now, replaceFile);
    await recordHomeChange(store, tx, record, { op: "put", name: record.name }, now);
    const failed = await tx.commit();
    if (!failed) return true;
    const guarded = guardFailure(failed, guards);
    if (guarded) throw guarded;
    if (failed.has("collection")) throw new AlreadyExists("collection exists");
    return placementFailure(failed, replaceFile);
  });
  return record;
}

/**
 * Add to a transaction the placement of folder `folder` in its parent folder (none for the root):
 * the parent exists and its tree counter advances (part `parent`), so a delete of the parent that
 * listed its subtree before cannot commit after; no file there holds the name (part `file`), or,
 * when `replaceFile`, the file there is removed in the same transaction (`file`, its reservation
 * `file-uid`, the parent's sequence and log `parent-sequence`/`parent-change`).
 */
async function placeFolder(
  store: Store,
  tx: WriteTx,
  folder: CollectionRef,
  now: string,
  replaceFile: boolean,
): Promise<void> {
  const parentName = parentFolder(folder.name);
  if (parentName === undefined) return;
  const parent = await getCollection(store, { kind: folder.kind, owner: folder.owner, name: parentName });
  if (!parent) throw new ParentMissing(`folder ${parentName} does not exist`);
  const leaf = leafOf(folder.name);
  const fileKey = objectKey(parent.id, leaf);
  // A name no sort key can hold names no file either.
  const fits = fitsSortKey(fileKey.sk.S!);
  const file = replaceFile && fits ? await fileAt(store, fileKey) : undefined;
  if (file) {
    recordChanges(tx, parent, [{ op: "delete", name: leaf }], {
      now,
      bytesDelta: -file.size,
      prefix: "parent-",
      tree: true,
    });
    tx.delete("file", fileKey, equals("etag", { S: file.etag }));
    tx.delete("file-uid", uidKey(parent.id, file.uid), equals("name", { S: leaf }));
    return;
  }
  advanceTree(tx, "parent", parent);
  if (fits) tx.check("file", fileKey, absent);
}

/** Part `part`: folder `col` changed its subfolders (its tree counter advances; condition: it is still there). */
function advanceTree(tx: WriteTx, part: string, col: CollectionRecord): void {
  tx.update(
    part,
    collectionKey(col.kind, col.owner, col.name),
    (e) => `ADD ${e.name("tree")} ${e.value({ N: "1" })}`,
    equals("id", { S: col.id }),
  );
}

/** What a file item holds that replacing it needs. */
async function fileAt(
  store: Store,
  key: Item,
): Promise<{ etag: string; uid: string; size: number } | undefined> {
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: key,
      ConsistentRead: true,
      ProjectionExpression: "etag, uid, #s",
      ExpressionAttributeNames: { "#s": "size" },
    }),
  );
  return Item ? { etag: Item.etag.S!, uid: Item.uid.S!, size: Number(Item.size.N) } : undefined;
}

/** What a failed placement part means: a file holds the name (AlreadyExists), or a retry. */
function placementFailure(failed: TxFailures, replaceFile: boolean): typeof RETRY {
  if (failed.has("file") && !replaceFile && failed.old("file"))
    throw new AlreadyExists("a file holds the name");
  return RETRY;
}

/** DynamoDB refuses sort keys over 1,024 bytes: nothing can be stored under a longer one. */
export const MAX_SORT_KEY_BYTES = 1024;
export const fitsSortKey = (sk: string) => Buffer.byteLength(sk) <= MAX_SORT_KEY_BYTES;

/** The item under a home's name: a collection's, or a sharee's view's. */
async function homeItem(store: Store, ref: CollectionRef): Promise<Item | undefined> {
  if (!fitsSortKey(`C#${ref.name}`)) return undefined;
  const { Item } = await store.client.send(
    new GetItemCommand({
      TableName: store.tableName,
      Key: collectionKey(ref.kind, ref.owner, ref.name),
      ConsistentRead: true,
    }),
  );
  return Item;
}

/**
 * The collection at a name of a home: the user's own, or one shared with them that their view
 * there stands for (with `view` set; its writes go to the owner's item, one collection).
 */
export async function getCollection(store: Store, ref: CollectionRef): Promise<CollectionRecord | undefined> {
  const item = await homeItem(store, ref);
  return item ? recordOf(store, item) : undefined;
}

/** The user's own collection at a name (a view there is not followed). */
export async function getOwnCollection(
  store: Store,
  ref: CollectionRef,
): Promise<CollectionRecord | undefined> {
  const item = await homeItem(store, ref);
  return item && !isViewItem(item) ? collectionFromItem(item) : undefined;
}

/** The query of every name a home holds (its collections' and its views' items). */
const homeNames = (kind: CollectionKind, owner: string) => ({
  KeyConditionExpression: "pk = :p AND begins_with(sk, :c)",
  ExpressionAttributeValues: { ":p": { S: homePk(kind, owner) }, ":c": { S: "C#" } },
  ConsistentRead: true,
});

/**
 * The collections of a home: the user's own; with `views`, also those shared with them, as their
 * views show them (a view that no longer stands for anything is left out).
 */
export async function listCollections(
  store: Store,
  kind: CollectionKind,
  owner: string,
  options: { views?: boolean } = {},
): Promise<CollectionRecord[]> {
  const items = await queryAll(store, homeNames(kind, owner), (i) => i);
  const own = items.filter((i) => !isViewItem(i)).map(collectionFromItem);
  if (!options.views) return own;
  const views = await Promise.all(items.filter(isViewItem).map((i) => recordOf(store, i)));
  return [...own, ...views.filter((v): v is CollectionRecord => v !== undefined)];
}

/** Every name a home holds, its own collections' and its views' (a new view's name must be free). */
export async function namesInHome(store: Store, kind: CollectionKind, owner: string): Promise<Set<string>> {
  const names = await queryAll(store, { ...homeNames(kind, owner), ProjectionExpression: "sk" }, (i) =>
    i.sk.S!.slice(2),
  );
  return new Set(names);
}

/**
 * The folders below a folder of a files home (whose names are paths): its direct `children`, or
 * every `descendant` at any depth. One query on the home's partition, by name prefix.
 */
export async function listFolders(
  store: Store,
  col: CollectionRecord,
  which: "children" | "descendants",
): Promise<CollectionRecord[]> {
  const prefix = col.name === "" ? "" : `${col.name}/`;
  const all = await queryAll(
    store,
    {
      KeyConditionExpression: "pk = :p AND begins_with(sk, :c)",
      ExpressionAttributeValues: { ":p": { S: homePk(col.kind, col.owner) }, ":c": { S: `C#${prefix}` } },
      ConsistentRead: true,
    },
    collectionFromItem,
  );
  return all.filter(
    (c) => c.name !== col.name && (which === "descendants" || !c.name.slice(prefix.length).includes("/")),
  );
}

export interface RecordOptions {
  now: string;
  /** Change of the members' total size. */
  bytesDelta?: number;
  /** Further attributes to set on the collection item in the same update (a PROPPATCH's properties). */
  set?: Record<string, AttributeValue>;
  /** Prefix of the part names, for a transaction that changes two collections (a MOVE). */
  prefix?: string;
  /** A folder below it comes or goes in the same transaction: its tree counter advances too. */
  tree?: boolean;
  /**
   * The member write's guards, added to the transaction here: those that check locks rooted in
   * the collection are left out while its `lockedUntil` has passed, which the sequence's condition
   * then pins as read (a LOCK committing meanwhile makes the write retry with them).
   */
  guards?: readonly Guard[];
}

/**
 * Add to a transaction the advance of the collection's sequence by `changes.length` (part
 * `sequence`, conditioned on the sequence and id the caller read) and one change-log entry per
 * change (part `change`, or `change:1` … `change:k` for several), and the write's guards. Every
 * member write carries it, so concurrent writers serialise and each change gets exactly one entry.
 */
export function recordChanges(
  tx: WriteTx,
  col: CollectionRecord,
  changes: Change[],
  opts: RecordOptions,
): void {
  const k = changes.length;
  if (k < 1) throw new Error("recordChanges needs at least one change");
  const prefix = opts.prefix ?? "";
  const set = opts.set ?? {};
  const all = opts.guards ?? [];
  // While no lock rooted in the collection can be active, checking those locks path by path is redundant.
  const lockFree =
    all.some((g) => g.inCollection) && col.lockedUntil !== undefined && col.lockedUntil <= Date.now();
  tx.update(
    `${prefix}sequence`,
    collectionKey(col.kind, col.owner, col.name),
    (e) =>
      `SET ${[
        `${e.name("seq")} = ${e.value({ N: String(col.seq + k) })}`,
        `${e.name("modified")} = ${e.value({ S: opts.now })}`,
        ...Object.entries(set).map(([attr, v]) => `${e.name(attr)} = ${e.value(v)}`),
      ].join(", ")} ADD ${e.name("bytes")} ${e.value({ N: String(opts.bytesDelta ?? 0) })}${
        opts.tree ? `, ${e.name("tree")} ${e.value({ N: "1" })}` : ""
      }`,
    allOf(
      equals("seq", { N: String(col.seq) }),
      equals("id", { S: col.id }),
      ...(lockFree ? [equals("lockedUntil", { N: String(col.lockedUntil) })] : []),
      // Through a sharee's view: their grant still stands, read-write, in the same transaction.
      ...(col.view
        ? [
            pathEquals(["shares", col.view.user, "access"], { S: "read-write" }),
            pathEquals(["shares", col.view.user, "view"], { S: col.view.name }),
          ]
        : []),
    ),
  );
  changes.forEach((c, i) =>
    logChange(
      tx,
      k === 1 ? `${prefix}change` : `${prefix}change:${i + 1}`,
      colPk(col.id),
      col.seq + 1 + i,
      c,
      opts.now,
    ),
  );
  tx.guard(lockFree ? all.filter((g) => !g.inCollection) : all);
}

/** A home's sequence: how many changes of its collections (created, changed, deleted) it has logged. */
export async function getHomeSeq(store: Store, kind: CollectionKind, owner: string): Promise<number> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: homeSeqKey(kind, owner), ConsistentRead: true }),
  );
  return Number(Item?.seq?.N ?? 0);
}

/**
 * Read the home's sequence and add to a transaction its advance (part `home`, conditioned on the
 * value read; a failure means another change in the home came first: retry) and its log entry
 * (part `home-change`), so a sync of the home (RFC 6578 on a calendar home) sees the change.
 */
export async function recordHomeChange(
  store: Store,
  tx: WriteTx,
  col: CollectionRef,
  change: Change | Change[],
  now: string,
  /** Prefix of the part names, for a transaction that changes two homes (a share's). */
  prefix = "",
): Promise<void> {
  const changes = Array.isArray(change) ? change : [change];
  const seq = await getHomeSeq(store, col.kind, col.owner);
  tx.update(
    `${prefix}home`,
    homeSeqKey(col.kind, col.owner),
    (e) => `SET ${e.name("seq")} = ${e.value({ N: String(seq + changes.length) })}`,
    seq === 0 ? anyOf(absent, equals("seq", { N: "0" })) : equals("seq", { N: String(seq) }),
  );
  changes.forEach((c, i) =>
    logChange(
      tx,
      i === 0 ? `${prefix}home-change` : `${prefix}home-change:${i + 1}`,
      homePk(col.kind, col.owner),
      seq + 1 + i,
      c,
      now,
    ),
  );
}

/**
 * MOVE of a collection within its home (RFC 4918 §9.9): its item goes to the new name with the
 * same id, so its members, their UID reservations and its change log (and every sync token) move
 * with it without a write each; a folder's subfolders are renamed with it. One transaction: the
 * old items removed (condition: the version read, so no write to them slips in between), the new
 * ones written (condition: nothing there, or the collection `over` that Overwrite: T replaces,
 * which is then purged with its subtree; `replaceFile`: a file of the name is removed), a folder
 * placed in its new parent and gone from its old one, and the home's log.
 */
export async function renameCollection(
  store: Store,
  col: CollectionRecord,
  name: string,
  overFirst?: CollectionRecord,
  guards: readonly Guard[] = [],
  /** The client's conditions held for `col` as read: a member written meanwhile fails the move (412). */
  pinned = false,
  replaceFile = false,
): Promise<CollectionRecord> {
  let over = overFirst;
  let current = col;
  let renamed = col;
  let replaced: CollectionRecord[] = [];
  const nested = nests(col.kind);
  if (!fitsSortKey(`C#${name}`)) throw new NameTooLong(name);
  if (col.view || isShared(col)) throw new SharedCollection("a shared collection keeps its name");
  if (nested && (within(name, col.name) || (over && within(col.name, over.name)))) {
    throw new Contains(col.name, name);
  }
  await withRetries(async () => {
    const now = new Date().toISOString();
    renamed = { ...current, name, modified: now };
    const [below, overBelow] = await Promise.all([
      subtreeOf(store, current),
      over ? subtreeOf(store, over) : [],
    ]);
    const tx = new WriteTx(store).delete(
      "source",
      collectionKey(col.kind, col.owner, col.name),
      allOf(
        equals("id", { S: col.id }),
        equals("seq", { N: String(current.seq) }),
        ...(nested ? [treeIs(current.tree)] : []),
      ),
    );
    tx.put("collection", collectionItem(renamed), over ? sameFolder(over.id, over.tree) : absent);
    if (over) markForPurge(tx, "purge", over.id, over.owner);
    const changes: Change[] = [
      { op: "delete", name: col.name },
      { op: "put", name },
    ];
    // Subfolders follow as read (a write to one meanwhile fails its part: the round is retried);
    // one that replaces a folder of the destination's subtree takes its key in one part.
    const overByName = new Map(overBelow.map((o) => [o.name, o]));
    below.forEach((d, i) => {
      const moved = { ...d, name: name + d.name.slice(col.name.length) };
      if (!fitsSortKey(`C#${moved.name}`)) throw new NameTooLong(moved.name);
      tx.delete(
        `below:${i}`,
        collectionKey(d.kind, d.owner, d.name),
        allOf(sameFolder(d.id, d.tree), equals("seq", { N: String(d.seq) })),
      );
      const replacedHere = overByName.get(moved.name);
      overByName.delete(moved.name);
      tx.put(
        `moved:${i}`,
        collectionItem(moved),
        replacedHere ? sameFolder(replacedHere.id, replacedHere.tree) : absent,
      );
      if (replacedHere) markForPurge(tx, `moved:purge:${i}`, replacedHere.id, replacedHere.owner);
      changes.push({ op: "delete", name: d.name }, { op: "put", name: moved.name });
    });
    const dropped = [...overByName.values()];
    removeFolders(tx, "over:", dropped);
    for (const o of dropped) changes.push({ op: "delete", name: o.name });
    if (nested) {
      await placeFolder(store, tx, renamed, now, replaceFile);
      // It leaves its old parent too, unless that is the new one (whose counter the placement advances).
      const from = parentFolder(col.name);
      if (from !== undefined && from !== parentFolder(name)) {
        const left = await getCollection(store, { kind: col.kind, owner: col.owner, name: from });
        if (left) advanceTree(tx, "source-parent", left);
      }
    }
    await recordHomeChange(store, tx, col, changes, now);
    tx.guard(guards);
    const failed = await tx.commit();
    if (!failed) {
      replaced = over ? [over, ...overBelow] : [];
      return true;
    }
    const guarded = guardFailure(failed, guards);
    if (guarded) throw guarded;
    if (failed.has("source")) {
      const old = failed.old("source");
      if (!old || old.id?.S !== col.id) throw new NotFound("the collection no longer exists");
      const now = collectionFromItem(old);
      if (pinned && collectionEtag(now) !== collectionEtag(current))
        throw new EtagMismatch(collectionEtag(now));
      // A member was written (or a folder made) meanwhile: move the collection as it is now.
      current = now;
      return RETRY;
    }
    if (failed.has("collection")) {
      const there = failed.old("collection");
      if (!over || there?.id?.S !== over.id) throw new AlreadyExists("the destination exists");
      // A folder was made in the folder replaced: replace it as it is now.
      over = collectionFromItem(there);
    }
    return placementFailure(failed, replaceFile);
  });
  for (const c of replaced) await purgeCollection(store, c.id);
  return renamed;
}

/**
 * What a failed `sequence` part means: the collection is gone (or replaced by one of the same name)
 * → ParentMissing; otherwise another writer got in first → retry with a fresh read.
 */
export function sequenceFailure(col: CollectionRecord, old: Item | undefined): typeof RETRY {
  if (!old || old.id?.S !== col.id) throw new ParentMissing("the collection no longer exists");
  return RETRY;
}

export interface PropertyChange {
  setProps?: Record<string, string>;
  removeProps?: string[];
  setDead?: Record<string, string>;
  removeDead?: string[];
}

/** The properties a collection holds after a change. */
export function applyPropertyChange(
  col: Pick<CollectionRecord, "props" | "dead">,
  change: PropertyChange,
): { props: Record<string, string>; dead: Record<string, string> } {
  const props = { ...col.props, ...(change.setProps ?? {}) };
  for (const p of change.removeProps ?? []) delete props[p];
  const dead = { ...col.dead, ...(change.setDead ?? {}) };
  for (const p of change.removeDead ?? []) delete dead[p];
  return { props, dead };
}

/**
 * Apply a PROPPATCH atomically, advancing the sequence and logging the change in one transaction.
 * `expect`: the client's conditions on the collection's version, checked in every round against
 * the version that round's transaction demands.
 */
export async function updateCollectionProps(
  store: Store,
  ref: CollectionRef,
  change: PropertyChange,
  first?: CollectionRecord,
  expect: Expectation = {},
  guards: readonly Guard[] = [],
): Promise<CollectionRecord> {
  let col = first;
  const rounds = new RoundExpectation(expect);
  return withRetries(async () => {
    col ??= await getCollection(store, ref);
    if (!col) throw new ParentMissing("the collection does not exist");
    if (!satisfies(await rounds.next(), collectionEtag(col))) throw new EtagMismatch(collectionEtag(col));
    const now = new Date().toISOString();
    const { props, dead } = applyPropertyChange(col, change);
    const tx = new WriteTx(store);
    recordChanges(tx, col, [{ op: "props", name: "" }], {
      now,
      set: { props: strMap(props), dead: strMap(dead) },
    });
    await recordHomeChange(store, tx, col, { op: "props", name: col.name }, now);
    tx.guard(guards);
    const failed = await tx.commit();
    if (!failed) return { ...col, seq: col.seq + 1, modified: now, props, dead };
    const guarded = guardFailure(failed, guards);
    if (guarded) throw guarded;
    const stale = col;
    col = undefined;
    if (failed.has("sequence")) return sequenceFailure(stale, failed.old("sequence"));
    return RETRY;
  });
}

/** A folder's descendants, for a write that takes them along; refused past what one transaction holds. */
async function subtreeOf(store: Store, col: CollectionRecord): Promise<CollectionRecord[]> {
  if (!nests(col.kind)) return [];
  const below = await listFolders(store, col, "descendants");
  if (below.length > MAX_FOLDERS_PER_WRITE) throw new TooManyFolders(col.name, below.length);
  return below;
}

/** Parts removing `cols` (a folder's subtree) and marking them for purge; a folder changed meanwhile fails its part. */
function removeFolders(tx: WriteTx, prefix: string, cols: readonly CollectionRecord[]): void {
  cols.forEach((d, i) => {
    tx.delete(`${prefix}${i}`, collectionKey(d.kind, d.owner, d.name), sameFolder(d.id, d.tree));
    markForPurge(tx, `${prefix}purge:${i}`, d.id, d.owner);
  });
}

/**
 * Parts removing folder `folder` with its subtree (as read now) in a write that puts a file in its
 * place (COPY or MOVE with Overwrite: T), with purge markers and the home's log; the caller's
 * change of the parent advances the parent's tree counter. Returns the folders to purge once the
 * transaction committed.
 */
export async function replaceFolderParts(
  store: Store,
  tx: WriteTx,
  folder: CollectionRecord,
  now: string,
): Promise<CollectionRecord[]> {
  const below = await subtreeOf(store, folder);
  tx.delete(
    "over-folder",
    collectionKey(folder.kind, folder.owner, folder.name),
    sameFolder(folder.id, folder.tree),
  );
  markForPurge(tx, "over-folder:purge", folder.id, folder.owner);
  removeFolders(tx, "over-below:", below);
  const gone = [folder, ...below];
  await recordHomeChange(
    store,
    tx,
    folder,
    gone.map((c) => ({ op: "delete", name: c.name })),
    now,
  );
  return gone;
}

/**
 * Delete a collection: its item goes and a purge marker appears in one transaction, then the
 * partition is purged (purge.ts); a folder goes with every folder below it, in the same
 * transaction. `unchanged`: the client conditioned the delete on this version (If-Match, the If
 * header), so it is conditioned on the sequence read as well as the id; `expect` is checked
 * against that version in every round.
 */
export async function deleteCollection(
  store: Store,
  first: CollectionRecord,
  options: { unchanged?: boolean; expect?: Expectation; guards?: readonly Guard[] } = {},
): Promise<void> {
  const rounds = new RoundExpectation(options.expect ?? {});
  let col = first;
  let gone: CollectionRecord[] = [];
  await withRetries(async () => {
    if (!satisfies(await rounds.next(), collectionEtag(col))) throw new EtagMismatch(collectionEtag(col));
    const below = await subtreeOf(store, col);
    const now = new Date().toISOString();
    const tx = new WriteTx(store).delete(
      "collection",
      collectionKey(col.kind, col.owner, col.name),
      allOf(
        equals("id", { S: col.id }),
        ...(options.unchanged ? [equals("seq", { N: String(col.seq) })] : []),
        ...(nests(col.kind) ? [treeIs(col.tree)] : []),
        // The grants as read: one added meanwhile fails the round, which then removes its view too.
        sharesAsRead(col),
      ),
    );
    markForPurge(tx, "purge", col.id, col.owner);
    await removeViews(store, tx, col, now);
    removeFolders(tx, "below:", below);
    // A folder leaves its parent, whose version (and a delete of it that listed this one) moves.
    const parentName = nests(col.kind) ? parentFolder(col.name) : undefined;
    const parent =
      parentName === undefined
        ? undefined
        : await getCollection(store, { kind: col.kind, owner: col.owner, name: parentName });
    if (parent) advanceTree(tx, "parent", parent);
    const changes: Change[] = [col, ...below].map((c) => ({ op: "delete", name: c.name }));
    await recordHomeChange(store, tx, col, changes, now);
    tx.guard(options.guards ?? []);
    const failed = await tx.commit();
    if (!failed) {
      gone = [col, ...below];
      return true;
    }
    const guarded = guardFailure(failed, options.guards ?? []);
    if (guarded) throw guarded;
    if (failed.has("collection")) {
      const old = failed.old("collection");
      if (!old || old.id?.S !== col.id) throw new ParentMissing("the collection no longer exists");
      const fresh = collectionFromItem(old);
      if (options.unchanged && collectionEtag(fresh) !== collectionEtag(col))
        throw new EtagMismatch(collectionEtag(fresh));
      // A folder was made in it (or a grant changed) meanwhile: delete it as it is now.
      col = fresh;
    }
    return RETRY;
  });
  for (const c of gone) await purgeCollection(store, c.id);
}

/**
 * Parts adding the sharee's view `name` of `col` (its name must be free; their invitation goes) or
 * removing it (if it is still that view), each logged in the sharee's home; `prefix` names the
 * parts apart when one transaction changes several views.
 */
export async function viewParts(
  store: Store,
  tx: WriteTx,
  op: "put" | "delete",
  col: CollectionRecord,
  user: string,
  name: string,
  now: string,
  prefix = "",
): Promise<void> {
  const key = collectionKey(col.kind, user, name);
  if (op === "put") {
    const viewOf = viewOfAttr({ owner: col.owner, name: col.name, id: col.id });
    const item = { ...key, kind: { S: col.kind }, owner: { S: user }, name: { S: name }, viewOf };
    tx.put(`${prefix}view`, { ...item, props: { M: {} }, created: { S: now } }, absent);
    tx.delete(`${prefix}invite`, inviteKey(col.kind, user, col.id));
  } else {
    // A view of another collection never stands under this name while the grant names it; absent is fine.
    tx.delete(`${prefix}view`, key, anyOf(absent, pathEquals(["viewOf", "id"], { S: col.id })));
  }
  const home = { kind: col.kind, owner: user, name };
  await recordHomeChange(store, tx, home, { op, name }, now, `${prefix}view-`);
}

/**
 * Parts removing every view of a collection that goes (and its pending invitations), each view's
 * removal logged in its sharee's home: deleting the owner's collection removes it for everyone.
 */
async function removeViews(store: Store, tx: WriteTx, col: CollectionRecord, now: string): Promise<void> {
  let i = 0;
  for (const [user, grant] of Object.entries(col.shares ?? {})) {
    i++;
    if (grant.status === "pending") tx.delete(`${i}:invite`, inviteKey(col.kind, user, col.id));
    if (grant.view) await viewParts(store, tx, "delete", col, user, grant.view, now, `${i}:`);
  }
}
