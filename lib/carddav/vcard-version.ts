/**
 * vCard 3.0 (RFC 2426) ↔ 4.0 (RFC 6350), for clients that ask for the version they read
 * (RFC 6352 §5.1.1). ical.js parses and writes both; this module holds only the mapping: what a
 * property is called, which value type it takes and how its parameters are spelled in the other
 * version. Everything without an entry passes through with its parameters and value unchanged.
 */
import ICAL from "ical.js";
import { parseVcards, type JCard, type JProp } from "./vcard-text.js";

export type VcardVersion = "3.0" | "4.0";
export const VCARD_VERSIONS: readonly VcardVersion[] = ["3.0", "4.0"];

type Params = JProp[1];
type Prop = JProp;
type DesignSet = ReturnType<typeof ICAL.design.getDesignSet>;

const V3base = ICAL.design.getDesignSet("vcard3");
const V4base = ICAL.design.getDesignSet("vcard");

/**
 * ical.js reads `\;` in a vCard text value as a backslash and a semicolon unless the property is
 * structured, so a converted NOTE would say `\\;`; both RFC 2426 §4 and RFC 6350 §3.4 make it an
 * escaped semicolon. Its readers are fixed where ical.js keeps them (its parser takes no design
 * set), and 3.0 text is written with semicolons escaped, as RFC 2426 §4 requires.
 */
