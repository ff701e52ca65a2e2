/**
 * What sharing does, whoever asks (a CS:share POST, the account page, the admin CLI): name a
 * sharee, share with them or stop, and answer an invitation. The store makes each one transaction.
 */
import { Forbidden, NotFound } from "../errors.js";
import { getOwnCollection, type CollectionRecord } from "../store/collections.js";
import type { Store } from "../store/client.js";
import { answerInvitation, grantShare, revokeShare } from "../store/shares.js";
import { getUser, userByEmail, USER_NAME } from "../store/users.js";
import type { Access } from "../store/views.js";
import type { DavContext } from "../webdav/context.js";
import { addressOfHref } from "../webdav/paths.js";

/** The user a sharee's href names: `mailto:` an e-mail of a user, a principal URL, or a user name. */
export async function shareeNamed(store: Store, href: string): Promise<string> {
  const text = href.trim();
  let name: string | undefined;
  if (/^mailto:/i.test(text)) {
    const email = decodeURIComponent(text.slice(7));
    name = (await userByEmail(store, email)) ?? ((await getUser(store, email)) ? email : undefined);
  } else if (text.includes("/")) {
    const a = addressOfHref(text);
    name = a?.type === "principal" && (await getUser(store, a.user)) ? a.user : undefined;
  } else if (USER_NAME.test(text) && (await getUser(store, text))) {
    name = text;
  }
  if (!name) throw new Forbidden(`${text} is not a user of this server: sharing is between its users.`);
  return name;
}

/** Share `col` with `sharee` (`access` undefined: stop sharing it with them). */
export async function setShare(
  ctx: DavContext,
  col: CollectionRecord,
  sharee: string,
  access: Access | undefined,
): Promise<void> {
  if (sharee === col.owner) throw new Forbidden("A collection is always shared with its owner.");
  if (access) await grantShare(ctx.store, col, sharee, access, { autoAccept: ctx.config.shareAutoAccept });
  else await revokeShare(ctx.store, col, sharee);
}

/** The sharee's answer to the invitation to `ref`; accepting returns the collection as their new view shows it. */
export async function answer(
  store: Store,
  user: string,
  ref: Pick<CollectionRecord, "kind" | "owner" | "name">,
  accept: boolean,
): Promise<CollectionRecord | undefined> {
  const col = await getOwnCollection(store, ref);
  if (!col?.shares?.[user]) throw new NotFound("Nothing is shared with you there.");
  return answerInvitation(store, user, col, accept);
}
