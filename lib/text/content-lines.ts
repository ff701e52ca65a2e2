/**
 * Content lines of iCalendar (RFC 5545 §3.1) and vCard (RFC 6350 §3.2, RFC 2426 §2.4): the checks
 * both formats share before a parser sees the text.
 */

/** A control character where a content line may not have one (RFC 5545 §3.1 CONTROL, RFC 6350 §3.3). */
export interface ControlCharacter {
  /** 1-based line number (physical lines, before unfolding). */
  line: number;
  /** The property name that line starts with (or the folded line's property). */
  property: string;
  /** `U+000C` and the like. */
  codePoint: string;
}

/**
 * The first control character in the text: anything below U+0020 but HTAB, and U+007F. Line
 * breaks are CRLF or a lone LF (tolerated), and a last line may end in a lone CR; any other CR not
 * followed by LF (a CR CR LF line end, a CR inside a value) is a control character.
 */
export function findControlCharacter(text: string): ControlCharacter | undefined {
  // eslint-disable-next-line no-control-regex
  const m = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n|$)/.exec(text);
  if (!m) return undefined;
  const lines = text.slice(0, m.index).split("\n");
  // The property is named on the last line that does not continue a folded one.
  let property = "";
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!/^[ \t]/.test(lines[i])) {
      property = (/^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)/.exec(lines[i])?.[1] ?? "").toUpperCase();
      break;
    }
  }
  const code = m[0].charCodeAt(0);
  return { line: lines.length, property, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, "0")}` };
}

/** The message for a control character, naming where it is. */
export function controlCharacterMessage(c: ControlCharacter, format: "iCalendar" | "vCard"): string {
  return `Line ${c.line}${c.property ? ` (${c.property})` : ""} holds the control character ${c.codePoint}; ${format} text may hold no control characters but tab.`;
}
