/**
 * The DAV error hierarchy. Each error carries its HTTP status and, where the RFCs define one, the
 * precondition element for the `DAV:error` body. `errorResponse` is the single place where any
 * thrown error — DAV, store or unexpected — becomes a response.
 */
import type { DavResponse } from "./http/message.js";
import { renderError, type Precondition } from "./xml/build.js";
import { cal, dav } from "./xml/names.js";
import { Contains, MAX_FOLDERS_PER_WRITE, NameTooLong, TooManyFolders } from "./store/folders.js";
import { TooManyParts } from "./store/tx.js";
import {
  AlreadyExists,
  ConcurrentModification,
  EtagMismatch,
  InvalidSyncToken,
  NotFound as StoreNotFound,
  ParentMissing,
  QuotaExceeded,
  ScheduleTagMismatch,
  StoreError,
  UidChanged,
  ReadOnlyShare,
  SharedCollection,
  UidConflict,
} from "./store/errors.js";
import { ShareRefused } from "./store/shares.js";

export type { Precondition };

/** At most `max` characters of a text a message quotes (a client's 70 KB line comes back as a short excerpt). */
export function excerpt(text: string, max = 80): string {
  const flat = text.replace(/\r?\n/g, "\\n");
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${flat.length - max} more characters)`;
}

export class DavError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly precondition?: Precondition,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An error of a JSON endpoint (tasks): its body is JSON, `{"code", "message", …}`. */
export class JsonProblem extends DavError {
  constructor(
    status: number,
    readonly problem: { code: string; message: string } & Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(status, problem.message, undefined, headers);
  }
}

export class BadRequest extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(400, message, precondition);
  }
}
export class Unauthorized extends DavError {
  constructor(realm: string, message = "Authentication required.") {
    super(401, message, undefined, { "www-authenticate": `Basic realm="${realm}", charset="UTF-8"` });
  }
}
export class Forbidden extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(403, message, precondition);
  }
}
export class NotFound extends DavError {
  constructor(message = "Not found.") {
    super(404, message);
  }
}
export class MethodNotAllowed extends DavError {
  constructor(message: string, allow: string, precondition?: Precondition) {
    super(405, message, precondition, { allow });
  }
}
export class Conflict extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(409, message, precondition);
  }
}
export class PreconditionFailed extends DavError {
  constructor(message: string, precondition?: Precondition, etag?: string) {
    super(412, message, precondition, etag ? { etag } : {});
  }
}
export class PayloadTooLarge extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(413, message, precondition);
  }
}
export class HeaderTooLarge extends DavError {
  constructor(message: string) {
    super(431, message);
  }
}
export class UnsupportedMediaType extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(415, message, precondition);
  }
}
export class InsufficientStorage extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(507, message, precondition);
  }
}
export class NotImplemented extends DavError {
  constructor(message: string) {
    super(501, message);
  }
}
/** RFC 4918 §11.3: the resource is locked and the request did not submit the lock's token. */
export class Locked extends DavError {
  constructor(message: string, precondition?: Precondition) {
    super(423, message, precondition);
  }
}
/** RFC 4918 §9.8.5: a COPY or MOVE whose Destination is on another server. */
export class BadGateway extends DavError {
  constructor(message: string) {
    super(502, message);
  }
}
export class ServiceUnavailable extends DavError {
  constructor(message: string) {
    super(503, message, undefined, { "retry-after": "1" });
  }
}

/** Context a store error needs to become an HTTP answer (hrefs are built from the request). */
export interface ErrorContext {
  /** Turns a resource name in the target collection into an href. */
  hrefFor?: (name: string) => string;
  /** The precondition a UID clash names: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 each define their own. */
  uidConflict?: string;
  /** The Allow header of the target, for a 405. */
  allow?: string;
}

/** Maps domain errors from the store to DAV errors. Unknown errors are returned unchanged. */
export function fromStoreError(err: unknown, ctx: ErrorContext = {}): unknown {
  if (!(err instanceof StoreError)) return err;
  if (err instanceof EtagMismatch) {
    return new PreconditionFailed(
      "The resource was changed by someone else (ETag mismatch).",
      undefined,
      err.currentEtag,
    );
  }
  if (err instanceof ScheduleTagMismatch) {
    // RFC 6638 §8.3: the organizer changed the event since the attendee read it.
    return new PreconditionFailed(
      "The scheduling object was changed since it was read (Schedule-Tag mismatch); fetch it again.",
      undefined,
      undefined,
    );
  }
  if (err instanceof UidConflict) {
    const href = ctx.hrefFor ? ctx.hrefFor(err.existingName) : err.existingName;
    return new Conflict(`UID ${err.uid} is already used by ${href} in this collection.`, {
      name: ctx.uidConflict ?? cal("no-uid-conflict"),
      hrefs: [href],
    });
  }
  if (err instanceof UidChanged) {
    const href = ctx.hrefFor ? ctx.hrefFor(err.resource) : err.resource;
    return new Conflict(
      `The UID of ${href} is ${excerpt(err.uid)}; a PUT may not change it. Store a new UID as a new resource.`,
      { name: ctx.uidConflict ?? cal("no-uid-conflict"), hrefs: [href] },
    );
  }
  if (err instanceof ParentMissing) return new Conflict("The parent collection does not exist.");
  if (err instanceof AlreadyExists) {
    return new MethodNotAllowed("A resource already exists at this URL.", ctx.allow ?? "OPTIONS, PROPFIND", {
      name: dav("resource-must-be-null"),
    });
  }
  if (err instanceof StoreNotFound) return new NotFound(err.message);
  if (err instanceof ConcurrentModification) {
    return new Conflict("The resource was being changed concurrently; fetch it again and retry.");
  }
  if (err instanceof QuotaExceeded) {
    // RFC 4331 §6: the quota-not-exceeded precondition, with 507.
    return new InsufficientStorage(
      `The collection holds ${err.used} bytes; this write adds ${err.adding} and its quota is ${err.quota} bytes.`,
      { name: dav("quota-not-exceeded") },
    );
  }
  if (err instanceof TooManyParts) {
    return new Forbidden(
      "This request would change more items than one DynamoDB transaction holds (a large folder, or many locks inside it); do it in smaller steps.",
    );
  }
  if (err instanceof NameTooLong) {
    return new Forbidden(
      `The destination would name a collection ${Buffer.byteLength(err.collection)} bytes long, longer than this server can store; choose a shorter name.`,
    );
  }
  if (err instanceof Contains) {
    return new Forbidden(
      "A folder cannot be moved or copied into itself, nor replace a folder that holds it.",
    );
  }
  if (err instanceof TooManyFolders) {
    return new Forbidden(
      `The folder holds ${err.count} folders; at most ${MAX_FOLDERS_PER_WRITE} can be moved or deleted with it in one request. Move or delete its subfolders first.`,
    );
  }
  if (err instanceof SharedCollection) {
    return new Conflict(
      "This collection is shared: it keeps its URL while anyone shares it. Un-share it first, or copy it instead.",
    );
  }
  if (err instanceof ReadOnlyShare) {
    return new Forbidden("This calendar or address book is now shared with you read-only.", {
      name: dav("need-privileges"),
    });
  }
  if (err instanceof ShareRefused) return new Forbidden(`This cannot be shared: ${err.message}.`);
  if (err instanceof InvalidSyncToken) return new Forbidden(err.message, { name: dav("valid-sync-token") });
  return err;
}

export function errorResponse(err: unknown, ctx: ErrorContext = {}): DavResponse {
  const mapped = fromStoreError(err, ctx);
  if (mapped instanceof DavError) {
    const headers: Record<string, string> = { ...mapped.headers };
    if (mapped instanceof JsonProblem) {
      headers["content-type"] = "application/json";
      return { status: mapped.status, headers, body: `${JSON.stringify(mapped.problem)}\n` };
    }
    if (mapped.precondition) {
      headers["content-type"] = "application/xml; charset=utf-8";
      return { status: mapped.status, headers, body: renderError(mapped.precondition, mapped.message) };
    }
    headers["content-type"] = "text/plain; charset=utf-8";
    return { status: mapped.status, headers, body: `${mapped.message}\n` };
  }
  // Never leak internals: log the error, answer a plain 500 (or 503 for throttling).
  const name = (err as { name?: string })?.name ?? "";
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|TransactionConflict/.test(name)) {
    return {
      status: 503,
      headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
      body: "The database is busy; retry shortly.\n",
    };
  }
  console.error(
    JSON.stringify({
      level: "error",
      msg: "unhandled error",
      error: name,
      detail: String((err as Error)?.message ?? err),
    }),
  );
  return {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "Internal server error.\n",
  };
}
