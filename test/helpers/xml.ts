/**
 * Reading WebDAV XML answers in tests by namespace, never by prefix: parse a 207 Multi-Status into
 * responses and propstats, pick a property's element and status, read a DAV:error's precondition.
 * Request-body builders take Clark names (`{DAV:}displayname`) and declare every namespace.
 */
import assert from "node:assert/strict";
import { parseXml, type XmlElement } from "../../lib/xml/parse.js";
import { dav, parseClark } from "../../lib/xml/names.js";

export interface Propstat {
  status: number;
  /** The property elements inside DAV:prop. */
  props: XmlElement[];
  /** The DAV:error child, if any. */
  error?: XmlElement;
  description?: string;
}

export interface MsResponse {
  href: string;
  /** DAV:status of the whole response (no propstats), as a number. */
  status?: number;
  propstats: Propstat[];
  error?: XmlElement;
  element: XmlElement;
}

/** `HTTP/1.1 404 Not Found` → 404. */
export function statusCode(line: string): number {
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\b/.exec(line.trim());
  assert.ok(m, `not a status line: ${line}`);
  return Number(m[1]);
}

const only = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);
const one = (el: XmlElement, name: string) => only(el, name)[0];

/** Parse a multistatus body; asserts the root is DAV:multistatus and every response is well-formed per RFC 4918 §14.24. */
export function parseMultistatus(body: string): MsResponse[] {
  const root = parseXml(body);
  assert.equal(root.name, dav("multistatus"), "root element is DAV:multistatus");
  return only(root, dav("response")).map((r) => {
    const hrefs = only(r, dav("href"));
    assert.ok(hrefs.length >= 1, "every DAV:response has a DAV:href");
    const statusEl = one(r, dav("status"));
    const propstats = only(r, dav("propstat")).map((ps): Propstat => {
      const prop = one(ps, dav("prop"));
      const st = one(ps, dav("status"));
      assert.ok(prop && st, "every DAV:propstat has DAV:prop and DAV:status");
      return {
        status: statusCode(st.text),
        props: prop.children,
        error: one(ps, dav("error")),
        description: one(ps, dav("responsedescription"))?.text,
      };
    });
    assert.ok(
      statusEl !== undefined || propstats.length > 0,
      `DAV:response for ${hrefs[0].text} has a DAV:status or at least one DAV:propstat`,
    );
    return {
      href: hrefs[0].text.trim(),
      status: statusEl ? statusCode(statusEl.text) : undefined,
      propstats,
      error: one(r, dav("error")),
      element: r,
    };
  });
}

/** The response for `href` (exact match); fails the test when missing. */
export function responseFor(responses: MsResponse[], href: string): MsResponse {
  const r = responses.find((x) => x.href === href);
  assert.ok(r, `no DAV:response for ${href}; got ${responses.map((x) => x.href).join(", ")}`);
  return r;
}

/** The status a property got in a response, or undefined when it is not mentioned. */
export function propStatus(r: MsResponse, name: string): number | undefined {
  return r.propstats.find((ps) => ps.props.some((p) => p.name === name))?.status;
}

/** The propstat a property is in, or undefined. */
export function propstatOf(r: MsResponse, name: string): Propstat | undefined {
  return r.propstats.find((ps) => ps.props.some((p) => p.name === name));
}

/** The element of a property returned with 200, or undefined. */
export function prop(r: MsResponse, name: string): XmlElement | undefined {
  for (const ps of r.propstats) {
    if (ps.status !== 200) continue;
    const p = ps.props.find((x) => x.name === name);
    if (p) return p;
  }
  return undefined;
}

/** Like `prop`, but fails the test when the property is not there with 200. */
export function mustProp(r: MsResponse, name: string): XmlElement {
  const p = prop(r, name);
  assert.ok(p, `${name} not returned with 200 for ${r.href} (status ${propStatus(r, name)})`);
  return p;
}

/** Every property name mentioned in a response, with its status. */
export function allProps(r: MsResponse): Map<string, number> {
  const m = new Map<string, number>();
  for (const ps of r.propstats) for (const p of ps.props) m.set(p.name, ps.status);
  return m;
}

/** The texts of the DAV:href children of an element. */
export function hrefsIn(el: XmlElement): string[] {
  return only(el, dav("href")).map((h) => h.text.trim());
}

/** The Clark names of an element's child elements (e.g. a resourcetype). */
export function childNames(el: XmlElement): string[] {
  return el.children.map((c) => c.name);
}

/** The precondition names inside a DAV:error body (RFC 4918 §16). */
export function errorConditions(body: string): string[] {
  const root = parseXml(body);
  assert.equal(root.name, dav("error"), "root element is DAV:error");
  return root.children.map((c) => c.name);
}

/** Declares each namespace used with a fresh prefix, so bodies never rely on the server's prefixes. */
class NsDecls {
  private map = new Map<string, string>([["DAV:", "d"]]);
  qname(name: string): string {
    const { ns, local } = parseClark(name);
    if (ns === "") return local;
    let p = this.map.get(ns);
    if (!p) {
      p = `n${this.map.size}`;
      this.map.set(ns, p);
    }
    return `${p}:${local}`;
  }
  attrs(): string {
    return [...this.map].map(([ns, p]) => ` xmlns:${p}="${ns}"`).join("");
  }
}

/** `<propfind><prop>…</prop></propfind>` for these Clark names. */
export function propfindBody(names: string[]): string {
  const ns = new NsDecls();
  const props = names.map((n) => `<${ns.qname(n)}/>`).join("");
  return `<?xml version="1.0" encoding="utf-8"?><d:propfind${ns.attrs()}><d:prop>${props}</d:prop></d:propfind>`;
}

export type PatchOp = { set: string; value: string } | { remove: string };

/** A DAV:propertyupdate; `value` is inserted as raw XML content (escape text yourself). */
export function proppatchBody(ops: PatchOp[]): string {
  const ns = new NsDecls();
  const parts = ops.map((op) => {
    if ("set" in op) {
      const q = ns.qname(op.set);
      return `<d:set><d:prop><${q}>${op.value}</${q}></d:prop></d:set>`;
    }
    return `<d:remove><d:prop><${ns.qname(op.remove)}/></d:prop></d:remove>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate${ns.attrs()}>${parts.join("")}</d:propertyupdate>`;
}

export const XML_HEADERS = { "content-type": "application/xml; charset=utf-8" };
