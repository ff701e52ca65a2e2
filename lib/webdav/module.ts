/**
 * The WebDAV module (RFC 4918 class 1 and 3, extended MKCOL of RFC 5689, expand-property of
 * RFC 3253 §3.8): the methods every DAV resource answers, and the core live properties. CalDAV,
 * CardDAV and sync add their own in their folders; none of them is known here.
 */
import { dav } from "../xml/names.js";
import { copy, move, prepareCopyMove } from "./copymove.js";
import { expandProperty } from "./expand-property.js";
import { createCollectionAt, prepareMkcol } from "./mkcol.js";
import { del, get, head, headReads, put, putReads } from "./objects.js";
import { nests, type Address } from "./paths.js";
import { preparePropfind, propfind } from "./propfind.js";
import { webdavProperties } from "./properties.js";
import { prepareProppatch, proppatch } from "./proppatch.js";
import type { DavModule, MethodContext } from "./registry.js";
import type { MemberRead } from "./target.js";
import { prepareReport, report } from "./report.js";

const any = () => true;
const member = (a: Address) => a.type === "object";
const collection = (a: Address) => a.type === "collection" || (a.type === "object" && nests(a.kind));
const stored = (a: Address) => a.type === "collection" || a.type === "object";
const xml = { unreadable: 400 } as const;
const bodyOfMember = (_req: unknown, a: Address): MemberRead => (a.type === "object" ? "body" : "meta");
/** On a member the privilege `member` (of its collection), elsewhere none: a collection in one's own home is one's own. */
const onMember =
  (privilege: string) =>
  (m: MethodContext): string | undefined =>
    m.target.type === "object" ? privilege : undefined;

export const webdav: DavModule = {
  name: "webdav",
  compliance: ["1", "3", "extended-mkcol"],
  methods: {
    GET: { allowedOn: stored, member: () => "body", safe: true, run: get },
    HEAD: { allowedOn: stored, member: headReads, safe: true, run: head },
    PUT: {
      allowedOn: member,
      creates: true,
      member: putReads,
      // RFC 3744 §3.3-3.9: changing a member is write-content; adding one, bind on its collection.
      privilege: (m) => (m.target.type === "object" ? dav("write-content") : dav("bind")),
      run: put,
    },
    // Deleting a view from one's own home leaves the share (objects.ts); a member needs unbind.
    DELETE: { allowedOn: stored, privilege: onMember(dav("unbind")), run: del },
    // The source's body is read with it: a member's COPY writes it to the destination.
    COPY: {
      allowedOn: stored,
      member: bodyOfMember,
      prepare: prepareCopyMove,
      privilege: () => dav("read"),
      run: copy,
    },
    MOVE: {
      allowedOn: stored,
      member: bodyOfMember,
      prepare: prepareCopyMove,
      privilege: onMember(dav("unbind")),
      run: move,
    },
    PROPFIND: { allowedOn: any, safe: true, xmlBody: xml, prepare: preparePropfind, run: propfind },
    // Every resource answers it; where nothing is settable each property fails as protected.
    // A sharee's own properties on a view need no grant; the rest write-properties (proppatch.ts).
    PROPPATCH: {
      allowedOn: any,
      xmlBody: xml,
      prepare: prepareProppatch,
      privilege: () => undefined,
      run: proppatch,
    },
    REPORT: {
      allowedOn: any,
      safe: true,
      xmlBody: xml,
      // A report on one object (calendar-query on a member) reads it with its body, once.
      member: bodyOfMember,
      prepare: prepareReport,
      run: report,
    },
    MKCOL: {
      allowedOn: collection,
      // Inside a calendar or address book: 403 with the kind's location precondition, or 409 without a parent.
      explainsOn: member,
      creates: true,
      // Whether something exists at the URL is the create's own condition (405 when it does).
      member: () => "skip",
      // RFC 4918 §9.3: an MKCOL body the server cannot read is a 415.
      xmlBody: { unreadable: 415 },
      prepare: prepareMkcol,
      run: createCollectionAt,
    },
  },
  reports: [{ name: dav("expand-property"), on: any, run: expandProperty }],
  properties: webdavProperties,
};
