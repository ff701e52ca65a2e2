/**
 * The tree of a files home. Its folders are collections whose names are paths below the home
 * ("" is the root folder, the home itself; "a/b" is folder b in folder a), so finding any folder
 * is one GetItem and listing a subtree is one query by prefix. What keeps it a tree is part of
 * every write's transaction: a folder is made only in a folder that exists (whose `tree` counter
 * the write advances, so a delete of the parent that listed its subtree before cannot miss the new
 * folder), and a file and a folder never share a name.
 */
import { collectionKey, type CollectionKind } from "./keys.js";
import { StoreError } from "./errors.js";
import { absent, allOf, equals, type Cond, type WriteTx } from "./tx.js";

/** Kinds whose collections nest (a files home's folders). */
export const nests = (kind: CollectionKind) => kind === "files";

/** The folder holding folder `name` ("" for a top-level one), or undefined for the root. */
export function parentFolder(name: string): string | undefined {
  if (name === "") return undefined;
  const i = name.lastIndexOf("/");
  return i < 0 ? "" : name.slice(0, i);
}

/** The last segment of a folder's name. */
export const leafOf = (name: string) => name.slice(name.lastIndexOf("/") + 1);

/** The name of `child` inside folder `folder`. */
export const inFolder = (folder: string, child: string) => (folder === "" ? child : `${folder}/${child}`);

/** Whether folder `name` is `folder` or lies below it. */
export const within = (name: string, folder: string) =>
  folder === "" || name === folder || name.startsWith(`${folder}/`);

/** Descendant folders one write can delete or move with their folder (each takes a few parts of its transaction). */
export const MAX_FOLDERS_PER_WRITE = 20;

/** A folder's subtree is too large for one transaction. */
export class TooManyFolders extends StoreError {
  constructor(
    readonly folder: string,
    readonly count: number,
  ) {
    super(
      `folder ${folder} holds ${count} folders; at most ${MAX_FOLDERS_PER_WRITE} move or go in one write`,
    );
  }
}

/** A collection name no store key can hold (a folder moved or copied below a long name). */
export class NameTooLong extends StoreError {
  constructor(readonly collection: string) {
    super(`the name ${collection.slice(0, 80)}… is longer than a key can hold`);
  }
}

/** A folder would be moved into itself, or replace a folder that holds it. */
export class Contains extends StoreError {
  constructor(
    readonly source: string,
    readonly destination: string,
  ) {
    super(`${destination} and ${source} hold one another`);
  }
}

/** The folder's `tree` counter is what was read: no folder was made in it since. */
export const treeIs =
  (tree: number): Cond =>
  (e) =>
    tree === 0
      ? `(attribute_not_exists(${e.name("tree")}) OR ${e.name("tree")} = ${e.value({ N: "0" })})`
      : `${e.name("tree")} = ${e.value({ N: String(tree) })}`;

/** Part `folder`: adding file `name` to folder `col` needs no folder of that name there. */
export function noFolderPart(
  tx: WriteTx,
  col: { kind: CollectionKind; owner: string; name: string },
  name: string,
  part = "folder",
): void {
  if (nests(col.kind)) tx.check(part, collectionKey(col.kind, col.owner, inFolder(col.name, name)), absent);
}

/** Condition of a folder removed with its parent: the same folder, and nothing made in it since. */
export const sameFolder = (id: string, tree: number): Cond => allOf(equals("id", { S: id }), treeIs(tree));
