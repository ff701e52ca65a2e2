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
  });
}
