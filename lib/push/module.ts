/**
 * The WebDAV-Push module (draft-bitfire-webdav-push, as DAVx5 speaks it): `webdav-push` in the
 * DAV header; on calendars, address books and their homes the properties `P:transports` (Web Push
 * with the server's VAPID key), `P:topic` and `P:supported-triggers`; registration by `POST` of a
 * `push-register` body and removal by `DELETE` of `/push/…`. Messages are sent by the stream
 * handler (functions/push.ts deployed, lib/push/stream.ts locally), never by a request.
 */
import type { DavModule } from "../webdav/registry.js";
import { dav } from "../xml/names.js";
import { topicOf } from "./deliver.js";
import { push } from "./names.js";
import {
  isRegistration,
  logOf,
  prepareRegistration,
  register,
  registrable,
  registrationEndpoint,
} from "./register.js";
import { vapidKeys } from "./vapid.js";

const TRANSPORTS = push("transports");

export const webdavPush: DavModule = {
  name: "push",
  compliance: ["webdav-push"],
  // POST on a calendar is an import (tasks) unless its body is a push-register document.
  sharesMethods: ["POST"],
  methods: {
    POST: { allowedOn: registrable, accepts: isRegistration, prepare: prepareRegistration, run: register },
  },
  endpoints: { push: registrationEndpoint },
  properties: [
    {
      name: TRANSPORTS,
      async load(ctx) {
        return (await vapidKeys(ctx.config.push)).publicKey;
      },
      get(r, env) {
        const key = env.loaded?.get(TRANSPORTS) as string | undefined;
        if (!env.config.push.enabled || !logOf(r) || !key) return undefined;
        return [
          {
            name: push("web-push"),
            value: [
              { name: push("vapid-public-key"), attrs: { type: "p256ecdsa" }, value: key },
              // The name earlier drafts (and DAVx5 releases that follow them) read.
              { name: push("server-public-key"), attrs: { type: "p256dh" }, value: key },
            ],
          },
        ];
      },
    },
    {
      name: push("topic"),
      get: (r, env) => {
        const log = env.config.push.enabled ? logOf(r) : undefined;
        return log ? topicOf(log) : undefined;
      },
    },
    {
      // Content updates of the members (sync-level 1); property updates are not pushed.
      name: push("supported-triggers"),
      get: (r) =>
        logOf(r)
          ? [{ name: push("content-update"), value: [{ name: dav("sync-level"), value: "1" }] }]
          : undefined,
    },
  ],
};
