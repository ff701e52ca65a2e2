/** 207 Multi-Status bodies (RFC 4918 §13) built with the shared XML writer. */
import { reasonPhrase } from "../http/message.js";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { XmlWriter, type Precondition, type XmlNode } from "./build.js";
import { NS } from "./names.js";

export interface PropStat {
  status: number;
  props: XmlNode[];
  /** A precondition explaining the status (e.g. cannot-modify-protected-property). */
  error?: Precondition;
  description?: string;
}

export interface MultistatusResponse {
  href: string;
  /** Either propstats (property results) or a status for the whole resource. */
  propstats?: PropStat[];
  status?: number;
  error?: Precondition;
}

export const statusLine = (status: number) => `HTTP/1.1 ${status} ${reasonPhrase(status)}`;

/** One DAV:propstat under `parent`: the properties, their status, and why (RFC 4918 §14.22). */
export function writePropstat(w: XmlWriter, parent: XMLBuilder, ps: PropStat): void {
  const propstat = w.el(parent, "{DAV:}propstat");
  const prop = w.el(propstat, "{DAV:}prop");
  for (const p of ps.props) w.node(prop, p);
  w.el(propstat, "{DAV:}status", statusLine(ps.status));
  if (ps.error) w.el(w.el(propstat, "{DAV:}error"), ps.error.name);
  if (ps.description) w.el(propstat, "{DAV:}responsedescription", ps.description);
}

export function renderMultistatus(
  responses: MultistatusResponse[],
  extra: { syncToken?: string } = {},
): string {
  const w = new XmlWriter("{DAV:}multistatus", [NS.CALDAV, NS.CARDDAV, NS.CS]);
  for (const r of responses) {
    const resp = w.el(w.root, "{DAV:}response");
    w.el(resp, "{DAV:}href", r.href);
    for (const ps of r.propstats ?? []) writePropstat(w, resp, ps);
    if (r.status !== undefined) w.el(resp, "{DAV:}status", statusLine(r.status));
    if (r.error) {
      const e = w.el(resp, "{DAV:}error");
      const p = w.el(e, r.error.name);
      for (const href of r.error.hrefs ?? []) w.el(p, "{DAV:}href", href);
    }
  }
  if (extra.syncToken !== undefined) w.el(w.root, "{DAV:}sync-token", extra.syncToken);
  return w.toString();
}

export function multistatusResponse(body: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  return { status: 207, headers: { "content-type": "application/xml; charset=utf-8" }, body };
}
