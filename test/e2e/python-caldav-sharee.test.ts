/**
 * A sharee with python-caldav (Debian's python3-caldav, 0.11): alice shares a calendar with bob
 * (CS:share, bob's CS:invite-reply), and test/e2e/clients/python_caldav_sharee.py, as bob, finds
 * it in his own calendar home, reads and syncs it, and writes to it; alice's writes reach bob's
 * next sync from his token, and bob's reach alice's calendar (one collection, two paths).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { event } from "../helpers/ical.js";
import { startTestServer, PASSWORDS, type TestServer } from "../helpers/server.js";
import { XML_HEADERS } from "../helpers/xml.js";
import { clientMissing, findWorking, run } from "./clients/run.js";

const SCRIPT = fileURLToPath(new URL("./clients/python_caldav_sharee.py", import.meta.url));
const python = await findWorking(["/usr/bin/python3", "python3"], ["-c", "import caldav"]);

if (!python) {
  clientMissing("python3-caldav", "apt-get install -y --no-install-recommends python3-caldav");
} else {
  const server: TestServer = await startTestServer();
  const base = server.url;
  const asBob = async (token?: string) => {
    const result = await run(python, [SCRIPT, `${base}/`, "bob", PASSWORDS.bob, ...(token ? [token] : [])], {
      timeoutMs: 45_000,
    });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.ok(out.ok, `python-caldav failed: ${String(out.error)}\n${String(out.trace)}`);
    return out;
  };

  describe("python-caldav 0.11 as a sharee", () => {
    it("sees alice's shared calendar in bob's own home, syncs it and writes to it; both users see one collection", async () => {
      for (const user of ["alice", "bob"])
        assert.equal((await server.request("PROPFIND", "/", { user, headers: { depth: "0" } })).status, 207);
      const put = (user: string, path: string, body: string) =>
        server.request("PUT", path, { user, headers: { "content-type": "text/calendar" }, body });
      assert.equal(
        (await put("alice", "/calendars/alice/default/a1.ics", event("a1", "From alice"))).status,
        201,
      );
      const share = await server.request("POST", "/calendars/alice/default/", {
        headers: XML_HEADERS,
        body: `<CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><CS:set><D:href>mailto:bob@example.com</D:href><CS:read-write/></CS:set></CS:share>`,
      });
      assert.equal(share.status, 200, share.body);
      const reply = await server.request("POST", "/calendars/bob/", {
        user: "bob",
        headers: XML_HEADERS,
        body: `<CS:invite-reply xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:href>mailto:bob@example.com</D:href><CS:invite-accepted/><CS:hosturl><D:href>/calendars/alice/default/</D:href></CS:hosturl></CS:invite-reply>`,
      });
      assert.equal(reply.status, 200, reply.body);

      const first = await asBob();
      const view = `${base}/calendars/bob/alice-default/`;
      assert.equal(first.shared, view);
      assert.ok((first.calendars as string[]).includes(`${base}/calendars/bob/default/`));
      assert.deepEqual(first.initial, [`${view}a1.ics`]);
      assert.deepEqual(first.summaries, ["From alice"]);
      assert.equal((first.after_save as string[]).length, 1, "the sharee's own write is in the next sync");

      // Bob's event is in alice's calendar; alice's next write reaches bob's sync from his token.
      const listing = await server.request("PROPFIND", "/calendars/alice/default/", {
        headers: { depth: "1" },
      });
      assert.equal(
        (listing.body.match(/<D:href>\/calendars\/alice\/default\/[^<]+\.ics<\/D:href>/g) ?? []).length,
        2,
      );
      assert.equal(
        (await put("alice", "/calendars/alice/default/a2.ics", event("a2", "Later from alice"))).status,
        201,
      );
      const second = await asBob(first.token as string);
      assert.deepEqual(second.changed, [`${view}a2.ics`]);
      assert.deepEqual(second.summaries, ["Later from alice"]);
      assert.equal((second.events as string[]).length, 3);
    });
  });
}
