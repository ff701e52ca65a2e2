/**
 * Apple configuration profiles (`.mobileconfig`, Content-Type `application/x-apple-aspen-config`):
 * one profile with a CalDAV and a CardDAV account (Apple's `com.apple.caldav.account` and
 * `com.apple.carddav.account` payloads) pre-filled with the host, port 443 over TLS, the principal
 * URL, the user and an app password made for the device, so setting up an iPhone or a Mac is one
 * tap. The XML plist is written here (xmlbuilder2 escapes every value).
 */
import { createHash } from "node:crypto";
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { principalHref } from "../webdav/paths.js";

export const MOBILECONFIG_TYPE = "application/x-apple-aspen-config";

export interface ProfileInput {
  /** Host name clients connect to (no scheme, no port). */
  host: string;
  user: string;
  /** The app password the profile carries. */
  password: string;
  /** Distinguishes this profile (the app password's id): installing it again replaces it. */
  id: string;
  /** Shown on the device. */
  label?: string;
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

function value(parent: XMLBuilder, v: PlistValue): void {
  if (typeof v === "string") parent.ele("string").txt(v);
  else if (typeof v === "number") parent.ele("integer").txt(String(Math.trunc(v)));
  else if (typeof v === "boolean") parent.ele(v ? "true" : "false");
  else if (Array.isArray(v)) {
    const a = parent.ele("array");
    for (const x of v) value(a, x);
  } else {
    const d = parent.ele("dict");
    for (const [k, x] of Object.entries(v)) {
      d.ele("key").txt(k);
      value(d, x);
    }
  }
}

/** A UUID that stays the same for the same inputs (a re-download replaces the profile, not adds one). */
function stableUuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\0")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

export function mobileconfig(p: ProfileInput): string {
  const reverse = p.host.split(".").reverse().join(".");
  const base = `${reverse}.lambda-dav.${p.user}`;
  const label = p.label ?? `${p.user} on ${p.host}`;
  const principal = principalHref(p.user);
  const account = (kind: "caldav" | "carddav") => {
    const prefix = kind === "caldav" ? "CalDAV" : "CardDAV";
    return {
      PayloadType: `com.apple.${kind}.account`,
      PayloadVersion: 1,
      PayloadIdentifier: `${base}.${kind}`,
      PayloadUUID: stableUuid(p.host, p.user, kind, p.id),
      PayloadDisplayName: `${kind === "caldav" ? "Calendars" : "Contacts"} (${label})`,
      [`${prefix}AccountDescription`]: label,
      [`${prefix}HostName`]: p.host,
      [`${prefix}Port`]: 443,
      [`${prefix}UseSSL`]: true,
      [`${prefix}PrincipalURL`]: `https://${p.host}${principal}`,
      [`${prefix}Username`]: p.user,
      [`${prefix}Password`]: p.password,
    };
  };
  const profile: PlistValue = {
    PayloadType: "Configuration",
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: stableUuid(p.host, p.user, "profile", p.id),
    PayloadDisplayName: label,
    PayloadDescription: `Calendars and contacts of ${p.user} on ${p.host}`,
    PayloadRemovalDisallowed: false,
    PayloadContent: [account("caldav"), account("carddav")],
  };
  const doc = create({ version: "1.0", encoding: "UTF-8" }).dtd({
    pubID: "-//Apple//DTD PLIST 1.0//EN",
    sysID: "http://www.apple.com/DTDs/PropertyList-1.0.dtd",
  });
  const root = doc.ele("plist", { version: "1.0" });
  value(root, profile);
  return doc.end({ prettyPrint: true });
}
