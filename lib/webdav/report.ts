/** REPORT (RFC 3253 §3.6): dispatch on the body's root element to the registered report. */
import { BadRequest, Forbidden } from "../errors.js";
import type { DavResponse } from "../http/message.js";
import { dav } from "../xml/names.js";
import type { MethodContext } from "./registry.js";
import type { Resource } from "./target.js";

export async function report(m: MethodContext & { target: Resource }): Promise<DavResponse> {
  const body = m.body;
  if (!body) throw new BadRequest("REPORT needs an XML body naming the report.");
  const def = m.registry.reports.get(body.name);
  if (!def)
    throw new Forbidden(`The report ${body.name} is not supported here.`, { name: dav("supported-report") });
  // RFC 3253 §3.6: a report the resource's supported-report-set does not list fails the same precondition.
  if (!def.on(m.target)) {
    throw new Forbidden(`The report ${body.name} does not run on ${m.target.href}.`, {
      name: dav("supported-report"),
    });
  }
  return def.run(m, body);
}
