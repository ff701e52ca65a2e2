/**
 * Domain errors thrown by the store. They speak of data, never of HTTP: `lib/errors.ts` maps them
 * to DAV answers in one place.
 */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something already exists where the write required nothing. */
export class AlreadyExists extends StoreError {}

/** The resource to change or delete does not exist. */
export class NotFound extends StoreError {}

/** The stored ETag differs from the one the client expected (If-Match / If-None-Match). */
export class EtagMismatch extends StoreError {
  constructor(readonly currentEtag: string | undefined) {
    super("the resource's ETag does not match the expected one");
  }
}

/** The collection a write targets does not exist (or was deleted meanwhile). */
export class ParentMissing extends StoreError {}

/** Another resource in the same collection already uses this UID. */
export class UidConflict extends StoreError {
  constructor(
    readonly uid: string,
    readonly existingName: string,
  ) {
    super(`UID ${uid} is already used by ${existingName}`);
  }
}

/** A write would change the UID of an existing resource (a new UID is a new resource). */
export class UidChanged extends StoreError {
  constructor(
    readonly uid: string,
    readonly resource: string,
  ) {
    super(`the UID of ${resource} is ${uid} and cannot change`);
  }
}

/**
 * The write would take the collection past its quota. The check is on the byte count the round
 * read, which the transaction's condition on the collection's sequence pins: no other write can
 * add bytes in between.
 */
export class QuotaExceeded extends StoreError {
  constructor(
    readonly used: number,
    readonly adding: number,
    readonly quota: number,
  ) {
    super(`the collection holds ${used} bytes; ${adding} more would pass its quota of ${quota}`);
  }
}

/** Ensure a write that adds `delta` bytes keeps `col` within `quota` (undefined: no quota). */
export function checkQuota(col: { bytes: number }, delta: number, quota: number | undefined): void {
  if (quota !== undefined && delta > 0 && col.bytes + delta > quota)
    throw new QuotaExceeded(col.bytes, delta, quota);
}

/** The stored schedule tag differs from the one the client expected (If-Schedule-Tag-Match, RFC 6638 §8.3). */
export class ScheduleTagMismatch extends StoreError {
  constructor(readonly current: string | undefined) {
    super("the resource's schedule tag does not match the expected one");
  }
}

/** Concurrent writers kept colliding and retries ran out. */
export class ConcurrentModification extends StoreError {}

/** The sync token does not name a known point of this collection's change log. */
export class InvalidSyncToken extends StoreError {}

/** A write through a sharee's view whose grant is (now) read-only. */
export class ReadOnlyShare extends StoreError {}

/** The collection is shared with other users: it cannot be renamed while their views point at it. */
export class SharedCollection extends StoreError {}
