/** MKCALENDAR (RFC 4791 §5.3.1): a calendar with its initial properties, through the WebDAV core's create path. */
import { UnsupportedMediaType } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { createCollectionAt } from "../webdav/mkcol.js";
import type { MethodContext } from "../webdav/registry.js";
import { cal } from "../xml/names.js";

export async function mkcalendar(m: MethodContext): Promise<DavResponse> {
  const body = m.body;
  if (body && body.name !== cal("mkcalendar")) {
    throw new UnsupportedMediaType("The body of an MKCALENDAR must be a CALDAV:mkcalendar element.");
  }
  return createCollectionAt(m, "calendar", body, cal("mkcalendar-response"));
}
