/** Serialising a parsed element's content back to XML, for dead properties stored verbatim. */
import { NS } from "./names.js";
import type { XmlElement } from "./parse.js";

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, "&quot;");

function serializeElement(el: XmlElement, parentNs: string): string {
  // RFC 4918 §4.3: an attribute's namespace is part of the value; each namespaced attribute gets a
  // prefix declared on its own element, so the fragment stays self-contained.
  const declared = new Map<string, string>();
  const attrs = Object.entries(el.attrs)
    .map(([name, value]) => {
      const m = /^\{([^}]*)\}(.+)$/.exec(name);
      const ns = m ? m[1] : "";
      const local = m ? m[2] : name;
      let qualified = local;
      if (ns === NS.XML) qualified = `xml:${local}`;
      else if (ns !== "") {
        let prefix = declared.get(ns);
        if (!prefix) {
          prefix = `a${declared.size}`;
          declared.set(ns, prefix);
        }
        qualified = `${prefix}:${local}`;
      }
      return ` ${qualified}="${escapeAttr(value)}"`;
    })
    .join("");
  const decls = [...declared].map(([ns, prefix]) => ` xmlns:${prefix}="${escapeAttr(ns)}"`).join("");
  const xmlns = el.ns !== parentNs ? ` xmlns="${escapeAttr(el.ns)}"` : "";
  const inner = serializeContent(el);
  return inner === ""
    ? `<${el.local}${xmlns}${decls}${attrs}/>`
    : `<${el.local}${xmlns}${decls}${attrs}>${inner}</${el.local}>`;
}

/**
 * The element's content (text and child elements) as XML. Every child declares its namespace as
 * the default namespace where it changes, so the fragment stands on its own.
 */
export function serializeContent(el: XmlElement): string {
  return el.nodes
    .map((n) => (typeof n === "string" ? escapeText(n) : serializeElement(n, "\u0000")))
    .join("");
}
