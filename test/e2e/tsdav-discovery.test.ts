import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAccount, createDAVClient, getBasicAuthHeaders } from "tsdav";
import { PASSWORDS, startTestServer, type TestServer } from "../helpers/server.js";

const server: TestServer = await startTestServer();

/** Every request tsdav sends, as `METHOD path`, to check it really walked the discovery. */
function recordingFetch(log: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    log.push(`${init?.method ?? "GET"} ${url.pathname}`);
    return fetch(input, init);
  };
}

/** The requests of RFC 6764 §6 in order: well-known, then the context path, then the principal. */
function assertWalk(log: string[], service: string, principal: string) {
  const at = (entry: string) => log.indexOf(entry);
  assert.ok(at(`PROPFIND /.well-known/${service}`) >= 0, log.join("\n"));
  assert.ok(at("PROPFIND /") > at(`PROPFIND /.well-known/${service}`), log.join("\n"));
  assert.ok(at(`PROPFIND ${principal}`) > at("PROPFIND /"), log.join("\n"));
}

const credentials = (user: string, password = PASSWORDS[user]) => ({ username: user, password });

describe("interop: the tsdav client (RFC 6764 discovery, RFC 4791, RFC 6352)", () => {
  it("RFC 6764 §6: tsdav logs in through /.well-known/caldav and lists the calendars", async () => {
    const log: string[] = [];
    const client = await createDAVClient({
      serverUrl: `${server.url}/`,
      credentials: credentials("alice"),
      authMethod: "Basic",
      defaultAccountType: "caldav",
      fetch: recordingFetch(log),
    });
    // The walk: well-known → current-user-principal on the context path → home set on the principal.
    assertWalk(log, "caldav", "/principals/alice/");

    const mk = await server.request("MKCALENDAR", "/calendars/alice/work/", {
      headers: { "content-type": "application/xml" },
      body:
        `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">` +
        `<D:set><D:prop><D:displayname>Work</D:displayname><A:calendar-color>#336699FF</A:calendar-color>` +
        `<C:calendar-description>Office</C:calendar-description></D:prop></D:set></C:mkcalendar>`,
    });
    assert.equal(mk.status, 201, mk.body);

    const calendars = await client.fetchCalendars();
    const byUrl = new Map(calendars.map((c) => [c.url, c]));
    assert.deepEqual([...byUrl.keys()].sort(), [
      `${server.url}/calendars/alice/default/`,
      `${server.url}/calendars/alice/work/`,
    ]);
    const def = byUrl.get(`${server.url}/calendars/alice/default/`)!;
    assert.equal(def.displayName, "Calendar");
    assert.ok(def.components?.includes("VEVENT"), String(def.components));
    assert.ok(def.ctag, "ctag");
    assert.ok(def.syncToken, "sync-token");
    for (const report of ["calendarMultiget", "calendarQuery", "syncCollection"]) {
      assert.ok(def.reports?.includes(report), `${report} in ${def.reports}`);
    }
    const work = byUrl.get(`${server.url}/calendars/alice/work/`)!;
    assert.equal(work.displayName, "Work");
    assert.equal(work.calendarColor, "#336699FF");
    assert.equal(work.description, "Office");
  });

  it("RFC 6764 §6, RFC 6352 §7.1.1: tsdav discovers the address-book home and lists the address books", async () => {
    const log: string[] = [];
    const client = await createDAVClient({
      serverUrl: `${server.url}/`,
      credentials: credentials("bob"),
      authMethod: "Basic",
      defaultAccountType: "carddav",
      fetch: recordingFetch(log),
    });
    assertWalk(log, "carddav", "/principals/bob/");
    const books = await client.fetchAddressBooks();
    assert.deepEqual(
      books.map((b) => b.url),
      [`${server.url}/addressbooks/bob/default/`],
    );
    assert.equal(books[0].displayName, "Contacts");
    assert.ok(books[0].ctag);
    assert.ok(books[0].reports?.includes("addressbookMultiget"), String(books[0].reports));
  });

  it("RFC 7617: tsdav with a wrong password fails to log in; each user sees only their own collections", async () => {
    await assert.rejects(
      createDAVClient({
        serverUrl: `${server.url}/`,
        credentials: credentials("alice", "wrong"),
        authMethod: "Basic",
        defaultAccountType: "caldav",
      }),
    );
    const account = await createAccount({
      account: { serverUrl: `${server.url}/`, accountType: "caldav", credentials: credentials("bob") },
      headers: getBasicAuthHeaders(credentials("bob")),
      loadCollections: true,
    });
    assert.equal(account.principalUrl, `${server.url}/principals/bob/`);
    assert.deepEqual(
      (account.calendars ?? []).map((c) => c.url),
      [`${server.url}/calendars/bob/default/`],
    );
  });
});
