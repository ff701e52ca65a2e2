/** Key builders for the single-table layout documented in table.ts. */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** Calendars, address books, and the folders of a files home (which nest: a folder's name is its path). */
export type CollectionKind = "calendar" | "addressbook" | "files";

export type Key = Record<string, AttributeValue>;

const HOME_KIND: Record<CollectionKind, string> = { calendar: "cal", addressbook: "card", files: "file" };

export const homePk = (kind: CollectionKind, user: string) => `HOME#${HOME_KIND[kind]}#${user}`;
export const colPk = (id: string) => `COL#${id}`;

export const collectionKey = (kind: CollectionKind, user: string, name: string): Key => ({
  pk: { S: homePk(kind, user) },
  sk: { S: `C#${name}` },
});
export const objectKey = (colId: string, name: string): Key => ({
  pk: { S: colPk(colId) },
  sk: { S: `O#${name}` },
});
export const uidKey = (colId: string, uid: string): Key => ({
  pk: { S: colPk(colId) },
  sk: { S: `U#${uid}` },
});
export const changeSk = (seq: number) => `S#${String(seq).padStart(12, "0")}`;
export const changeKey = (colId: string, seq: number): Key => ({
  pk: { S: colPk(colId) },
  sk: { S: changeSk(seq) },
});
/** A pending invitation to a shared collection, in the invited user's home (views.ts). */
export const inviteKey = (kind: CollectionKind, user: string, colId: string): Key => ({
  pk: { S: homePk(kind, user) },
  sk: { S: `INVITE#${colId}` },
});
export const purgeKey = (colId: string): Key => ({ pk: { S: "PURGE" }, sk: { S: colId } });
/** A home's own sequence: it advances when a collection in the home is created, changed or deleted. */
export const homeSeqKey = (kind: CollectionKind, user: string): Key => ({
  pk: { S: homePk(kind, user) },
  sk: { S: "SEQ" },
});
