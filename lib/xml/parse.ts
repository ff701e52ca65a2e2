/**
 * Strict, namespace-aware parsing of request bodies with saxes. Refuses anything that is not
 * well-formed, and any DTD: no entity declarations means no XXE and no entity expansion.
 */
import { SaxesParser } from "saxes";
import { clark, NS } from "./names.js";

export interface XmlElement {
  ns: string;
  local: string;
  /** Clark name, `{ns}local`. */
  name: string;
  /** Attributes by Clark name (unprefixed attributes have the empty namespace: `{}attr`). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
  /** Text and child elements in document order (for re-serialising mixed content). */
  nodes: (string | XmlElement)[];
  /** The element's namespace declarations in scope (prefix → URI), for re-serialising dead properties. */
  nsScope: Record<string, string>;
  /** The xml:lang in scope: its own, or the nearest ancestor's (XML 1.0 §2.12). */
  lang?: string;
}

/**
 * Deepest element nesting accepted. DAV bodies nest a dozen levels at most; saxes resolves each
 * element's namespace by walking up the open elements, so unbounded depth costs quadratic time.
 */
export const MAX_DEPTH = 64;

export class XmlParseError extends Error {
  override name = "XmlParseError";
}

/**
 * Request bodies are UTF-8, or UTF-16 with its byte-order mark (XML 1.0 §4.3.3: every processor
 * reads both); a byte sequence that is neither is not well-formed XML.
 */
function decode(body: Buffer): string {
  const encoding =
    body[0] === 0xff && body[1] === 0xfe
      ? "utf-16le"
      : body[0] === 0xfe && body[1] === 0xff
        ? "utf-16be"
        : "utf-8";
  return new TextDecoder(encoding, { fatal: true }).decode(body);
}

export function parseXml(input: Buffer | string): XmlElement {
  let text: string;
  try {
    text = typeof input === "string" ? input : decode(input);
  } catch {
    throw new XmlParseError("the body is not valid UTF-8 or UTF-16 (XML 1.0 §4.3.3); send UTF-8");
  }
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let error: Error | undefined;

  parser.on("error", (e) => {
    error ??= e;
  });
  parser.on("doctype", () => {
    error ??= new XmlParseError("DTDs are not accepted in request bodies");
  });
  parser.on("opentag", (tag) => {
    if (stack.length >= MAX_DEPTH) {
      // Thrown out of write() to stop parsing at once.
      throw new XmlParseError(`elements are nested more than ${MAX_DEPTH} levels deep`);
    }
    const attrs: Record<string, string> = {};
    for (const a of Object.values(tag.attributes)) {
      if (typeof a === "string") continue;
      if (a.prefix === "xmlns" || a.name === "xmlns") continue;
      attrs[clark(a.uri ?? "", a.local ?? a.name)] = a.value;
    }
    const parent = stack[stack.length - 1];
    const nsScope = { ...(parent?.nsScope ?? {}), ...(tag.ns ?? {}) };
    const lang = attrs[clark(NS.XML, "lang")] ?? parent?.lang;
    const el: XmlElement = {
      ns: tag.uri ?? "",
      local: tag.local ?? tag.name,
      name: clark(tag.uri ?? "", tag.local ?? tag.name),
      attrs,
      children: [],
      text: "",
      nodes: [],
      nsScope,
      ...(lang !== undefined ? { lang } : {}),
    };
    if (parent) {
      parent.children.push(el);
      parent.nodes.push(el);
    } else root = el;
    stack.push(el);
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (!top) return;
    top.text += t;
    top.nodes.push(t);
  };
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("closetag", () => {
    stack.pop();
  });

  try {
    parser.write(text).close();
  } catch (e) {
    error ??= e as Error;
  }
  if (error) throw new XmlParseError(error.message.replace(/^undefined:/, "").trim());
  if (!root) throw new XmlParseError("no root element");
  return root;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function children(el: XmlElement, name?: string): XmlElement[] {
  return name ? el.children.filter((c) => c.name === name) : el.children;
}
