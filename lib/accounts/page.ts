/**
 * The account page at `/account/`: plain server-rendered HTML and a little CSS, no framework.
 * Users log in with their main password (a form, with the same per-user slow-down as DAV logins),
 * then see their calendars and address books with their URLs and sizes, create, rename and delete
 * them (through the server's own MKCALENDAR, MKCOL, PROPPATCH and DELETE, so the same rules and
 * errors apply), share them with other users and answer what others share with them (through
 * the server's own CS:share and CS:invite-reply POSTs), manage app passwords, change the main
 * password, and download an Apple profile.
 * Every form carries a CSRF token; a cross-site POST is refused; the Content-Security-Policy
 * allows no inline script or style.
 */
import { randomBytes } from "node:crypto";
import { newAppPassword } from "../auth/app-passwords.js";
import { failureDelayMs, updateCachedUser } from "../auth/basic.js";
import { hashPassword, verifyPassword } from "../auth/password.js";
import { ensureProvisioned } from "../auth/provision.js";
import { mediaType, type DavRequest, type DavResponse } from "../http/message.js";
import { listAppPasswords, revokeAppPassword } from "../store/app-passwords.js";
import { listCollections, type CollectionRecord } from "../store/collections.js";
import { listInvitations, type Invitation } from "../store/shares.js";
import type { ShareGrant } from "../store/views.js";
import type { CollectionKind } from "../store/keys.js";
import { NotFound } from "../store/errors.js";
import { sleep } from "../store/transact.js";
import {
  clearAuthFailures,
  getUser,
  recordAuthFailure,
  setPassword,
  USER_NAME,
  type UserRecord,
} from "../store/users.js";
import type { DavContext } from "../webdav/context.js";
import { collectionHref, homeHref, principalHref } from "../webdav/paths.js";
import type { PublicEndpoint, Registry } from "../webdav/registry.js";
import { originOf } from "../webdav/request.js";
import { STYLE, SCRIPT } from "./assets.js";
import { MOBILECONFIG_TYPE, mobileconfig } from "./mobileconfig.js";
import { csrfToken, csrfValid, newSession, sessionUser, setCookie } from "./session.js";

let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString("hex")));

const CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function html(
  status: number,
  title: string,
  body: string,
  headers: Record<string, string> = {},
): DavResponse {
  return {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      // Not no-referrer: with it the browser sends "Origin: null" on our own forms.
      "referrer-policy": "same-origin",
      "cache-control": "no-store",
      ...headers,
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><link rel="stylesheet" href="/account/style.css"><link rel="icon" href="/account/favicon.ico"><script src="/account/app.js" defer></script></head><body><main>${body}</main></body></html>\n`,
  };
}

const redirect = (to: string, headers: Record<string, string> = {}): DavResponse => ({
  status: 303,
  headers: { location: to, "cache-control": "no-store", ...headers },
});

interface Ctx {
  ctx: DavContext;
  req: DavRequest;
  registry: Registry;
  dav: (req: DavRequest, user: UserRecord) => Promise<DavResponse>;
}

function form(req: DavRequest): URLSearchParams {
  if (mediaType(req.headers["content-type"]) !== "application/x-www-form-urlencoded")
    return new URLSearchParams();
  return new URLSearchParams(req.body.toString("utf8"));
}

/** A POST from another site (its Origin, or the browser's Sec-Fetch-Site, says so) is refused. */
function crossSite(req: DavRequest): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site && site !== "same-origin" && site !== "none") return true;
  const origin = req.headers["origin"];
  // "null": a sandboxed frame or a redirect chain elsewhere; a form of ours always has our origin.
  return origin !== undefined && origin !== originOf(req);
}

const secure = (req: DavRequest) => originOf(req)?.startsWith("https:") ?? true;

export const accountPage: PublicEndpoint = {
  public: true,
  methods: ["GET", "POST"],
  async handle(m, segments) {
    const { req } = m;
    const [first, ...rest] = segments;
    if (rest.length) return html(404, "Not found", "<h1>Not found</h1>");
    if (req.method === "GET" && first === "style.css")
      return {
        status: 200,
        headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=3600" },
        body: STYLE,
      };
    // No icon, but an answer (the browser asks; the site root would want a login).
    if (req.method === "GET" && first === "favicon.ico")
      return { status: 204, headers: { "cache-control": "max-age=86400" } };
    if (req.method === "GET" && first === "app.js")
      return {
        status: 200,
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=3600" },
        body: SCRIPT,
      };
    if (req.method === "POST" && crossSite(req))
      return html(
        403,
        "Refused",
        "<h1>Refused</h1><p>A form from another site cannot act on this account.</p>",
      );
    if (req.method === "POST" && first === "login") return login(m);
    const session = await sessionUser(m.ctx.store, req);
    if (!session) {
      if (req.method === "POST")
        return html(
          403,
          "Logged out",
          `<h1>Your session ended</h1><p><a href="/account/">Log in again</a>.</p>`,
        );
      return loginPage(200);
    }
    if (req.method === "GET" && (first === undefined || first === ""))
      return home(m, session.user, session.cookie);
    if (req.method !== "POST") return html(405, "Not here", "<h1>Not here</h1>", { allow: "GET, POST" });
    const fields = form(req);
    if (!(await csrfValid(m.ctx.store, session.cookie, fields.get("csrf") ?? undefined)))
      return html(
        403,
        "Refused",
        "<h1>Refused</h1><p>The form is out of date or came from elsewhere; reload the page.</p>",
      );
    return act(m, session.user, session.cookie, first ?? "", fields);
  },
};

function loginPage(status: number, message?: string): DavResponse {
  return html(
    status,
    "Log in",
    `<h1>Your calendar account</h1>${message ? `<p class="error">${esc(message)}</p>` : ""}
<form method="post" action="/account/login"><label for="u">User name</label><input type="text" id="u" name="user" autocomplete="username" required>
<label for="p">Password</label><input type="password" id="p" name="password" autocomplete="current-password" required>
<p><button type="submit">Log in</button></p></form><p class="mute">Use your main password here; devices use app passwords.</p>`,
  );
}

async function login(m: Ctx): Promise<DavResponse> {
  const fields = form(m.req);
  const name = fields.get("user") ?? "";
  const password = fields.get("password") ?? "";
  const user = USER_NAME.test(name) ? await getUser(m.ctx.store, name) : undefined;
  // The main password only (an app password is a device's); the same slow-down as DAV logins.
  // An unknown name costs the same scrypt time, so the answer's speed does not tell which names exist.
  const ok =
    (await verifyPassword(password, user?.passwordHash ?? (await dummyHash()))) && user !== undefined;
  if (!ok) {
    const failures = USER_NAME.test(name) ? await recordAuthFailure(m.ctx.store, name) : 1;
    await (m.ctx.authDelay ?? sleep)(failureDelayMs(failures));
    return loginPage(401, "Wrong user name or password.");
  }
  await clearAuthFailures(m.ctx.store, user.name);
  // A first login here makes the default calendar and address book, as a first DAV login does.
  await ensureProvisioned(m.ctx.store, user, m.registry.provisioning(user.name));
  return redirect("/account/", {
    "set-cookie": setCookie(await newSession(m.ctx.store, user), secure(m.req)),
  });
}

const KINDS = { calendar: "Calendars", addressbook: "Address books" } as const;

async function home(
  m: Ctx,
  user: UserRecord,
  cookie: string,
  flash?: { note?: string; error?: string; secret?: string },
  status = 200,
) {
  const origin = originOf(m.req) ?? "";
  const csrf = await csrfToken(m.ctx.store, cookie);
  const hidden = `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
  const copy = (text: string) => `<button type="button" class="quiet" data-copy="${esc(text)}">Copy</button>`;
  const sections: string[] = [];
  const views: CollectionRecord[] = [];
  for (const [kind, title] of Object.entries(KINDS) as [keyof typeof KINDS, string][]) {
    const own = m.registry.collectionType(kind).resourcetype;
    const all = await listCollections(m.ctx.store, kind, user.name, { views: true });
    // Others' collections shared with the user are listed apart: deleting one only leaves the share.
    views.push(...all.filter((c) => c.view));
    // The collections clients list (not the scheduling inbox and outbox).
    const cols = all.filter((c) => !c.view && m.registry.resourcetypeOf(c) === own);
    const rows = cols.map((c) => collectionRow(c, origin, hidden, copy)).join("");
    sections.push(`<h2>${title}</h2>${rows || `<p class="mute">None yet.</p>`}
<form method="post" action="/account/create" class="inline">${hidden}<input type="hidden" name="kind" value="${kind}">
<input type="text" name="name" placeholder="url-name" pattern="[A-Za-z0-9._\\-]{1,64}" required aria-label="Name in the URL">
<input type="text" name="displayname" placeholder="Display name" aria-label="Display name"><button type="submit">Create</button></form>`);
  }
  sections.push(sharedWithYou(await listInvitations(m.ctx.store, user.name), views, origin, hidden, copy));
  const passwords = await listAppPasswords(m.ctx.store, user.name);
  const pwRows = passwords
    .map(
      (
        p,
      ) => `<div class="row"><span class="name">${esc(p.name)}</span><span class="mute">made ${esc(p.created.slice(0, 10))}, ${p.lastUsed ? `last used ${esc(new Date(p.lastUsed).toISOString().slice(0, 16).replace("T", " "))}` : "never used"}</span>
<form method="post" action="/account/revoke" class="inline">${hidden}<input type="hidden" name="id" value="${esc(p.id)}"><button type="submit" class="danger">Revoke</button></form></div>`,
    )
    .join("");
  const discovery = `${origin}/`;
  const body = `<h1>${esc(user.name)}</h1>
${flash?.note ? `<p class="note">${esc(flash.note)}</p>` : ""}${flash?.error ? `<p class="error">${esc(flash.error)}</p>` : ""}
${flash?.secret ? `<p class="note">The new app password, shown only now: <span class="secret">${esc(flash.secret)}</span> ${copy(flash.secret)}</p>` : ""}
<p>Thunderbird, DAVx5 and other clients need one URL: <span class="url">${esc(discovery)}</span> ${copy(discovery)} (your principal: <span class="url">${esc(origin + principalHref(user.name))}</span>)</p>
${sections.join("")}
<h2>App passwords</h2><p class="mute">One per device: each works for calendars and contacts and can be revoked alone.</p>${pwRows || `<p class="mute">None yet.</p>`}
<form method="post" action="/account/app-password" class="inline">${hidden}<input type="text" name="name" placeholder="Device name" maxlength="64" required aria-label="Device name"><button type="submit">Create app password</button></form>
<h2>iPhone, iPad and Mac</h2><form method="post" action="/account/mobileconfig" class="inline">${hidden}<button type="submit">Download configuration profile</button></form>
<p class="mute">Open the file on the device: calendars and contacts are set up with an app password of their own.</p>
<h2>Main password</h2><form method="post" action="/account/password">${hidden}<label for="cur">Current password</label><input type="password" id="cur" name="current" autocomplete="current-password" required>
<label for="new">New password (at least 10 characters)</label><input type="password" id="new" name="new" autocomplete="new-password" minlength="10" required><p><button type="submit">Change password</button></p></form>
<form method="post" action="/account/logout">${hidden}<button type="submit" class="quiet">Log out</button></form>`;
  return html(status, `${user.name}: account`, body);
}

function collectionRow(
  c: CollectionRecord,
  origin: string,
  hidden: string,
  copy: (t: string) => string,
): string {
  const url = origin + collectionHref(c.kind, c.owner, c.name);
  const label = c.props["{DAV:}displayname"] || c.name;
  const size =
    c.bytes < 1024
      ? `${c.bytes} B`
      : c.bytes < 1048576
        ? `${(c.bytes / 1024).toFixed(1)} KB`
        : `${(c.bytes / 1048576).toFixed(1)} MB`;
  const id = `${esc(c.kind)}:${esc(c.name)}`;
  const target = `<input type="hidden" name="target" value="${id}">`;
  const shares = Object.entries(c.shares ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([
        sharee,
        g,
      ]) => `<div class="share"><span>Shared with <strong>${esc(sharee)}</strong></span><span class="mute">${ACCESS[g.access]}, ${esc(g.status)}</span>
<form method="post" action="/account/unshare" class="inline">${hidden}${target}<input type="hidden" name="sharee" value="${esc(sharee)}"><button type="submit" class="danger">Stop sharing</button></form></div>`,
    )
    .join("");
  return `<div class="row"><span class="name">${esc(label)}</span><span class="mute">${size}</span>
<span class="url">${esc(url)}</span>${copy(url)}
<form method="post" action="/account/rename" class="inline">${hidden}${target}<input type="text" name="displayname" value="${esc(label)}" aria-label="New display name"><button type="submit" class="quiet">Rename</button></form>
<form method="post" action="/account/delete" class="inline">${hidden}${target}<button type="submit" class="danger">Delete</button></form>
<div class="shares">${shares}<form method="post" action="/account/share" class="inline">${hidden}${target}<input type="text" name="sharee" placeholder="User name or e-mail" required aria-label="Share ${esc(label)} with (user name or e-mail)"><select name="access" aria-label="Access"><option value="read">${ACCESS.read}</option><option value="read-write">${ACCESS["read-write"]}</option></select><button type="submit" class="quiet">Share</button></form></div></div>`;
}

const ACCESS: Record<ShareGrant["access"], string> = { read: "read-only", "read-write": "read-write" };
const KIND_NAME: Record<string, string> = { calendar: "calendar", addressbook: "address book" };

/** The hidden fields naming an owner's shared collection (for an answer to its invitation). */
const sharedRef = (r: Pick<CollectionRecord, "kind" | "owner" | "name">) =>
  `<input type="hidden" name="kind" value="${esc(r.kind)}"><input type="hidden" name="owner" value="${esc(r.owner)}"><input type="hidden" name="name" value="${esc(r.name)}">`;

/** Invitations waiting for the user's answer, and the shares they accepted (each with Leave). */
function sharedWithYou(
  invitations: Invitation[],
  views: CollectionRecord[],
  origin: string,
  hidden: string,
  copy: (t: string) => string,
): string {
  const reply = (r: Invitation | CollectionRecord, answer: string, label: string, cls = "") =>
    `<form method="post" action="/account/reply" class="inline">${hidden}${sharedRef(r)}<input type="hidden" name="answer" value="${answer}"><button type="submit"${cls ? ` class="${cls}"` : ""}>${label}</button></form>`;
  const invited = invitations.map(
    (
      i,
    ) => `<div class="row"><span class="name">${esc(i.title)}</span><span class="mute">${KIND_NAME[i.kind]} of ${esc(i.owner)}, ${ACCESS[i.access]}, invited ${esc(i.since.slice(0, 10))}</span>
${reply(i, "accept", "Accept")}${reply(i, "decline", "Decline", "danger")}</div>`,
  );
  const accepted = views.map((c) => {
    const view = c.view!;
    const url = origin + collectionHref(c.kind, view.user, view.name);
    const label = view.props["{DAV:}displayname"] || c.props["{DAV:}displayname"] || c.name;
    return `<div class="row"><span class="name">${esc(label)}</span><span class="mute">${KIND_NAME[c.kind]} of ${esc(c.owner)}, ${ACCESS[view.access]}</span>
<span class="url">${esc(url)}</span>${copy(url)}
${reply(c, "leave", "Leave", "danger")}</div>`;
  });
  return `<h2>Shared with you</h2>${[...invited, ...accepted].join("") || `<p class="mute">Nothing yet.</p>`}`;
}

/** A request to the server's own DAV methods, as the logged-in user. */
function davRequest(
  method: string,
  path: string,
  body = "",
  headers: Record<string, string> = {},
): DavRequest {
  return {
    method,
    // The href as sent on the wire, and the path as decoded (a name may hold spaces or accents).
    path: decodeURIComponent(path),
    rawPath: path,
    query: "",
    headers: { "content-type": "application/xml; charset=utf-8", ...headers },
    body: Buffer.from(body),
  };
}

/** What a DAV answer says went wrong (its DAV:error message), or undefined for success. */
function problem(res: DavResponse): string | undefined {
  const body = typeof res.body === "string" ? res.body : (res.body?.toString("utf8") ?? "");
  if (res.status === 207) {
    // PROPPATCH: any propstat other than 200 is a refusal.
    return /<D:status>HTTP\/1\.1 (?!200)\d{3}/.test(body) ? "The change was refused." : undefined;
  }
  if (res.status < 300) return undefined;
  const message = /<ld:message>([^<]*)<\/ld:message>/.exec(body)?.[1] ?? body.trim().slice(0, 200);
  return `${res.status}: ${message.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&") || "refused"}`;
}

const escXml = (s: string) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
const DISPLAYNAME = (name: string) => `<D:displayname>${escXml(name)}</D:displayname>`;

async function act(
  m: Ctx,
  user: UserRecord,
  cookie: string,
  action: string,
  f: URLSearchParams,
): Promise<DavResponse> {
  const store = m.ctx.store;
  const after = async (flash: { note?: string; error?: string; secret?: string }, status = 200) =>
    home(m, user, cookie, flash, status);
  const target = () => {
    const [kind, name] = (f.get("target") ?? "").split(/:(.*)/s);
    return (kind === "calendar" || kind === "addressbook") && name
      ? { kind: kind as CollectionKind, name }
      : undefined;
  };
  switch (action) {
    case "logout":
      return redirect("/account/", { "set-cookie": setCookie("", secure(m.req), 0) });
    case "create": {
      const kind = f.get("kind");
      const name = f.get("name") ?? "";
      if ((kind !== "calendar" && kind !== "addressbook") || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
        return after(
          { error: "A name in the URL is 1 to 64 letters, digits, dots, dashes or underscores." },
          400,
        );
      const display = (f.get("displayname") ?? "").trim() || name;
      const res =
        kind === "calendar"
          ? await m.dav(
              davRequest(
                "MKCALENDAR",
                collectionHref(kind, user.name, name),
                `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>${DISPLAYNAME(display)}</D:prop></D:set></C:mkcalendar>`,
              ),
              user,
            )
          : await m.dav(
              davRequest(
                "MKCOL",
                collectionHref(kind, user.name, name),
                `<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>${DISPLAYNAME(display)}</D:prop></D:set></D:mkcol>`,
              ),
              user,
            );
      const err = problem(res);
      return err ? after({ error: err }, res.status) : after({ note: `Created ${display}.` });
    }
    case "rename": {
      const t = target();
      const display = (f.get("displayname") ?? "").trim();
      if (!t || !display) return after({ error: "Give the new display name." }, 400);
      const res = await m.dav(
        davRequest(
          "PROPPATCH",
          collectionHref(t.kind, user.name, t.name),
          `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>${DISPLAYNAME(display)}</D:prop></D:set></D:propertyupdate>`,
        ),
        user,
      );
      const err = problem(res);
      return err
        ? after({ error: err }, res.status === 207 ? 409 : res.status)
        : after({ note: `Renamed to ${display}.` });
    }
    case "delete": {
      const t = target();
      if (!t) return after({ error: "Nothing to delete." }, 400);
      const res = await m.dav(davRequest("DELETE", collectionHref(t.kind, user.name, t.name)), user);
      const err = problem(res);
      return err ? after({ error: err }, res.status) : after({ note: `Deleted ${t.name}.` });
    }
    case "share":
    case "unshare": {
      const t = target();
      const sharee = (f.get("sharee") ?? "").trim();
      const access = f.get("access") === "read-write" ? "read-write" : "read";
      if (!t || !sharee) return after({ error: "Name the user to share with." }, 400);
      // Stop sharing names the grant's user by principal URL (a user name may hold an "@"). Typed in
      // to share: an e-mail address is a mailto: href (a `%` in it kept literal), else as given.
      const href =
        action === "unshare"
          ? principalHref(sharee)
          : sharee.includes("@")
            ? `mailto:${sharee.replace(/^mailto:/i, "").replace(/%/g, "%25")}`
            : sharee;
      const change =
        action === "share"
          ? `<CS:set><D:href>${escXml(href)}</D:href><CS:${access}/></CS:set>`
          : `<CS:remove><D:href>${escXml(href)}</D:href></CS:remove>`;
      const res = await m.dav(
        davRequest(
          "POST",
          collectionHref(t.kind, user.name, t.name),
          `<CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">${change}</CS:share>`,
        ),
        user,
      );
      const err = problem(res);
      if (err) return after({ error: err }, res.status);
      if (action === "unshare") return after({ note: `${t.name} is no longer shared with ${sharee}.` });
      const waits = m.ctx.config.shareAutoAccept ? "" : " They see it once they accept the invitation.";
      return after({ note: `Shared ${t.name} with ${sharee} (${ACCESS[access]}).${waits}` });
    }
    case "reply": {
      const kind = f.get("kind");
      const owner = f.get("owner") ?? "";
      const name = f.get("name") ?? "";
      const answer = f.get("answer");
      if (
        (kind !== "calendar" && kind !== "addressbook") ||
        !USER_NAME.test(owner) ||
        !name ||
        (answer !== "accept" && answer !== "decline" && answer !== "leave")
      )
        return after({ error: "Nothing to answer." }, 400);
      // Leaving is declining a share already accepted: the view goes, the owner's collection stays
      // (it never deletes a collection of the user's own, whatever the names in their home).
      const accept = answer === "accept";
      const res = await m.dav(
        davRequest(
          "POST",
          homeHref(kind, user.name),
          `<CS:invite-reply xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:href>${escXml(principalHref(owner))}</D:href>${accept ? "<CS:invite-accepted/>" : "<CS:invite-declined/>"}<CS:hosturl><D:href>${escXml(collectionHref(kind, owner, name))}</D:href></CS:hosturl></CS:invite-reply>`,
        ),
        user,
      );
      const err = problem(res);
      if (err) return after({ error: err }, res.status);
      const what = `${owner}’s ${KIND_NAME[kind]} ${name}`;
      return after({
        note: accept ? `Accepted ${what}.` : answer === "leave" ? `You left ${what}.` : `Declined ${what}.`,
      });
    }
    case "app-password": {
      try {
        const { password } = await newAppPassword(store, user.name, f.get("name") ?? "");
        return after({ note: `App password “${(f.get("name") ?? "").trim()}” made.`, secret: password });
      } catch (err) {
        if (err instanceof RangeError) return after({ error: err.message }, 400);
        throw err;
      }
    }
    case "revoke": {
      const id = f.get("id") ?? "";
      try {
        if (!/^[A-Za-z0-9_-]{8}$/.test(id)) throw new NotFound("no such app password");
        await revokeAppPassword(store, user.name, id);
        return after({ note: "Revoked: the device using it is logged out at once." });
      } catch (err) {
        if (err instanceof NotFound) return after({ error: "There is no such app password." }, 404);
        throw err;
      }
    }
    case "password": {
      const current = f.get("current") ?? "";
      const next = f.get("new") ?? "";
      if (!(await verifyPassword(current, user.passwordHash))) {
        // Counted and slowed like a wrong login: a stolen session cannot guess the password fast.
        await (m.ctx.authDelay ?? sleep)(failureDelayMs(await recordAuthFailure(store, user.name)));
        return after({ error: "The current password is wrong." }, 403);
      }
      if (next.length < 10) return after({ error: "The new password needs at least 10 characters." }, 400);
      const hash = await hashPassword(next);
      await setPassword(store, user.name, hash);
      const changed = { ...user, passwordHash: hash };
      updateCachedUser(changed);
      // The old session's signature covered the old hash: a new one for this browser.
      return redirect("/account/", {
        "set-cookie": setCookie(await newSession(store, changed), secure(m.req)),
      });
    }
    case "mobileconfig": {
      const host = (m.req.headers["host"] ?? "").replace(/:\d+$/, "");
      const name = `Apple profile ${new Date().toISOString().slice(0, 10)}`;
      const { id, password } = await newAppPassword(store, user.name, name);
      return {
        status: 200,
        headers: {
          "content-type": MOBILECONFIG_TYPE,
          "content-disposition": `attachment; filename="${user.name.replace(/[^A-Za-z0-9._-]/g, "_")}.mobileconfig"`,
          "cache-control": "no-store",
        },
        body: mobileconfig({ host, user: user.name, password, id }),
      };
    }
    default:
      return html(404, "Not found", "<h1>Not found</h1>");
  }
}
