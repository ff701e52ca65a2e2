/**
 * Sizes the store's keys and items impose, checked before anything is written so that an
 * oversized name, UID or property set is a 403/507 with a reason instead of a DynamoDB error.
 */
import { Forbidden } from "../errors.js";

/** Longest resource or collection name accepted, in UTF-8 bytes (DynamoDB sort keys end at 1,024). */
export const MAX_NAME_BYTES = 512;
/** Longest UID accepted: its reservation item is keyed by it. */
export const MAX_UID_BYTES = 1000;
/** Room for a collection's live and dead properties together, well inside DynamoDB's item limit. */
export const MAX_PROPERTY_BYTES = 128 * 1024;
/** Room for a file's dead properties: they share its item with the body. */
export const MAX_MEMBER_PROPERTY_BYTES = 16 * 1024;

/** Refuse a name no store key can hold (403 with a reason: resubmitting it can never succeed). */
export function checkName(name: string, what: "resource" | "collection"): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new Forbidden(
      `The ${what} name is ${Buffer.byteLength(name)} bytes long; this server accepts names of at most ${MAX_NAME_BYTES} bytes.`,
    );
  }
}

/** Refuse a UID no reservation key can hold, naming the kind's validity precondition. */
export function checkUid(uid: string, precondition: string): void {
  if (Buffer.byteLength(uid) > MAX_UID_BYTES) {
    throw new Forbidden(
      `The UID is ${Buffer.byteLength(uid)} bytes long; this server accepts UIDs of at most ${MAX_UID_BYTES} bytes.`,
      { name: precondition },
    );
  }
}
