/**
 * A user's first authenticated request creates the default collections the modules name (a
 * `default` calendar and address book), each only if the user has no collection of that kind yet
 * (e.g. one made with the admin CLI or migrated in), and the collections every user has by name
 * (the scheduling inbox and outbox). A user provisioned by an earlier release gets what later
 * rounds add on their next login (PROVISIONING in store/users.ts).
 */
import {
  createCollection,
  getCollection,
  listCollections,
  type NewCollection,
} from "../store/collections.js";
import { AlreadyExists } from "../store/errors.js";
import { indexEmail, markProvisioned, PROVISIONING, type Store, type UserRecord } from "../store/users.js";
import { updateCachedUser } from "./basic.js";

export interface Provisioning {
  /** The collections a new user gets, one per kind (skipped for a kind the user already has). */
  defaults(): NewCollection[];
  /** Collections every user has under fixed names (created where missing). */
  fixed(): NewCollection[];
}

export async function ensureProvisioned(store: Store, user: UserRecord, what: Provisioning): Promise<void> {
  if ((user.provisioned ?? 0) >= PROVISIONING) return;
  const create = async (col: NewCollection) => {
    try {
      await createCollection(store, col);
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
    }
  };
  const firstOfKind = async (col: NewCollection) => {
    if ((await listCollections(store, col.kind, user.name)).length === 0) await create(col);
  };
  const byName = async (col: NewCollection) => {
    if (!(await getCollection(store, col))) await create(col);
  };
  // The defaults first: a fixed collection of the same kind (the inbox) would count as the user's own.
  if (!user.provisioned) await Promise.all(what.defaults().map(firstOfKind));
  await Promise.all([
    ...what.fixed().map(byName),
    ...(user.email ? [indexEmail(store, user.email, user.name)] : []),
  ]);
  await markProvisioned(store, user.name);
  updateCachedUser({ ...user, provisioned: PROVISIONING });
}
