/** Every HTTP method the server relies on: each front door must hand all of them to the function. */
export const DAV_METHODS = [
  "OPTIONS",
  "GET",
  "HEAD",
  "PUT",
  "DELETE",
  "PROPFIND",
  "PROPPATCH",
  "REPORT",
  "MKCOL",
  "MKCALENDAR",
  "COPY",
  "MOVE",
  "LOCK",
  "UNLOCK",
] as const;

export type DavMethod = (typeof DAV_METHODS)[number];
