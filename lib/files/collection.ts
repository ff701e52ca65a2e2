/**
 * The folders of a files home (plain WebDAV collections, RFC 4918 §5.2): a member is any file,
 * stored byte for byte with the media type the client sent. A file's name is its UID, so the
 * write path's UID reservation (unique per collection) holds for files as for calendar objects,
 * and a file moved to another name reserves the new one. GET on a folder answers an HTML index.
 */
import { PayloadTooLarge } from "../errors.js";
import type { CollectionType } from "../webdav/registry.js";
import { collectionHref, encodeSegment, objectHref } from "../webdav/paths.js";
import { dav } from "../xml/names.js";

/** A Content-Type longer than this is not a media type anyone sends; it is stored as octet-stream. */
const MAX_CONTENT_TYPE = 256;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export const folders: CollectionType = {
  kind: "files",
  contentType: "text/html; charset=utf-8",
  homeDisplayName: "Files",
  locationOk: dav("valid-resourcetype"),
  uidConflict: dav("resource-must-be-null"),
  memberProperties: true,
  defaultCollection: (owner) => ({ kind: "files", owner, name: "", props: { "{DAV:}displayname": "Files" } }),
  validateMember(_col, body, contentType, config, name) {
    if (body.length > config.maxResourceSize) {
      throw new PayloadTooLarge(
        `The file is ${body.length} bytes; this server stores files of at most ${config.maxResourceSize} bytes.`,
      );
    }
    const type = contentType?.trim();
    return {
      body,
      contentType: type && type.length <= MAX_CONTENT_TYPE ? type : "application/octet-stream",
      uid: name,
      comp: "FILE",
    };
  },
  index(col, subfolders, files) {
    const here = collectionHref(col.kind, col.owner, col.name);
    const rows = [
      ...(col.name === "" ? [] : [`<li><a href="../">../</a></li>`]),
      ...subfolders.map((f) => {
        const leaf = f.name.slice(f.name.lastIndexOf("/") + 1);
        return `<li><a href="${encodeSegment(leaf)}/">${escapeHtml(leaf)}/</a></li>`;
      }),
      ...files.map(
        (o) =>
          `<li><a href="${escapeHtml(objectHref(col.kind, col.owner, col.name, o.name))}">${escapeHtml(o.name)}</a> ${o.size} bytes</li>`,
      ),
    ];
    return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(here)}</title></head><body>\n<h1>${escapeHtml(here)}</h1>\n<ul>\n${rows.join("\n")}\n</ul>\n</body></html>\n`;
  },
};
