/** Validating a member's body by collection kind, and the index fields derived from it. */
import { validateCalendarObject } from "../caldav/validate.js";
import { validateVcard } from "../carddav/validate.js";
import { UnsupportedMediaType } from "../errors.js";
import type { CollectionRecord } from "../store/collections.js";
import type { NewObject } from "../store/objects.js";
import { cal, card } from "../xml/names.js";
import type { ServerConfig } from "../server.js";
import { DEFAULT_COMPONENTS } from "../auth/provision.js";

export function validateMember(
  col: CollectionRecord,
  name: string,
  body: Buffer,
  contentTypeHeader: string | undefined,
  config: ServerConfig,
): NewObject {
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
  return { name, body, contentType: "text/vcard; charset=utf-8", uid: info.uid, comp: "VCARD" };
}
