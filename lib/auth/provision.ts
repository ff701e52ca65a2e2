/**
 * A user's first authenticated request creates the default collections the modules name (a
 * `default` calendar and address book), each only if the user has no collection of that kind yet
 * (e.g. one made with the admin CLI or migrated in).
 */
import { createCollection, listCollections, type NewCollection } from "../store/collections.js";
import { AlreadyExists } from "../store/errors.js";
import { markProvisioned, type Store, type UserRecord } from "../store/users.js";
import { updateCachedUser } from "./basic.js";

/** `defaults`: the collections a new user gets, one per kind (asked for only when the user is new). */
export async function ensureProvisioned(
  store: Store,
  user: UserRecord,
  defaults: () => NewCollection[],
): Promise<void> {
  if (user.provisioned) return;
  const create = async (col: NewCollection) => {
    if ((await listCollections(store, col.kind, user.name)).length > 0) return;
    try {
      await createCollection(store, col);
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
    }
  };
  await Promise.all(defaults().map(create));
  await markProvisioned(store, user.name);
  updateCachedUser({ ...user, provisioned: true });
}
