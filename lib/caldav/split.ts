/**
 * An import file cut into calendar object resources (RFC 4791 §4.1): one per UID, holding every
 * component with that UID (a recurring event with its overridden instances) and exactly the
 * VTIMEZONEs they reference. The cut is made on the text, component by component, so each
 * component keeps its bytes and one malformed component fails only its own object (validated as
 * a PUT would be), never the whole file. Calendar properties other than PRODID and CALSCALE are
 * dropped (METHOD must not be stored, RFC 4791 §4.1); a component without a UID becomes an object
 * of its own, which validation refuses by name.
 */
import { BadRequest } from "../errors.js";
import { PRODID } from "./freebusy.js";

export interface Piece {
  name: string;
  /** The component's lines as in the file (folded lines stay folded). */
  lines: string[];
  uid?: string;
  /** A VTIMEZONE's own TZID. */
  tzid?: string;
  tzids: Set<string>;
  bytes: number;
}

/** Logical lines: a folded line (RFC 5545 §3.1) is one, with its physical lines kept as they were. */
function logicalLines(text: string): { raw: string[]; value: string }[] {
  const out: { raw: string[]; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) {
      const last = out[out.length - 1];
      last.raw.push(line);
      last.value += line.slice(1);
    } else if (line !== "") out.push({ raw: [line], value: line });
  }
  return out;
}

/** The components of an iCalendar text, cut on the text: VTIMEZONEs by TZID, the others in order. */
export function calendarComponents(text: string): {
  timezones: Map<string, string[]>;
  pieces: Piece[];
  prodid?: string;
  calscale?: string;
  calendars: number;
} {
  const timezones = new Map<string, string[]>();
  const pieces: Piece[] = [];
  let prodid: string | undefined;
  let calscale: string | undefined;
  let depth = 0;
  let current: Piece | undefined;
  let calendars = 0;
  for (const { raw, value } of logicalLines(text)) {
    const begin = /^BEGIN:(.+)$/i.exec(value)?.[1]?.trim().toUpperCase();
    const end = /^END:(.+)$/i.exec(value)?.[1]?.trim().toUpperCase();
    if (begin === "VCALENDAR" && depth === 0) {
      depth = 1;
      calendars++;
      continue;
    }
    if (depth === 0) continue;
    if (depth === 1) {
      if (end === "VCALENDAR") {
        depth = 0;
        continue;
      }
      if (begin) {
        current = { name: begin, lines: [...raw], tzids: new Set(), bytes: 0 };
        depth = 2;
        continue;
      }
      const prop = /^([A-Za-z0-9-]+)[;:]/.exec(value)?.[1]?.toUpperCase();
      if (prop === "PRODID") prodid ??= raw.join("\r\n");
      if (prop === "CALSCALE") calscale ??= raw.join("\r\n");
      continue;
    }
    current!.lines.push(...raw);
    for (const r of raw) current!.bytes += Buffer.byteLength(r) + 2;
    if (begin) depth++;
    else if (end) {
      depth--;
      if (depth === 1) {
        const piece = current!;
        if (piece.name === "VTIMEZONE") {
          if (piece.tzid !== undefined) timezones.set(piece.tzid, piece.lines);
        } else pieces.push(piece);
        current = undefined;
      }
    } else {
      // Only the component's own UID names it (a VALARM inside has none of its own, RFC 5545 §3.6.6).
      if (depth === 2 && current!.uid === undefined) {
        const uid = /^UID(?:;[^:]*)?:(.*)$/i.exec(value)?.[1];
        if (uid !== undefined) current!.uid = uid.trim();
      }
      // The unfolded value: a long TZID is often folded, and may carry parameters.
      if (depth === 2 && current!.name === "VTIMEZONE" && current!.tzid === undefined) {
        const tzid = /^TZID(?:;[^:]*)?:(.*)$/i.exec(value)?.[1];
        if (tzid !== undefined) current!.tzid = tzid.trim();
      }
      for (const m of value.matchAll(/;TZID=("[^"]*"|[^;:]*)/gi))
        current!.tzids.add(m[1].replace(/^"|"$/g, ""));
    }
  }
  // A component the file never closes (a cut-short file) still goes to validation, which names it.
  if (current && current.name !== "VTIMEZONE") pieces.push(current);
  return { timezones, pieces, prodid, calscale, calendars };
}

export function splitCalendar(
  body: Buffer,
  maxBytes = Infinity,
): Array<Buffer | { uid: string; reason: string }> {
  const text = body.toString("utf8").replace(/^\uFEFF/, "");
  const { timezones, pieces, prodid, calscale, calendars } = calendarComponents(text);
  if (calendars === 0) throw new BadRequest("The file holds no VCALENDAR.");
  const groups = new Map<string, Piece[]>();
  let anonymous = 0;
  for (const p of pieces) {
    const key = p.uid ? `u:${p.uid}` : `n:${anonymous++}`;
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()].map((group) => {
    const wanted = new Set(group.flatMap((p) => [...p.tzids]));
    // Counted before it is built: a huge VTIMEZONE shared by thousands of events must not be copied into each.
    const size =
      group.reduce((n, p) => n + p.bytes, 0) +
      [...wanted].reduce((n, tzid) => n + (timezones.get(tzid)?.join("\r\n").length ?? 0), 0);
    if (size > maxBytes) {
      return {
        uid: group[0].uid ?? "",
        reason: `The object would be ${size} bytes with its time zones; the limit is ${maxBytes}.`,
      };
    }
    const lines = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      prodid ?? `PRODID:${PRODID}`,
      ...(calscale ? [calscale] : []),
      ...[...wanted].flatMap((tzid) => timezones.get(tzid) ?? []),
      ...group.flatMap((p) => p.lines),
      "END:VCALENDAR",
    ];
    return Buffer.from(`${lines.join("\r\n")}\r\n`);
  });
}