const UNESCAPE: Record<string, string> = { "\\\\": "\\", "\\;": ";", "\\,": ",", "\\n": "\n", "\\N": "\n" };
for (const set of [V3base, V4base]) {
  set.value.text = {
    ...set.value.text,
    fromICAL: (v: string) => (v.includes("\\") ? v.replace(/\\[\\;,nN]/g, (e) => UNESCAPE[e]) : v),
  };
}
// RFC 2426 §3.1.5 lets BDAY be reset to text as well; ical.js's reader takes any value for a date
// (it detects the type from the value and ignores VALUE=), so what is no date is read as text.
V3base.property.bday = {
  ...V3base.property.bday,
  allowedTypes: [...(V3base.property.bday.allowedTypes ?? []), "text"],
  detectType: (v: string) =>
    !/^\d{4}-?\d\d-?\d\d/.test(v) ? "text" : v.includes("T") ? "date-time" : "date",
};
const escape3 = (v: string) => v.replace(/[\\;,\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
/**
 * RFC 2426 §3.1.5: BDAY is a date unless said otherwise (ical.js takes date-time, so every birthday
 * would carry VALUE=DATE), and 3.0 dates are written as its examples write them, `1996-04-15`.
 */
const V3 = {
  ...V3base,
  property: {
    ...V3base.property,
    bday: { defaultType: "date", allowedTypes: ["date", "date-time", "text"] },
  },
  value: {
    ...V3base.value,
    date: { ...V3base.value.date, toICAL: (v: string) => v },
    text: { ...V3base.value.text, toICAL: escape3 },
  },
} as DesignSet;
/**
 * ical.js escapes commas in vCard 4 URIs as it does in text, which breaks every `data:` URI
 * (`base64\,`); a URI value has no escapes (RFC 6350 §5.2, §5.6), so it is written as it is.
 */
const V4 = { ...V4base, value: { ...V4base.value, uri: {} } } as DesignSet;
const DESIGN: Record<VcardVersion, DesignSet> = { "3.0": V3, "4.0": V4 };

/** Properties whose values hold media (RFC 2426 §3.1.4, §3.5.3, §3.6.6, §3.7.2; RFC 6350 §6.2.4, §6.6.3, §6.7.5, §6.8.1). */
const MEDIA: Record<string, string> = { photo: "image", logo: "image", sound: "audio", key: "application" };

/** Apple's 3.0 spelling of the 4.0 group properties (RFC 6350 §6.1.4, §6.6.5). */
const RENAMED_IN_3: Record<string, string> = {
  kind: "x-addressbookserver-kind",
  member: "x-addressbookserver-member",
};
const RENAMED_IN_4 = Object.fromEntries(Object.entries(RENAMED_IN_3).map(([v4, v3]) => [v3, v4]));

/** Apple Contacts' way to say "no year" in 3.0, which has no `--MMDD` form: the year 1604. */
const OMIT_YEAR = "x-apple-omit-year";
/** 4.0's dates of reduced precision (RFC 6350 §4.3.1, §4.3.4) as jCard writes them: 1985, 1985-04, --04, ---12, T10:22. */
const REDUCED_DATE = /^(?:\d{4}(?:-\d\d)?|--\d\d(?:-\d\d)?|---\d\d|T[\d:]+(?:Z|[-+][\d:]+)?)$/;
const URI = /^[a-z][a-z0-9+.-]*:/i;
const NO_YEAR = "1604";

/** The single vCard of a text as jCard, and the version it declares. */
export function parseVcard(text: string): { jcard: JCard; version: string } {
  const jcard = parseVcards(text)[0];
  const version = jcard[1].find((p) => p[0] === "version")?.[3];
  return { jcard, version: String(version ?? "") };
}

/** The version a vCard text declares ("" when it has none). */
export const versionOf = (text: string): string => /^VERSION:[ \t]*([^\r\n]*)/im.exec(text)?.[1].trim() ?? "";

/** The vCard in `text` written as `target`; the text itself when it is that version already. */
export function convertVcard(text: string, target: VcardVersion): string {
  const { jcard, version } = parseVcard(text);
  if (version === target) return text;
  const from = version === "4.0" ? V4 : V3;
  const props = jcard[1].filter((p) => p[0] !== "version");
  const out = props.flatMap((p) => (target === "4.0" ? to4(p, from) : to3(p, from)));
  requireNames(out, target);
  const card: JCard = ["vcard", [["version", {}, "text", target], ...out], []];
  return ICAL.stringify.component(card as never, DESIGN[target]) + "\r\n";
}

/**
 * The same property written for another version, perhaps under another name: its line as the
 * source version writes it, read back with the target version's value types.
 */
function retyped(p: Prop, from: DesignSet, to: DesignSet, name = p[0], params = p[1]): Prop {
  // A value type that is the source's default goes unwritten, and the target would read the value
  // as its own default (a 4.0 TZ text read as 3.0's UTC offset, cut at the first "/"): where the
  // target allows the type but defaults to another, it is written out.
  const design = (set: DesignSet, n: string) =>
    set.property[n] as { defaultType?: string; allowedTypes?: string[] } | undefined;
  const target = design(to, name);
  const sourceDefault = design(from, p[0])?.defaultType ?? "unknown";
  const explicit =
    p[2] === sourceDefault &&
    target?.defaultType !== undefined &&
    target.defaultType !== p[2] &&
    target.allowedTypes?.includes(p[2]);
  const written = explicit ? { ...params, value: p[2] } : params;
  const line = ICAL.stringify.property([p[0], written, ...p.slice(2)] as never, from, true);
  const group = typeof params.group === "string" ? `${params.group.toUpperCase()}.` : "";
  return ICAL.parse.property(
    group + name.toUpperCase() + line.slice(group.length + p[0].length),
    to,
  ) as unknown as Prop;
}

const without = (params: Params, ...names: string[]): Params =>
  Object.fromEntries(Object.entries(params).filter(([k]) => !names.includes(k)));

const typesOf = (params: Params): string[] =>
  params.type === undefined ? [] : Array.isArray(params.type) ? params.type : [params.type];

function withTypes(params: Params, types: string[]): Params {
  const rest = without(params, "type");
  return types.length === 0 ? rest : { ...rest, type: types.length === 1 ? types[0] : types };
}

/** 3.0's `TYPE=pref` is 4.0's `PREF=1` (RFC 6350 §5.3). */
function prefTo4(params: Params): Params {
  const types = typesOf(params);
  const kept = types.filter((t) => t.toLowerCase() !== "pref");
  if (kept.length === types.length) return params;
  return { ...withTypes(params, kept), pref: "1" };
}

function prefTo3(params: Params): Params {
  if (params.pref === undefined) return params;
  const { pref, ...rest } = params;
  return String(pref) === "1" ? withTypes(rest, [...typesOf(rest), "pref"]) : rest;
}

/** The media type of inline data: 3.0's TYPE parameter (`JPEG`), else what the bytes start with. */
function mediaTypeOf(prop: string, types: string[], base64: string): string {
  const named = types.find((t) => t.toLowerCase() !== "pref");
  if (named) return named.includes("/") ? named.toLowerCase() : `${MEDIA[prop]}/${named.toLowerCase()}`;
  if (base64.startsWith("/9j/")) return "image/jpeg";
  if (base64.startsWith("iVBOR")) return "image/png";
  if (base64.startsWith("R0lG")) return "image/gif";
  return "application/octet-stream";
}

function to4(p: Prop, from: DesignSet): Prop[] {
  const [name, params0, type, value] = p;
  const params = prefTo4(params0);
  if (RENAMED_IN_4[name]) {
    const renamed = retyped(p, from, V4, RENAMED_IN_4[name], params);
    // Apple writes `X-ADDRESSBOOKSERVER-KIND:group`; RFC 6350 §6.1.4 spells the kinds in lower case.
    if (renamed[0] === "kind") renamed[3] = String(renamed[3]).toLowerCase();
    return [renamed];
  }
  // A URI written without VALUE=uri (or a KEY written as text) is a URI all the same: base64 has no colon.
  if (MEDIA[name] && (type === "binary" || type === "text") && URI.test(String(value))) {
    const rest = without(params, "encoding", "value");
    return [[name, rest, "uri", String(value)]];
  }
  if (MEDIA[name] && type === "binary") {
    const rest = without(params, "encoding");
    const data = String(value).replace(/\s+/g, "");
    const media = mediaTypeOf(name, typesOf(rest), data);
    return [[name, withTypes(rest, []), "uri", `data:${media};base64,${data}`]];
  }
  if (name === "tel") return [[name, params, "text", String(value)]];
  if (name === "rev" && type === "date-time") return [[name, params, "timestamp", value]];
  if (name === "geo" && Array.isArray(value)) return [[name, params, "uri", `geo:${value.join(",")}`]];
  if (name === "bday" || name === "anniversary") {
    const { [OMIT_YEAR]: omitted, ...rest } = params;
    const date = String(value);
    if (
      omitted !== undefined &&
      (type === "date" || type === "date-time") &&
      date.startsWith(`${omitted}-`)
    ) {
      return [[name, rest, "date-and-or-time", `--${date.slice(String(omitted).length + 1)}`]];
    }
    if (type === "date" || type === "date-time") return [[name, params, "date-and-or-time", date]];
    // Some 3.0 writers put the 4.0 form of "no year" in a 3.0 card: --MMDD or --MM-DD.
    const noYear = /^--(\d\d)-?(\d\d)$/.exec(date);
    if (type === "text" && noYear)
      return [[name, without(params, "value"), "date-and-or-time", `--${noYear[1]}-${noYear[2]}`]];
    if (type === "text" && REDUCED_DATE.test(date)) {
      const plain = without(params, "value");
      return [[name, plain, "date-and-or-time", date]];
    }
  }
  return [retyped(p, from, V4, name, params)];
}

function to3(p: Prop, from: DesignSet): Prop[] {
  const [name, params0, type, value] = p;
  const params = prefTo3(params0);
  if (RENAMED_IN_3[name]) return [retyped(p, from, V3, RENAMED_IN_3[name], params)];
  if (MEDIA[name] && type === "uri") {
    const data = /^data:([^;,]*)((?:;[^;,]*)*);base64,(.*)$/is.exec(String(value));
    if (data) {
      const rest = without(params, "mediatype");
      const subtype = (data[1] || "application/octet-stream").split("/").pop()!.toUpperCase();
      return [[name, { ...withTypes(rest, []), encoding: "b", type: subtype }, "binary", data[3]]];
    }
  }
  // RFC 2426 §3.7.2: a 3.0 KEY is inline or text, never a URI value.
  if (name === "key" && type === "uri") return [[name, params, "text", String(value)]];
  if (name === "tel") {
    const number = type === "uri" ? String(value).replace(/^tel:/i, "") : String(value);
    return [[name, params, "phone-number", number]];
  }
  if (name === "rev" && type === "timestamp") return [[name, params, "date-time", value]];
  if (name === "geo" && type === "uri") {
    const geo = /^geo:([-+\d.]+),([-+\d.]+)/i.exec(String(value));
    if (geo) return [[name, params, "float", [Number(geo[1]), Number(geo[2])]]];
  }
  if ((name === "bday" || name === "anniversary") && (type === "date-and-or-time" || type === "date")) {
    const date = String(value);
    if (/^--\d\d-\d\d$/.test(date)) {
      return [[name, { ...params, [OMIT_YEAR]: NO_YEAR }, "date", `${NO_YEAR}-${date.slice(2)}`]];
    }
    if (/^\d{4}-\d\d-\d\d$/.test(date)) return [[name, params, "date", date]];
    if (/^\d{4}-\d\d-\d\dT/.test(date)) return [[name, params, "date-time", date]];
    // A year, a month or a time alone (RFC 6350 §4.3.4) has no 3.0 form: it goes as text.
    return [[name, params, "text", date]];
  }
  return [retyped(p, from, V3, name, params)];
}

/**
 * FN is required in both versions and N in 3.0 (RFC 2426 §5, RFC 6350 §6.2.1): the one missing is
 * made from the other, so a converted card is valid where the original was.
 */
function requireNames(props: Prop[], target: VcardVersion): void {
  const fn = props.find((p) => p[0] === "fn");
  const n = props.find((p) => p[0] === "n");
  let name = fn ? String(fn[3]) : undefined;
  if (!fn) {
    const parts = n ? (Array.isArray(n[3]) ? (n[3] as unknown[]).map(String) : [String(n[3])]) : [];
    const [family = "", given = ""] = parts;
    const org = props.find((p) => p[0] === "org")?.[3];
    const email = props.find((p) => p[0] === "email")?.[3];
    name =
      [given, family].filter(Boolean).join(" ") || String((Array.isArray(org) ? org[0] : org) ?? email ?? "");
    props.unshift(["fn", {}, "text", name]);
  }
  if (target === "3.0" && !n) props.unshift(["n", {}, "text", [name ?? "", "", "", "", ""]]);
}
