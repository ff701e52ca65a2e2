/** Building XML responses with xmlbuilder2: namespaces declared once on the root with stable prefixes. */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { clark, NS, parseClark, PREFIXES } from "./names.js";
import { parseXml, type XmlElement } from "./parse.js";

/** A precondition element for an error body: its Clark name and optional `DAV:href` children. */
export interface Precondition {
  name: string;
  hrefs?: string[];
  /** Extra child elements by Clark name with text content (e.g. a running task's id). */
  detail?: Record<string, string>;
  /** Further child elements (need-privileges' resource and privilege). */
  children?: XmlNode[];
}

/** A property value: text, nested elements, or raw XML (dead properties stored verbatim). */
export type XmlValue = string | XmlNode[] | { raw: string } | undefined;

export interface XmlNode {
  name: string; // Clark name
  value?: XmlValue;
  attrs?: Record<string, string>;
}

export class XmlWriter {
  private prefixes = new Map<string, string>();
  readonly root: XMLBuilder;

  constructor(rootName: string, extraNamespaces: string[] = []) {
    const { ns, local } = parseClark(rootName);
    const doc = create({ version: "1.0", encoding: "utf-8" });
    this.prefixes.set(ns, PREFIXES[ns] ?? "x0");
    for (const n of [NS.DAV, ...extraNamespaces]) this.prefixFor(n);
    this.root = doc.ele(ns, `${this.prefixes.get(ns)}:${local}`);
    for (const [uri, prefix] of this.prefixes)
      this.root.att("http://www.w3.org/2000/xmlns/", `xmlns:${prefix}`, uri);
  }

  prefixFor(ns: string): string {
    let p = this.prefixes.get(ns);
    if (!p) {
      p = PREFIXES[ns] ?? `x${this.prefixes.size}`;
      this.prefixes.set(ns, p);
      this.root?.att("http://www.w3.org/2000/xmlns/", `xmlns:${p}`, ns);
    }
    return p;
  }

  /** Append `<name>` under `parent`; returns the new element. */
  el(parent: XMLBuilder, name: string, text?: string): XMLBuilder {
    const { ns, local } = parseClark(name);
    let e: XMLBuilder;
    if (ns === "") e = parent.ele(local);
    else e = parent.ele(ns, `${this.prefixFor(ns)}:${local}`);
    if (text !== undefined && text !== "") e.txt(text);
    return e;
  }

  node(parent: XMLBuilder, node: XmlNode): XMLBuilder {
    const e = this.el(parent, node.name);
    for (const [k, v] of Object.entries(node.attrs ?? {})) this.att(e, k, v);
    this.value(e, node.value);
    return e;
  }

  /** An attribute by name: plain, or Clark-named, keeping its namespace (RFC 4918 §4.3); xml: needs no declaration. */
  att(e: XMLBuilder, name: string, value: string): void {
    const { ns, local } = parseClark(name);
    if (ns === "") e.att(local, value);
    else if (ns === NS.XML) e.att(NS.XML, `xml:${local}`, value);
    else e.att(ns, `${this.prefixFor(ns)}:${local}`, value);
  }

  value(e: XMLBuilder, value: XmlValue): void {
    if (value === undefined) return;
    if (typeof value === "string") {
      if (value !== "") e.txt(value);
    } else if (Array.isArray(value)) {
      for (const n of value) this.node(e, n);
    } else {
      // Dead property content kept as serialised XML: re-read it and write it out node by node.
      this.content(e, parseXml(`<w>${value.raw}</w>`));
    }
  }

  private content(e: XMLBuilder, source: XmlElement): void {
    for (const n of source.nodes) {
      if (typeof n === "string") e.txt(n);
      else {
        const c = this.el(e, n.name);
        for (const [k, v] of Object.entries(n.attrs)) this.att(c, k, v);
        this.content(c, n);
      }
    }
  }

  toString(): string {
    // XML 1.0 §2.11: a parser turns a raw CRLF into LF, so a vCard or iCalendar body inside a
    // REPORT would reach the client with other bytes than GET gives (and than its ETag names);
    // a character reference survives. Outside text and attribute values the output has no CR.
    return this.root.end({ prettyPrint: false }).replace(/\r/g, "&#13;");
  }
}

export function renderError(pre: Precondition, message?: string): string {
  const w = new XmlWriter("{DAV:}error");
  const p = w.el(w.root, pre.name);
  for (const href of pre.hrefs ?? []) w.el(p, "{DAV:}href", href);
  for (const [name, text] of Object.entries(pre.detail ?? {})) w.el(p, name, text);
  for (const node of pre.children ?? []) w.node(p, node);
  if (message) w.el(w.root, clark(NS.SERVER, "message"), message);
  return w.toString();
}
