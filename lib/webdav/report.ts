/** REPORT (RFC 3253 §3.6): dispatch on the body's root element to the registered report. */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { dav } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import type { ReportDef, RequestContext, ResourceContext } from "./registry.js";

/** The report the body names, found before the URL is resolved. */
export function prepareReport(m: RequestContext): { def: ReportDef; body: XmlElement } {
  const body = m.body;
  if (!body) throw new BadRequest("REPORT needs an XML body naming the report.");
  const def = m.registry.reports.get(body.name);
  if (!def)
    throw new Forbidden(`The report ${body.name} is not supported here.`, { name: dav("supported-report") });
  return { def, body };
}

export async function report(
  m: ResourceContext,
  { def, body }: { def: ReportDef; body: XmlElement },
): Promise<DavResponse> {
  // RFC 3253 §3.6: a report the resource's supported-report-set does not list fails the same precondition.
  if (!def.on(m.target)) {
    throw new Forbidden(`The report ${body.name} does not run on ${m.target.href}.`, {
      name: dav("supported-report"),
    });
  }
  return def.run(m, body);
}
