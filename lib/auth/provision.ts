/**
 * A user's first authenticated request creates a `default` calendar and address book, each only if
 * the user has no collection of that kind yet (e.g. one made with the admin CLI or migrated in).
 */
import { AlreadyExists } from "../store/errors.js";
import { createCollection, listCollections } from "../store/collections.js";
import { markProvisioned, type Store, type UserRecord } from "../store/users.js";
import { updateCachedUser } from "./basic.js";

export const DEFAULT_COMPONENTS = ["VEVENT", "VTODO", "VJOURNAL"];

export async function ensureProvisioned(store: Store, user: UserRecord): Promise<void> {
  if (user.provisioned) return;
  const create = async (kind: "calendar" | "addressbook", displayname: string) => {
    if ((await listCollections(store, kind, user.name)).length > 0) return;
    try {
      await createCollection(store, {
        kind,
        owner: user.name,
        name: "default",
        props: { "{DAV:}displayname": displayname },
        components: kind === "calendar" ? DEFAULT_COMPONENTS : undefined,
      });
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
    }
  };
  await Promise.all([create("calendar", "Calendar"), create("addressbook", "Contacts")]);
  await markProvisioned(store, user.name);
  updateCachedUser({ ...user, provisioned: true });
}
