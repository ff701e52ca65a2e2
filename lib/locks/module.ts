/**
 * The locks module (RFC 4918 §6, §7, §9.10, §9.11): LOCK and UNLOCK, DAV:supportedlock, the lock
 * tokens the If header matches, and a guard in every member write's transaction that the locks on
 * its path permit it. Every write honours the locks and PROPFIND lists them, so the server claims
 * DAV class 2.
 */
import { Forbidden, Locked } from "../errors.js";
import { nests } from "../store/folders.js";
import { allLocks, lockedPathsBelow, locksCovering, lockGuards, type LockRecord } from "../store/locks.js";
import { viewed } from "../webdav/access.js";
import type { DavModule, MethodContext } from "../webdav/registry.js";
import { dav } from "../xml/names.js";
import { activeLock, lock, prepareLock, unlock } from "./lock.js";
import { lockScopeOf, memberScope } from "./scope.js";
import { addressOfHref, type Address } from "../webdav/paths.js";

const lockedError = (root: string) =>
  new Locked(`${root} is locked; submit its lock token in the If header.`, {
    name: dav("lock-token-submitted"),
    hrefs: [root],
  });

/** Locks below a collection one DELETE or MOVE of it honours (each is a part of its transaction). */
const MAX_LOCKED_BELOW = 50;

const lockable = (a: Address) => a.type === "home" || a.type === "collection" || a.type === "object";

/**
 * A lock sits on a path, and a shared calendar has two: one taken through a sharee's view would
 * not bind the owner's path, so locks are taken through the owner's path only.
 */
function throughOwnPath(m: MethodContext): string {
  if (viewed(m.target)) {
    throw new Forbidden("Locks are not taken on a calendar or address book shared with you, nor in it.", {
      name: dav("need-privileges"),
    });
  }
  return dav("write-content");
}

export const locks: DavModule = {
  name: "locks",
  // RFC 4918 §18.2: class 2, now that every write honours the locks and PROPFIND lists them.
  compliance: ["2"],
  methods: {
    LOCK: {
      allowedOn: lockable,
      creates: true,
      xmlBody: { unreadable: 400 },
      prepare: prepareLock,
      privilege: throughOwnPath,
      run: lock,
    },
    // A lock on a URL with nothing behind it (LOCK's 201) is removed there too.
    UNLOCK: { allowedOn: lockable, creates: true, privilege: throughOwnPath, run: (m) => unlock(m) },
  },
  properties: [
    {
      // RFC 4918 §15.8: the locks that apply to the resource, its own and those of collections above it.
      name: dav("lockdiscovery"),
      allprop: true,
      async load(ctx, user) {
        return allLocks(ctx.store, user.name);
      },
      get(r, env) {
        const a = addressOfHref(r.href);
        const scope = a && lockScopeOf(a);
        if (!scope) return undefined;
        const all = (env.loaded?.get(dav("lockdiscovery")) as LockRecord[] | undefined) ?? [];
        return all
          .filter(
            (l) => l.root === scope.path || (l.depth === "infinity" && scope.ancestors.includes(l.root)),
          )
          .map(activeLock);
      },
    },
    {
      name: dav("supportedlock"),
      allprop: true,
      get: (r) =>
        r.type === "collection" || r.type === "object" || r.type === "home"
          ? ["exclusive", "shared"].map((s) => ({
              name: dav("lockentry"),
              value: [
                { name: dav("lockscope"), value: [{ name: dav(s) }] },
                { name: dav("locktype"), value: [{ name: dav("write") }] },
              ],
            }))
          : undefined,
    },
  ],
  hooks: {
    beforeWrite(w) {
      const scope = memberScope(w.col, w.name);
      // In a calendar or address book, a lock on the member or on the collection is rooted in the
      // collection, whose item tells whether one can be active (store/locks.ts, lockedUntil).
      const inCollection = !nests(w.col.kind);
      return lockGuards(
        w.col.owner,
        [
          { path: scope.path, scope: "self", removes: w.op === "delete", inCollection },
          // A member added or removed changes its collection's membership, which a depth-0 lock protects (RFC 4918 §7.5).
          { path: scope.ancestors[0], scope: w.membership ? "self" : "below", inCollection },
          ...scope.ancestors.slice(1).map((path) => ({ path, scope: "below" as const })),
        ],
        w.tokens,
        lockedError,
      );
    },
    async beforeCollectionWrite(w) {
      const scope = lockScopeOf({ type: "collection", kind: w.kind, user: w.owner, collection: w.name })!;
      // The collection holding it (a home, or a folder's parent folder) and the ones above that.
      const [parent, ...above] = scope.ancestors;
      const aboveGuards = above.map((path) => ({ path, scope: "below" as const }));
      if (w.op === "create") {
        if (parent === undefined) return [];
        return lockGuards(w.owner, [{ path: parent, scope: "self" }, ...aboveGuards], w.tokens, lockedError);
      }
      if (w.op === "props") {
        return lockGuards(
          w.owner,
          [
            { path: scope.path, scope: "self" },
            ...scope.ancestors.map((path) => ({ path, scope: "below" as const })),
          ],
          w.tokens,
          lockedError,
        );
      }
      // Deleted (or moved away, or overwritten): the collection, the home's membership, and every lock below it.
      const below = await lockedPathsBelow(w.ctx.store, w.owner, scope.path);
      if (below.length > MAX_LOCKED_BELOW) {
        throw new Locked(`${below.length} resources in ${scope.path} are locked; unlock them first.`, {
          name: dav("lock-token-submitted"),
          hrefs: below.slice(0, 10),
        });
      }
      return lockGuards(
        w.owner,
        [
          { path: scope.path, scope: "self", removes: true },
          ...(parent === undefined ? [] : [{ path: parent, scope: "self" as const }]),
          ...aboveGuards,
          ...below.map((path) => ({ path, scope: "self" as const, removes: true })),
        ],
        w.tokens,
        lockedError,
      );
    },
  },
  async stateTokens(ctx, _user, a) {
    const scope = lockScopeOf(a);
    if (!scope) return [];
    // A member created or removed in a collection with a depth-0 lock submits that lock's token in an
    // untagged list, as clients do (RFC 4918 §7.5): it matches the member too.
    const covering = await locksCovering(
      ctx.store,
      scope.owner,
      scope.path,
      scope.ancestors,
      a.type === "object",
    );
    return [...new Set(covering.map((l) => l.token))];
  },
};
