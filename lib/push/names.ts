/** The WebDAV-Push namespace (draft-bitfire-webdav-push §9). */
import { clark, NS } from "../xml/names.js";

export const PUSH_NS = NS.PUSH;
export const push = (local: string) => clark(PUSH_NS, local);
