/** MKCALENDAR (RFC 4791 §5.3.1): a calendar with its initial properties, through the WebDAV core's create path. */
import { UnsupportedMediaType } from "../errors.js";
import { initialProperties, type CreationRequest } from "../webdav/mkcol.js";
import type { RequestContext } from "../webdav/registry.js";
import { cal } from "../xml/names.js";

export function prepareMkcalendar(m: RequestContext): CreationRequest {
  if (m.body && m.body.name !== cal("mkcalendar")) {
    throw new UnsupportedMediaType("The body of an MKCALENDAR must be a CALDAV:mkcalendar element.");
  }
  return { kind: "calendar", ops: initialProperties(m.body), responseRoot: cal("mkcalendar-response") };
}
