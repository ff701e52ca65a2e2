/**
 * `npm run admin -- share …`: share a calendar or address book with another user, stop sharing
 * it, answer an invitation for a user, and list what a user shares and what is shared with them.
 */
import { getOwnCollection, listCollections, type CollectionRecord } from "../store/collections.js";
import type { Store } from "../store/client.js";
import { NotFound } from "../store/errors.js";
import { answerInvitation, grantShare, listInvitations, revokeShare, sharedBy } from "../store/shares.js";
import { getUser } from "../store/users.js";
import type { Access } from "../store/views.js";

export const SHARE_USAGE =
  "npm run admin -- share add OWNER/COLLECTION SHAREE read|read-write [--accept] | remove OWNER/COLLECTION SHAREE | accept|decline SHAREE OWNER/COLLECTION | list USER";

/** `owner/collection` → the owner's own calendar or address book of that name (calendars first). */
async function ownCollection(store: Store, spec: string): Promise<CollectionRecord> {
  const m = /^([^/]+)\/([^/]+)\/?$/.exec(spec);
  if (!m) throw new RangeError(`name the collection as OWNER/COLLECTION, not '${spec}'`);
  for (const kind of ["calendar", "addressbook"] as const) {
    const col = await getOwnCollection(store, { kind, owner: m[1], name: m[2] });
    if (col) return col;
  }
  throw new NotFound(`${m[1]} has no calendar or address book named '${m[2]}'`);
}

async function existing(store: Store, user: string): Promise<string> {
  if (!(await getUser(store, user))) throw new NotFound(`no user ${user}`);
  return user;
}

const where = (c: Pick<CollectionRecord, "kind" | "owner" | "name">) =>
  `${c.kind === "calendar" ? "calendars" : "addressbooks"}/${c.owner}/${c.name}`;

/** Runs one `share` command; returns the exit code (2: usage). Errors of the store are the caller's. */
export async function shareCommand(
  store: Store,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [verb, a, b, c] = args;
  switch (verb) {
    case "add": {
      if (!a || !b || (c !== "read" && c !== "read-write")) return 2;
      const col = await ownCollection(store, a);
      const grant = await grantShare(store, col, await existing(store, b), c as Access, {
        autoAccept: args.includes("--accept"),
      });
      out(
        grant.status === "accepted"
          ? `${where(col)} is shared with ${b} (${c}); it is in their home as ${grant.view}`
          : `${b} is invited to ${where(col)} (${c}); it appears in their home once they accept`,
      );
      return 0;
    }
    case "remove": {
      if (!a || !b) return 2;
      const col = await ownCollection(store, a);
      out(
        (await revokeShare(store, col, b))
          ? `${where(col)} is no longer shared with ${b}`
          : `${where(col)} was not shared with ${b}`,
      );
      return 0;
    }
    case "accept":
    case "decline": {
      if (!a || !b) return 2;
      const col = await ownCollection(store, b);
      const view = await answerInvitation(store, await existing(store, a), col, verb === "accept");
      out(
        view?.view
          ? `${a} accepted ${where(col)}: it is their ${view.view.name}`
          : `${a} declined ${where(col)}`,
      );
      return 0;
    }
    case "list": {
      if (!a) return 2;
      const user = await existing(store, a);
      for (const kind of ["calendar", "addressbook"] as const) {
        for (const col of await sharedBy(store, kind, user)) {
          for (const [sharee, g] of Object.entries(col.shares ?? {}))
            out(`shares ${where(col)} with ${sharee}: ${g.access}, ${g.status}`);
        }
        for (const col of await listCollections(store, kind, user, { views: true })) {
          if (col.view) out(`has ${where(col)} as ${col.view.name}: ${col.view.access}`);
        }
      }
      for (const i of await listInvitations(store, user)) out(`invited to ${where(i)}: ${i.access}`);
      return 0;
    }
    default:
      return 2;
  }
}
