/**
 * The files module: a files home per user at /files/<user>/ (like sabre/dav's), holding folders
 * that nest and arbitrary files, for litmus and generic WebDAV clients. Everything else (the write
 * path, locks, COPY/MOVE) is the core's; what keeps the home a tree is in lib/store/folders.ts.
 * The principal names the home in `files-home-set`, in this server's namespace.
 */
import { homeHref } from "../webdav/paths.js";
import { href } from "../webdav/properties.js";
import type { DavModule } from "../webdav/registry.js";
import { clark, NS } from "../xml/names.js";
import { folders } from "./collection.js";

export const FILES_HOME_SET = clark(NS.SERVER, "files-home-set");

export const files: DavModule = {
  name: "files",
  collections: [folders],
  properties: [
    {
      name: FILES_HOME_SET,
      get: (r) => (r.type === "principal" ? [href(homeHref("files", r.user.name))] : undefined),
    },
  ],
};
