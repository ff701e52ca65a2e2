/**
 * COPY and MOVE of a member (RFC 4918 §9.8, §9.9) as one transaction of named parts: the source
 * removed (MOVE), the destination written over whatever stood there, both UID reservations, both
 * collections' sequences and change-log entries, and any guards. A crash or a race can never
 * leave both copies of a moved member, or neither.
 */
import {
  getCollection,
  recordChanges,
  replaceFolderParts,
  sequenceFailure,
  type CollectionRecord,
  type CollectionRef,
} from "./collections.js";
import type { Change } from "./change-log.js";
import { AlreadyExists, checkQuota, EtagMismatch, NotFound, ParentMissing, UidConflict } from "./errors.js";
import { RoundExpectation, satisfies, type Expectation } from "./expectation.js";
import { Contains, inFolder, nests, noFolderPart, within } from "./folders.js";
import { purgeCollection } from "./purge.js";
import { objectKey, uidKey } from "./keys.js";
import { etagFor, getObject, objectItem, type NewObject, type ObjectRecord } from "./objects.js";
import type { Store } from "./client.js";
import { RETRY, withRetries } from "./transact.js";
import { absent, anyOf, equals, guardFailure, WriteTx, type Guard } from "./tx.js";

export interface Transfer {
  from: CollectionRef;
  name: string;
  to: CollectionRef;
  /** The destination member: the source's body as the destination's kind validated it. */
  object: NewObject;
  move: boolean;
  /** Overwrite: T (RFC 4918 §10.6): replace a member at the destination; F: refuse (AlreadyExists). */
  overwrite: boolean;
  /** The client's conditions on the source (If-Match, the If header). */
  expect: Expectation;
  guards?: readonly Guard[];
  /** Bytes the destination collection may hold (RFC 4331). */
  quota?: number;
  /**
   * Overwrite: T may replace a folder of the destination's name (a files home): it goes with its
   * subtree in the same transaction, under the guards (in `guards`) its removal needs.
   */
  replaceFolder?: boolean;
}

export interface TransferResult {
  /** Nothing stood at the destination (201), or it was replaced (204). */
  created: boolean;
  etag: string;
  /** What the destination replaced, for hooks. */
  replaced?: ObjectRecord;
}

export async function transferObject(store: Store, t: Transfer): Promise<TransferResult> {
  const rounds = new RoundExpectation(t.expect);
  const etag = etagFor(t.object.body);
  let gone: CollectionRecord[] = [];
  const result = await withRetries(async (): Promise<TransferResult | typeof RETRY> => {
    const from = await getCollection(store, t.from);
    if (!from) throw new NotFound("the source collection does not exist");
    const same = t.from.kind === t.to.kind && t.from.owner === t.to.owner && t.from.name === t.to.name;
    const to = same ? from : await getCollection(store, t.to);
    if (!to) throw new ParentMissing("the destination collection does not exist");
    const e = await rounds.next();
    const source = await getObject(store, from.id, t.name, false);
    if (!source) {
      if (e.ifMatch) throw new EtagMismatch(undefined);
      throw new NotFound(`no resource ${t.name}`);
    }
    if (!satisfies(e, source.etag)) throw new EtagMismatch(source.etag);
    const existing = await getObject(store, to.id, t.object.name, false);
    if (existing && !t.overwrite) throw new AlreadyExists(`${t.object.name} exists`);
    // A MOVE within one collection adds nothing to it.
    if (!(same && t.move)) checkQuota(to, t.object.body.length - (existing?.size ?? 0), t.quota);
    const now = new Date().toISOString();
    const tx = new WriteTx(store);
    const size = t.object.body.length;
    const folder = t.replaceFolder ? await folderAt(store, to, t.object.name) : undefined;
    if (folder && from.kind === folder.kind && within(from.name, folder.name))
      throw new Contains(from.name, folder.name);
    const removed = folder ? await replaceFolderParts(store, tx, folder, now) : [];
    const tree = folder !== undefined;
    const put: Change = { op: "put", name: t.object.name };
    if (same) {
      const changes: Change[] = t.move ? [{ op: "delete", name: t.name }, put] : [put];
      const delta = (t.move ? 0 : size) - (existing?.size ?? 0);
      recordChanges(tx, to, changes, { now, bytesDelta: delta, tree });
    } else {
      if (t.move)
        recordChanges(tx, from, [{ op: "delete", name: t.name }], {
          now,
          bytesDelta: -source.size,
          prefix: "from-",
        });
      recordChanges(tx, to, [put], { now, bytesDelta: size - (existing?.size ?? 0), prefix: "to-", tree });
    }
    if (t.move) tx.delete("source", objectKey(from.id, t.name), equals("etag", { S: source.etag }));
    if (!existing && !folder) noFolderPart(tx, to, t.object.name);
    tx.put(
      "object",
      objectItem(to.id, t.object, etag, now, now),
      existing ? equals("etag", { S: existing.etag }) : absent,
    );
    // The destination's reservation of the UID: free, the destination's own, or (a MOVE within one
    // collection) the source's, which then passes to the destination.
    const holders = [t.object.name, ...(same && t.move ? [t.name] : [])];
    tx.put(
      "uid",
      { ...uidKey(to.id, t.object.uid), name: { S: t.object.name } },
      anyOf(absent, ...holders.map((n) => equals("name", { S: n }))),
    );
    // What the destination held before gives up its UID, unless it is the one now written.
    if (existing && existing.uid !== t.object.uid) {
      tx.delete("old-uid", uidKey(to.id, existing.uid), equals("name", { S: t.object.name }));
    }
    // A MOVE out of a collection releases the source's reservation there.
    if (t.move && !(same && source.uid === t.object.uid)) {
      tx.delete("source-uid", uidKey(from.id, source.uid), equals("name", { S: t.name }));
    }
    tx.guard(t.guards ?? []);
    const failed = await tx.commit();
    if (!failed) {
      gone = removed;
      return { created: !existing && !folder, etag, replaced: existing };
    }
    if (failed.has("source")) {
      const current = failed.old("source")?.etag?.S;
      if (!current) throw new NotFound(`no resource ${t.name}`);
      if (!satisfies(e, current)) throw new EtagMismatch(current);
    }
    const guarded = guardFailure(failed, t.guards ?? []);
    if (guarded) throw guarded;
    if (failed.has("folder")) throw new AlreadyExists(`a folder ${t.object.name} exists`);
    if (failed.has("object") && !t.overwrite && failed.old("object"))
      throw new AlreadyExists(`${t.object.name} exists`);
    if (failed.has("uid")) {
      const holder = failed.old("uid")?.name?.S;
      if (holder && !holders.includes(holder)) throw new UidConflict(t.object.uid, holder);
    }
    for (const [part, col] of [
      ["sequence", to],
      ["from-sequence", from],
      ["to-sequence", to],
    ] as [string, CollectionRecord][]) {
      if (failed.has(part)) return sequenceFailure(col, failed.old(part));
    }
    return RETRY;
  });
  for (const c of gone) await purgeCollection(store, c.id);
  return result;
}

/** The folder of name `name` in folder `col`, if `col` is a folder and there is one. */
function folderAt(store: Store, col: CollectionRecord, name: string): Promise<CollectionRecord | undefined> {
  if (!nests(col.kind)) return Promise.resolve(undefined);
  return getCollection(store, { kind: col.kind, owner: col.owner, name: inFolder(col.name, name) });
}
