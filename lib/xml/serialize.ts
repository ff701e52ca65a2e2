/** Serialising a parsed element's content back to XML, for dead properties stored verbatim. */
import type { XmlElement } from "./parse.js";

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, "&quot;");

function serializeElement(el: XmlElement, parentNs: string): string {
  const attrs = Object.entries(el.attrs)
    .map(([name, value]) => {
      const m = /^\{([^}]*)\}(.+)$/.exec(name);
      // Namespaced attributes other than xml:lang are rare in properties; keep their local name.
      const local = m ? m[2] : name;
      const qualified = m && m[1] === "http://www.w3.org/XML/1998/namespace" ? `xml:${local}` : local;
      return ` ${qualified}="${escapeAttr(value)}"`;
    })
    .join("");
  const xmlns = el.ns !== parentNs ? ` xmlns="${escapeAttr(el.ns)}"` : "";
  const inner = serializeContent(el);
  return inner === ""
    ? `<${el.local}${xmlns}${attrs}/>`
    : `<${el.local}${xmlns}${attrs}>${inner}</${el.local}>`;
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
