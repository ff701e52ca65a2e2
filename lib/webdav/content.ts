/** Validating a member's body by collection kind, and the index fields derived from it. */
import { validateCalendarObject } from "../caldav/validate.js";
import { validateVcard } from "../carddav/validate.js";
import { Forbidden, UnsupportedMediaType } from "../errors.js";
import type { CollectionRecord } from "../store/collections.js";
import type { NewObject } from "../store/objects.js";
import { cal, card } from "../xml/names.js";
import type { ServerConfig } from "../server.js";
import { DEFAULT_COMPONENTS } from "../auth/provision.js";

/** Longest resource or collection name accepted, in UTF-8 bytes (DynamoDB sort keys end at 1,024). */
export const MAX_NAME_BYTES = 512;
/** Longest UID accepted: its reservation item is keyed by it. */
export const MAX_UID_BYTES = 1000;

/** Refuse a name no store key can hold (403 with a reason: resubmitting it can never succeed). */
export function checkName(name: string, what: "resource" | "collection"): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new Forbidden(
      `The ${what} name is ${Buffer.byteLength(name)} bytes long; this server accepts names of at most ${MAX_NAME_BYTES} bytes.`,
    );
  }
}

function checkUid(uid: string, precondition: string): void {
  if (Buffer.byteLength(uid) > MAX_UID_BYTES) {
    throw new Forbidden(
      `The UID is ${Buffer.byteLength(uid)} bytes long; this server accepts UIDs of at most ${MAX_UID_BYTES} bytes.`,
      { name: precondition },
    );
  }
}

export function validateMember(
  col: CollectionRecord,
  name: string,
  body: Buffer,
  contentTypeHeader: string | undefined,
  config: ServerConfig,
): NewObject {
  checkName(name, "resource");
  const type = (contentTypeHeader ?? "").split(";")[0].trim().toLowerCase();
  if (col.kind === "calendar") {
    // Absent or generic types are tolerated (some clients omit it); another specific type is refused.
    if (type && type !== "text/calendar" && type !== "application/octet-stream" && type !== "text/plain") {
      throw new UnsupportedMediaType(`Calendar objects must be text/calendar, not ${type}.`, {
        name: cal("supported-calendar-data"),
      });
    }
    const info = validateCalendarObject(body, {
      supportedComponents: col.components ?? DEFAULT_COMPONENTS,
      maxResourceSize: config.maxResourceSize,
      minDateTime: "19000101T000000Z",
      maxDateTime: "29991231T235959Z",
    });
    checkUid(info.uid, cal("valid-calendar-object-resource"));
    return {
      name,
      body,
      contentType: "text/calendar; charset=utf-8",
      uid: info.uid,
      comp: info.componentType,
      spanStart: info.spanStart,
      spanEnd: info.spanEnd,
    };
  }
  if (
    type &&
    type !== "text/vcard" &&
    type !== "text/x-vcard" &&
    type !== "text/directory" &&
    type !== "application/octet-stream" &&
    type !== "text/plain"
  ) {
    throw new UnsupportedMediaType(`vCards must be text/vcard, not ${type}.`, {
      name: card("supported-address-data"),
    });
  }
  const info = validateVcard(body, config.maxResourceSize);
  checkUid(info.uid, card("valid-address-data"));
  return { name, body, contentType: "text/vcard; charset=utf-8", uid: info.uid, comp: "VCARD" };
}
