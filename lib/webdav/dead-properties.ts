/**
 * Dead properties (RFC 4918 §4.3, §4.4): stored as the XML content of the property element, with
 * the xml:lang in scope where the client gave one (on the element or an ancestor), so PROPFIND
 * returns both as they were set. The language rides in front of the content between two NUL
 * characters, which XML content can never hold, so values stored without one read unchanged.
 */
import type { XmlNode } from "../xml/build.js";
import { clark, NS } from "../xml/names.js";
import type { XmlElement } from "../xml/parse.js";
import { serializeContent } from "../xml/serialize.js";

const MARK = "\u0000";

/** What is stored for a property element a client set. */
export function storedDeadValue(el: XmlElement): string {
  const content = serializeContent(el);
  return el.lang !== undefined ? `${MARK}${el.lang}${MARK}${content}` : content;
}

/** The property element for a stored value, with its xml:lang. */
export function deadProperty(name: string, stored: string): XmlNode {
  if (!stored.startsWith(MARK)) return { name, value: { raw: stored } };
  const end = stored.indexOf(MARK, 1);
  return {
    name,
    attrs: { [clark(NS.XML, "lang")]: stored.slice(1, end) },
    value: { raw: stored.slice(end + 1) },
  };
}
