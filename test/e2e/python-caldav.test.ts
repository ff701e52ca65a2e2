/**
 * End to end with python-caldav (Debian's python3-caldav, 0.11): test/e2e/clients/python_caldav.py
 * drives a real DAVClient against the handler behind a loopback HTTP server and reports, step by
 * step, what the server answered; the assertions live here.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { startTestServer, PASSWORDS, type TestServer } from "../helpers/server.js";
import { clientMissing, findWorking, run } from "./clients/run.js";

const SCRIPT = fileURLToPath(new URL("./clients/python_caldav.py", import.meta.url));

interface Obj {
  url: string;
  uid: string | null;
  summary: string | null;
  recurrence_ids: string[];
  has_rrule: boolean;
}
type Step = { ok: boolean; error?: string; trace?: string } & Record<string, unknown>;

// Debian's module lives in the system interpreter; a python3 earlier on PATH (pyenv, venv) may lack it.
const python = await findWorking(["/usr/bin/python3", "python3"], ["-c", "import caldav"]);

if (!python) {
  clientMissing("python3-caldav", "apt-get install -y --no-install-recommends python3-caldav");
} else {
  // At the top level: its after() hook closes the server when this file ends, not after a hook.
  const server: TestServer = await startTestServer();
  const base = server.url;
  describe("python-caldav 0.11 against lambda-dav", () => {
    let steps: Record<string, Step>;

    /** The step's observations; fails with the client's own error if the step raised. */
    const step = <T = Step>(name: string): T => {
      const s = steps[name];
      assert.ok(s, `the script did not report step ${name}`);
      assert.ok(s.ok, `python-caldav step ${name} failed: ${s.error}\n${s.trace ?? ""}`);
      return s as unknown as T;
    };
    const urls = (objs: Obj[]) => objs.map((o) => o.url).sort();

    before(async () => {
      const result = await run(python, [SCRIPT, `${base}/`, "alice", PASSWORDS.alice], { timeoutMs: 45_000 });
      assert.equal(result.code, 0, `python_caldav.py exited ${result.code}\n${result.stderr}`);
      try {
        steps = (JSON.parse(result.stdout) as { steps: Record<string, Step> }).steps;
      } catch {
        assert.fail(`python_caldav.py printed no JSON:\n${result.stdout}\n${result.stderr}`);
      }
    });

    it("python-caldav: finds the principal and the auto-created default calendar (RFC 5397, RFC 4791 §6.2.1)", () => {
      assert.equal(step<{ principal: string }>("connect").principal, `${base}/principals/alice/`);
      const { calendars } = step<{ calendars: { url: string; name: string }[] }>("list_calendars");
      assert.deepEqual(calendars, [{ url: `${base}/calendars/alice/default/`, name: "Calendar" }]);
    });

    it("python-caldav: discovery through /.well-known/caldav finds the principal although the redirect drops the PROPFIND body (RFC 6764 §5, RFC 5397 §3)", () => {
      const found = step<{ principal: string; calendars: string[] }>("well_known_discovery");
      assert.equal(found.principal, `${base}/principals/alice/`);
      assert.ok(found.calendars.includes(`${base}/calendars/alice/default/`), found.calendars.join(" "));
    });

    it("python-caldav: MKCALENDAR with a displayname makes a calendar it can list and find by name (RFC 4791 §5.3.1)", () => {
      const made = step<{
        url: string;
        listed: { url: string; name: string }[];
        components: string[];
        by_name: string;
      }>("make_calendar");
      assert.match(made.url, new RegExp(`^${base}/calendars/alice/[^/]+/$`));
      assert.deepEqual(
        made.listed.find((c) => c.url === made.url),
        { url: made.url, name: "E2E" },
        "the new calendar is listed in the calendar home with its displayname",
      );
      assert.equal(made.listed.length, 2);
      assert.equal(made.by_name, made.url);
      assert.ok(made.components.includes("VEVENT"), `supported-calendar-component-set: ${made.components}`);
    });

    it("python-caldav: two saved events come back from a sync-collection on the empty calendar's token (RFC 6578 §3.2)", () => {
      const initial = step<{ token: string; count: number }>("initial_sync_token");
      assert.equal(initial.count, 0);
      assert.ok(initial.token, "an empty calendar still has a sync token");
      const saved = step<{ single: string; weekly: string }>("save_events");
      const made = step<{ url: string }>("make_calendar");
      assert.ok(saved.single.startsWith(made.url) && saved.weekly.startsWith(made.url));

      const sync = step<{ token: string; changed: Obj[]; full: Obj[]; full_token: string }>(
        "sync_after_save",
      );
      assert.notEqual(sync.token, initial.token, "the token moves on after two PUTs");
      assert.deepEqual(urls(sync.changed), [saved.single, saved.weekly].sort());
      assert.deepEqual(sync.changed.map((o) => o.summary).sort(), ["Single", "Weekly"]);
      assert.deepEqual(urls(sync.full), urls(sync.changed), "a full sync lists the same two objects");
      assert.equal(sync.full_token, sync.token);
    });

    it("python-caldav: a time-range query finds the weekly event in a later week, expanded by the server (RFC 4791 §9.9, §9.6.5)", () => {
      const saved = step<{ single: string; weekly: string }>("save_events");
      const expanded = step<{ found: Obj[]; client_side_expansions: string[] }>("date_search_later_week");
      assert.deepEqual(urls(expanded.found), [saved.weekly], "only the weekly event occurs 2030-02-04..11");
      assert.deepEqual(expanded.found[0].recurrence_ids, ["RECURRENCE-ID:20300205T090000Z"]);
      assert.equal(expanded.found[0].has_rrule, false, "an <C:expand> answer carries no RRULE");
      assert.deepEqual(expanded.client_side_expansions, [], "python-caldav did not have to expand it itself");

      const plain = step<{ found: Obj[] }>("search_later_week_unexpanded");
      assert.deepEqual(urls(plain.found), [saved.weekly]);
      assert.equal(plain.found[0].has_rrule, true, "without <C:expand> the stored master comes back");
      assert.deepEqual(
        urls(step<{ found: Obj[] }>("search_first_week").found),
        [saved.single, saved.weekly].sort(),
      );
      assert.deepEqual(step<{ found: Obj[] }>("search_after_series").found, [], "COUNT=10 ends in March");
    });

    it("python-caldav: finds an event by UID with a text-match query and refuses no_overwrite on it (RFC 4791 §9.7.5)", () => {
      const saved = step<{ single: string }>("save_events");
      const byUid = step<{ url: string; summary: string }>("event_by_uid");
      assert.deepEqual(byUid, { ok: true, url: saved.single, summary: "Single" });
      const noOverwrite = step<{ refused: boolean; message?: string }>("no_overwrite_existing_uid");
      assert.equal(noOverwrite.refused, true, "the UID search found the existing event");
    });

    it("python-caldav: an edit and a delete show up as one change and one removal in the next delta sync (RFC 6578 §3.5)", () => {
      const saved = step<{ single: string; weekly: string }>("save_events");
      assert.equal(step<{ summary: string }>("edit_event").summary, "Edited");
      assert.equal(step<{ gone: boolean }>("delete_event").gone, true, "GET after DELETE is 404");

      const delta = step<{
        token_before: string;
        token: string;
        reported: string[];
        updated: Obj[];
        deleted: string[];
        remaining: Obj[];
      }>("sync_after_edit_and_delete");
      assert.deepEqual(delta.reported, [saved.single, saved.weekly].sort());
      assert.deepEqual(urls(delta.updated), [saved.single]);
      assert.equal(delta.updated[0].summary, "Edited");
      assert.deepEqual(delta.deleted, [saved.weekly]);
      assert.deepEqual(urls(delta.remaining), [saved.single]);
      assert.notEqual(delta.token, delta.token_before);
      assert.deepEqual(
        step<{ reported: string[] }>("sync_with_current_token").reported,
        [],
        "nothing changed since",
      );
    });

    it("python-caldav: a second resource with an existing UID is refused with 409 no-uid-conflict (RFC 4791 §5.3.2.1)", () => {
      const saved = step<{ single: string }>("save_events");
      const dup = step<{ rejected: boolean; status: number; message: string; stored: boolean }>(
        "duplicate_uid_other_url",
      );
      assert.equal(dup.rejected, true, "python-caldav raised PutError");
      assert.equal(dup.status, 409);
      const href = /<C:no-uid-conflict><D:href>([^<]+)<\/D:href><\/C:no-uid-conflict>/.exec(dup.message)?.[1];
      assert.ok(href, `a CALDAV:no-uid-conflict with the existing resource's href: ${dup.message}`);
      // Either spelling of the same path is fine ("@" may or may not be percent-encoded).
      assert.equal(decodeURIComponent(href), decodeURIComponent(new URL(saved.single).pathname));
      assert.equal(dup.stored, false, "nothing was stored at the second URL");
    });

    it("python-caldav: pending tasks are found with negated text-match and is-not-defined filters (RFC 4791 §9.7.4, §9.7.5)", () => {
      const todos = step<{ pending: string[]; all: string[]; events: string[] }>("todos");
      assert.deepEqual(todos.pending, ["e2e-todo-nostatus", "e2e-todo-open"]);
      assert.deepEqual(todos.all, [
        "e2e-todo-cancelled",
        "e2e-todo-done",
        "e2e-todo-nostatus",
        "e2e-todo-open",
      ]);
      assert.deepEqual(todos.events, ["e2e-single@lambda-dav.test"], "a VEVENT comp-filter returns no VTODO");
    });

    it("python-caldav: an undated VTODO or VJOURNAL is accepted, not refused by min/max-date-time (RFC 5545 §3.6.2, RFC 4791 §5.2.6, §9.9)", () => {
      const undated = step<{
        puts: Record<string, { status: number; body: string }>;
        pending_after: string[];
      }>("undated_components");
      for (const [name, put] of Object.entries(undated.puts)) {
        assert.equal(put.status, 201, `${name}: ${put.status} ${put.body}`);
      }
      assert.ok(undated.pending_after.includes("e2e-todo-undated"), "an undated task is pending");
    });

    it("python-caldav: deleting the calendar removes it from the calendar home (RFC 4918 §9.6.1)", async () => {
      const deleted = step<{ url: string; listed: string[] }>("delete_calendar");
      assert.deepEqual(deleted.listed, [`${base}/calendars/alice/default/`]);
      const res = await server.request("PROPFIND", new URL(deleted.url).pathname, {
        headers: { depth: "0" },
      });
      assert.equal(res.status, 404);
    });

    // CardDAV: python-caldav 0.11 has no address-book objects; the script uses DAVClient's generic calls.
    const book = `${base}/addressbooks/alice/default/`;
    type Card = { url: string; status: number; etag: string };
    const cards = () => step<{ puts: Record<string, Card> }>("put_vcards").puts;
    /** DAVResponse turns CRLF into LF, and lxml does the same to XML text (XML 1.0 §2.11). */
    const lf = (s: string) => s.replace(/\r\n/g, "\n");

    it("python-caldav: the principal names the address-book home, which holds the default address book (RFC 6352 §7.1.1, §6.1)", () => {
      const home = step<{
        propfind_status: number;
        home_set: string[];
        books: { url: string; name: string }[];
      }>("addressbook_home");
      assert.equal(home.propfind_status, 207);
      assert.deepEqual(home.home_set, [`${base}/addressbooks/alice/`]);
      assert.deepEqual(home.books, [{ url: book, name: "Contacts" }]);
    });

    it("python-caldav: PUT of a vCard 3.0 and a 4.0 with If-None-Match: * creates both, stored as sent (RFC 6352 §6.3.2, §5.1.1)", () => {
      const puts = cards();
      assert.deepEqual(Object.keys(puts).sort(), ["py-ada.vcf", "py-grace.vcf"]);
      for (const [name, put] of Object.entries(puts)) {
        assert.equal(put.url, `${book}${name}`);
        assert.equal(put.status, 201, name);
        assert.match(put.etag ?? "", /^"[^"]+"$/, `${name}: an ETag in the PUT answer`);
      }
      const got = step<{ ada_get_status: number; ada_get_body: string }>("put_vcards");
      assert.equal(got.ada_get_status, 200);
      assert.match(got.ada_get_body, /^VERSION:3\.0$/m);
      assert.match(
        got.ada_get_body,
        /^TEL;TYPE=HOME,VOICE:\+44 20 7946 0000$/m,
        "the 3.0 card as PUT, not converted",
      );
    });

    it("python-caldav: an addressbook-query REPORT with a text-match finds exactly the one card that matches (RFC 6352 §8.6, §10.5.4)", () => {
      const q = step<{
        status: number;
        found: Record<string, { etag: string; data: string }>;
        by_param: string[];
      }>("addressbook_query_text_match");
      const grace = cards()["py-grace.vcf"];
      assert.equal(q.status, 207);
      assert.deepEqual(Object.keys(q.found), [grace.url], "FN contains 'hopper' (any case) is Grace only");
      assert.match(q.found[grace.url].data, /^FN:Grace Hopper$/m);
      // address-data without a version asks for 3.0 (RFC 6352 §10.4): the stored 4.0 card converted, with its own ETag.
      assert.match(q.found[grace.url].data, /^VERSION:3\.0$/m);
      assert.notEqual(q.found[grace.url].etag, grace.etag);
      assert.ok(q.found[grace.url].etag.startsWith(grace.etag.slice(0, -1)), q.found[grace.url].etag);
      assert.deepEqual(q.by_param, [cards()["py-ada.vcf"].url], "param-filter TYPE equals voice");
    });

    it("python-caldav: a REPORT asking address-data version 4.0 gets a 3.0 card as VERSION:4.0 with a derived ETag, the same as GET with Accept version=4.0 (RFC 6352 §10.4, §5.1.1)", () => {
      const v4 = step<{
        status: number;
        hrefs: string[];
        stored_etag: string;
        etag: string;
        data: string;
        get_status: number;
        get_etag: string;
        get_content_type: string;
        get_body: string;
      }>("address_data_version_4");
      const ada = cards()["py-ada.vcf"];
      assert.equal(v4.status, 207);
      assert.deepEqual(v4.hrefs, [ada.url]);
      assert.equal(v4.stored_etag, ada.etag);
      assert.match(v4.data ?? "", /^VERSION:4\.0$/m, v4.data);
      assert.doesNotMatch(v4.data ?? "", /^VERSION:3\.0$/m);
      assert.match(v4.data, /^UID:py-ada@lambda-dav\.test$/m);
      assert.match(v4.data, /^FN:Ada Lovelace$/m);
      assert.notEqual(v4.etag, ada.etag, "the converted card does not carry the stored card's ETag");
      assert.ok(v4.etag.startsWith(`"${ada.etag.slice(1, -1)}.vcard4`) && v4.etag !== ada.etag, v4.etag);
      assert.equal(v4.get_status, 200);
      assert.equal(v4.get_etag, v4.etag, "GET and REPORT name the 4.0 form with the same ETag");
      assert.match(v4.get_content_type, /^text\/vcard/);
      assert.equal(lf(v4.get_body), lf(v4.data), "GET and REPORT give the same 4.0 card");
    });

    it("python-caldav: addressbook-query with CARDDAV:limit 1 returns one card and 507 number-of-matches-within-limits on the address book (RFC 6352 §8.6.1)", () => {
      const limited = step<{
        status: number;
        responses: Record<string, { status: string | null; error: string[]; has_etag: boolean }>;
      }>("addressbook_query_limit");
      assert.equal(limited.status, 207);
      const urls = Object.keys(limited.responses);
      const cardUrls = urls.filter((u) => u !== book);
      assert.equal(cardUrls.length, 1, urls.join(" "));
      assert.ok([cards()["py-ada.vcf"].url, cards()["py-grace.vcf"].url].includes(cardUrls[0]));
      assert.equal(limited.responses[cardUrls[0]].has_etag, true);
      assert.match(limited.responses[book]?.status ?? "", /^HTTP\/1\.1 507\b/);
      assert.deepEqual(limited.responses[book].error, ["{DAV:}number-of-matches-within-limits"]);
    });

    it("python-caldav: DELETE removes both cards: GET is 404 and a query finds none (RFC 4918 §9.6, RFC 6352 §8.6)", () => {
      const deleted = step<{
        deletes: Record<string, { status: number; get_after: number }>;
        left: string[];
      }>("delete_vcards");
      assert.deepEqual(deleted.deletes, {
        "py-ada.vcf": { status: 204, get_after: 404 },
        "py-grace.vcf": { status: 204, get_after: 404 },
      });
      assert.deepEqual(deleted.left, []);
    });
  });
}
