/**
 * End to end with vdirsyncer (Debian's vdirsyncer, 0.19): a `caldav` and a `carddav` storage on the
 * handler behind a loopback HTTP server, each paired with a `filesystem` storage in a temp dir.
 * `vdirsyncer discover` creates the missing collections on both sides (extended MKCOL on the
 * server), then `vdirsyncer sync` moves items both ways: PROPFIND Depth 1 for hrefs and ETags,
 * calendar-multiget / addressbook-multiget to fetch, PUT with If-None-Match: * / If-Match to write,
 * DELETE with If-Match to remove. The tests check each side after each sync.
 *
 * The tests in the describe block run in order and build on each other, like a user's session.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startTestServer, PASSWORDS, type TestServer } from "../helpers/server.js";
import { parseMultistatus, prop, propfindBody, XML_HEADERS } from "../helpers/xml.js";
import { clientMissing, findWorking, run, type RunResult } from "./clients/run.js";

const vdirsyncer = await findWorking(["vdirsyncer"], ["--version"]);

const CRLF = (...lines: string[]) => lines.join("\r\n") + "\r\n";

function ics(uid: string, summary: string, extra: string[] = []): string {
  return CRLF(
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//lambda-dav//vdirsyncer e2e//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20300101T000000Z",
    "DTSTART:20300107T100000Z",
    "DTEND:20300107T110000Z",
    `SUMMARY:${summary}`,
    ...extra,
    "END:VEVENT",
    "END:VCALENDAR",
  );
}

function vcard3(uid: string, fn: string): string {
  return CRLF("BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${fn}`, `N:${fn};;;;`, "END:VCARD");
}

function vcard4(uid: string, fn: string): string {
  return CRLF("BEGIN:VCARD", "VERSION:4.0", `UID:${uid}`, `FN:${fn}`, "KIND:individual", "END:VCARD");
}

/**
 * The n-th of the bulk cards: even ones vCard 3.0 (every tenth with a folded NOTE), odd ones 4.0
 * with non-ASCII text and a tel: URI.
 */
function bulkCard(i: number, fn?: string): string {
  const n = String(i).padStart(3, "0");
  if (i % 2 === 0) {
    return CRLF(
      "BEGIN:VCARD",
      "VERSION:3.0",
      `UID:vd-bulk-${n}`,
      `FN:${fn ?? `Bulk Person ${n}`}`,
      `N:Person ${n};Bulk;;;`,
      `EMAIL;TYPE=INTERNET:bulk${n}@example.org`,
      ...(i % 10 === 0
        ? [
            `NOTE:Card ${n} has a note long enough to be folded onto a second line\\, so the`,
            " fold must survive.",
          ]
        : []),
      "END:VCARD",
    );
  }
  return CRLF(
    "BEGIN:VCARD",
    "VERSION:4.0",
    `UID:vd-bulk-${n}`,
    `FN:${fn ?? `Bülk Persön ${n}`}`,
    "KIND:individual",
    `TEL;VALUE=uri;TYPE=cell:tel:+1-555-0${n}`,
    "END:VCARD",
  );
}
const BULK = Array.from({ length: 100 }, (_, i) => i);
const bulkUid = (i: number) => `vd-bulk-${String(i).padStart(3, "0")}`;

/**
 * A bulk card as a second vdirsyncer gets it: a 3.0 card line for line as written (the fold, the
 * escapes, the UTF-8 text); a 4.0 card as 3.0, since vdirsyncer asks with a bare address-data,
 * whose version defaults to 3.0 (RFC 6352 §10.4), with its UID, name and number (GET keeps 4.0).
 */
function assertCameDown(body: string, i: number, fn?: string): void {
  const sent = bulkCard(i, fn);
  if (sent.includes("VERSION:3.0")) {
    assert.equal(body, sent, `${bulkUid(i)} came down unchanged`);
    return;
  }
  assert.match(body, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/, `${bulkUid(i)} came down as 3.0`);
  for (const line of sent.split("\r\n").filter((l) => /^(UID|FN):/.test(l))) {
    assert.ok(body.split("\r\n").includes(line), `${bulkUid(i)} keeps ${line}`);
  }
  assert.match(body, new RegExp(`\\r\\nTEL;TYPE=cell:\\+1-555-0${String(i).padStart(3, "0")}\\r\\n`));
}

interface ServerItem {
  href: string;
  etag: string;
  body: string;
}

if (!vdirsyncer) {
  clientMissing("vdirsyncer", "apt-get install -y --no-install-recommends vdirsyncer");
} else {
  const server: TestServer = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), "lambda-dav-vdirsyncer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cal = join(dir, "calendars");
  const card = join(dir, "contacts");
  const config = join(dir, "config");

  const storage = (name: string, lines: string[]) => [`[storage ${name}]`, ...lines, ""];
  const remote = (type: string) => [
    `type = "${type}"`,
    `url = "${server.url}/"`,
    `username = "alice"`,
    `password = "${PASSWORDS.alice}"`,
  ];
  writeFileSync(
    config,
    [
      "[general]",
      `status_path = "${join(dir, "status")}/"`,
      "",
      "[pair cal]",
      'a = "cal_local"',
      'b = "cal_remote"',
      'collections = ["from a", "from b"]',
      'metadata = ["displayname", "color"]',
      "",
      ...storage("cal_local", ['type = "filesystem"', `path = "${cal}/"`, 'fileext = ".ics"']),
      ...storage("cal_remote", remote("caldav")),
      "[pair card]",
      'a = "card_local"',
      'b = "card_remote"',
      'collections = ["from a", "from b"]',
      "",
      ...storage("card_local", ['type = "filesystem"', `path = "${card}/"`, 'fileext = ".vcf"']),
      ...storage("card_remote", remote("carddav")),
    ].join("\n"),
  );

  /** Run vdirsyncer with a private HOME/XDG dirs; `input` answers its prompts. */
  const vds = async (
    args: string[],
    input = "",
    { configFile = config, timeoutMs = 25_000 }: { configFile?: string; timeoutMs?: number } = {},
  ): Promise<RunResult & { output: string }> => {
    const env = {
      PATH: process.env.PATH,
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "xdg-config"),
      XDG_DATA_HOME: join(dir, "xdg-data"),
      XDG_CACHE_HOME: join(dir, "xdg-cache"),
      VDIRSYNCER_CONFIG: configFile,
    };
    const result = await run(vdirsyncer, ["-c", configFile, ...args], { env, input, timeoutMs });
    return { ...result, output: `${result.stdout}${result.stderr}` };
  };
  const sync = async (options: { configFile?: string; timeoutMs?: number } = {}) => {
    const result = await vds(["sync"], "", options);
    assert.equal(result.code, 0, `vdirsyncer sync failed:\n${result.output}`);
    assert.doesNotMatch(result.output, /error:|critical:|Traceback/i, result.output);
    return result.output;
  };

  /** The server's view of a collection: UID → href, ETag and body, read with PROPFIND + GET. */
  const serverItems = async (path: string): Promise<Map<string, ServerItem>> => {
    const res = await server.request("PROPFIND", path, {
      headers: { ...XML_HEADERS, depth: "1" },
      body: propfindBody(["{DAV:}getetag", "{DAV:}resourcetype"]),
    });
    assert.equal(res.status, 207, `PROPFIND ${path}: ${res.status} ${res.body}`);
    const items = new Map<string, ServerItem>();
    for (const r of parseMultistatus(res.body)) {
      if (r.href.endsWith("/")) continue;
      const got = await server.request("GET", r.href);
      assert.equal(got.status, 200, `GET ${r.href}`);
      const uid = /^UID:(.*)$/m.exec(got.body)?.[1].trim();
      assert.ok(uid, `${r.href} has a UID`);
      items.set(uid, { href: r.href, etag: prop(r, "{DAV:}getetag")?.text ?? "", body: got.body });
    }
    return items;
  };

  /** The local side: UID → file name and content, for one collection directory. */
  const localItems = (collectionDir: string): Map<string, { file: string; body: string }> => {
    const items = new Map<string, { file: string; body: string }>();
    for (const name of readdirSync(collectionDir)) {
      if (name.startsWith(".")) continue;
      const body = readFileSync(join(collectionDir, name), "utf8");
      const uid = /^UID:(.*)$/m.exec(body)?.[1].trim();
      if (uid) items.set(uid, { file: join(collectionDir, name), body });
    }
    return items;
  };

  const put = async (path: string, body: string, type: string, headers: Record<string, string> = {}) => {
    const res = await server.request("PUT", path, { headers: { "content-type": type, ...headers }, body });
    assert.ok([201, 204].includes(res.status), `PUT ${path}: ${res.status} ${res.body}`);
  };

  describe("vdirsyncer 0.19 against lambda-dav", () => {
    it("vdirsyncer: discover finds the default calendar and address book and creates missing ones with extended MKCOL (RFC 6764, RFC 5689)", async () => {
      // Local collections that do not exist on the server yet ("from a")…
      mkdirSync(join(cal, "e2e-local"), { recursive: true });
      writeFileSync(join(cal, "e2e-local", "vd-single.ics"), ics("vd-single", "Single"));
      writeFileSync(
        join(cal, "e2e-local", "vd-weekly.ics"),
        ics("vd-weekly", "Weekly", ["RRULE:FREQ=WEEKLY;COUNT=10"]),
      );
      mkdirSync(join(card, "e2e-contacts"), { recursive: true });
      writeFileSync(join(card, "e2e-contacts", "vd-ada.vcf"), vcard3("vd-ada", "Ada Lovelace"));
      writeFileSync(join(card, "e2e-contacts", "vd-grace.vcf"), vcard4("vd-grace", "Grace Hopper"));
      // …and items in the server's auto-created default collections ("from b").
      await put(
        "/calendars/alice/default/server-made.ics",
        ics("vd-server", "From the server"),
        "text/calendar",
      );
      await put(
        "/addressbooks/alice/default/server-card.vcf",
        vcard3("vd-server-card", "Server Card"),
        "text/vcard",
      );
      // A second one, so deleting the first later does not empty the collection (vdirsyncer refuses
      // to sync a collection that was "completely emptied" on one side).
      await put(
        "/addressbooks/alice/default/server-card-2.vcf",
        vcard4("vd-server-card-2", "Kept"),
        "text/vcard",
      );

      // One "y" per collection missing on one side: e2e-local and e2e-contacts on the server,
      // default in each local directory.
      const discover = await vds(["discover"], "y\n".repeat(8));
      assert.equal(discover.code, 0, discover.output);
      assert.match(discover.output, /cal_remote:\s*\n\s*- "default" \("Calendar"\)/);
      assert.match(discover.output, /card_remote:\s*\n\s*- "default" \("Contacts"\)/);
      assert.match(discover.output, /Saved for cal: collections = \["e2e-local", "default"\]/);
      assert.match(discover.output, /Saved for card: collections = \["e2e-contacts", "default"\]/);

      for (const [path, type] of [
        ["/calendars/alice/e2e-local/", "{urn:ietf:params:xml:ns:caldav}calendar"],
        ["/addressbooks/alice/e2e-contacts/", "{urn:ietf:params:xml:ns:carddav}addressbook"],
      ]) {
        const res = await server.request("PROPFIND", path, {
          headers: { ...XML_HEADERS, depth: "0" },
          body: propfindBody(["{DAV:}resourcetype"]),
        });
        assert.equal(res.status, 207, `${path} was created: ${res.status}`);
        const types = prop(parseMultistatus(res.body)[0], "{DAV:}resourcetype")?.children.map((c) => c.name);
        assert.deepEqual(types?.sort(), ["{DAV:}collection", type].sort(), path);
      }
      assert.deepEqual(readdirSync(cal).sort(), ["default", "e2e-local"]);
      assert.deepEqual(readdirSync(card).sort(), ["default", "e2e-contacts"]);
    });

    it("vdirsyncer: local .ics files sync up and a server-side event syncs down (RFC 4791 §5.3.2, §7.9 calendar-multiget)", async () => {
      const output = await sync();
      assert.match(output, /Copying \(uploading\) item vd-single to cal_remote\/e2e-local/);
      const up = await serverItems("/calendars/alice/e2e-local/");
      assert.deepEqual([...up.keys()].sort(), ["vd-single", "vd-weekly"]);
      assert.match(up.get("vd-single")!.body, /^SUMMARY:Single\r$/m);
      assert.match(up.get("vd-weekly")!.body, /^RRULE:FREQ=WEEKLY;COUNT=10\r$/m);

      const down = localItems(join(cal, "default"));
      assert.deepEqual([...down.keys()], ["vd-server"]);
      assert.match(down.get("vd-server")!.body, /^SUMMARY:From the server\r?$/m);
    });

    it("vdirsyncer: .vcf files (vCard 3.0 and 4.0) sync up and a server-side contact syncs down (RFC 6352 §5.1, §8.7 addressbook-multiget)", async () => {
      const up = await serverItems("/addressbooks/alice/e2e-contacts/");
      assert.deepEqual([...up.keys()].sort(), ["vd-ada", "vd-grace"]);
      assert.match(up.get("vd-ada")!.body, /^FN:Ada Lovelace\r$/m);
      assert.match(up.get("vd-grace")!.body, /^VERSION:4\.0\r$/m);
      const down = localItems(join(card, "default"));
      assert.deepEqual([...down.keys()].sort(), ["vd-server-card", "vd-server-card-2"]);
      assert.match(down.get("vd-server-card")!.body, /^FN:Server Card\r?$/m);
    });

    it("vdirsyncer: a second sync with no changes writes nothing, so ETags are stable (RFC 9110 §8.8.3)", async () => {
      const before = await serverItems("/calendars/alice/e2e-local/");
      const output = await sync();
      assert.doesNotMatch(output, /Copying|Deleting|conflict/i, output);
      const afterSync = await serverItems("/calendars/alice/e2e-local/");
      for (const [uid, item] of before) assert.equal(afterSync.get(uid)?.etag, item.etag, uid);
    });

    it("vdirsyncer: a server-side change (PUT with If-Match) syncs down to the local file (RFC 9110 §13.1.1)", async () => {
      const single = (await serverItems("/calendars/alice/e2e-local/")).get("vd-single")!;
      await put(single.href, ics("vd-single", "Changed on the server"), "text/calendar", {
        "if-match": single.etag,
      });
      const ada = (await serverItems("/addressbooks/alice/e2e-contacts/")).get("vd-ada")!;
      await put(ada.href, vcard3("vd-ada", "Ada King"), "text/vcard", { "if-match": ada.etag });

      const output = await sync();
      assert.match(output, /Copying \(updating\) item vd-single to cal_local\/e2e-local/);
      assert.match(
        localItems(join(cal, "e2e-local")).get("vd-single")!.body,
        /^SUMMARY:Changed on the server\r?$/m,
      );
      assert.match(localItems(join(card, "e2e-contacts")).get("vd-ada")!.body, /^FN:Ada King\r?$/m);
    });

    it("vdirsyncer: a locally edited file updates the server copy with a conditional PUT (RFC 9110 §13.1.1)", async () => {
      const before = (await serverItems("/calendars/alice/e2e-local/")).get("vd-weekly")!;
      const local = localItems(join(cal, "e2e-local")).get("vd-weekly")!;
      writeFileSync(local.file, ics("vd-weekly", "Weekly, edited locally", ["RRULE:FREQ=WEEKLY;COUNT=10"]));
      const grace = localItems(join(card, "e2e-contacts")).get("vd-grace")!;
      writeFileSync(grace.file, vcard4("vd-grace", "Rear Admiral Grace Hopper"));

      const output = await sync();
      assert.match(output, /Copying \(updating\) item vd-weekly to cal_remote\/e2e-local/);
      const now = (await serverItems("/calendars/alice/e2e-local/")).get("vd-weekly")!;
      assert.equal(now.href, before.href);
      assert.notEqual(now.etag, before.etag, "the ETag changes with the content");
      assert.match(now.body, /^SUMMARY:Weekly, edited locally\r$/m);
      const graceNow = (await serverItems("/addressbooks/alice/e2e-contacts/")).get("vd-grace")!;
      assert.match(graceNow.body, /^FN:Rear Admiral Grace Hopper\r$/m);
    });

    it("vdirsyncer: metasync pulls a displayname down and pushes a local displayname and color up with PROPPATCH (RFC 4918 §9.2)", async () => {
      const metasync = async () => {
        const result = await vds(["metasync"]);
        assert.equal(result.code, 0, result.output);
        assert.doesNotMatch(result.output, /error:|critical:|Traceback/i, result.output);
      };
      const calendarProps = async (path: string) => {
        const res = await server.request("PROPFIND", path, {
          headers: { ...XML_HEADERS, depth: "0" },
          body: propfindBody(["{DAV:}displayname", "{http://apple.com/ns/ical/}calendar-color"]),
        });
        assert.equal(res.status, 207);
        const r = parseMultistatus(res.body)[0];
        return {
          displayname: prop(r, "{DAV:}displayname")?.text,
          color: prop(r, "{http://apple.com/ns/ical/}calendar-color")?.text,
        };
      };
      const readMeta = (collection: string, key: string) => readFileSync(join(cal, collection, key), "utf8");

      await metasync();
      assert.equal(readMeta("default", "displayname"), "Calendar", "the server's displayname came down");

      writeFileSync(join(cal, "e2e-local", "displayname"), "Trip planning");
      writeFileSync(join(cal, "e2e-local", "color"), "#FF8800");
      await metasync();
      assert.deepEqual(await calendarProps("/calendars/alice/e2e-local/"), {
        displayname: "Trip planning",
        color: "#FF8800",
      });

      const patch = await server.request("PROPPATCH", "/calendars/alice/default/", {
        headers: XML_HEADERS,
        body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Family</D:displayname></D:prop></D:set></D:propertyupdate>',
      });
      assert.equal(patch.status, 207);
      await metasync();
      assert.equal(readMeta("default", "displayname"), "Family", "a server-side rename came down");
    });

    it("vdirsyncer: deleting a local file deletes it on the server, and a server-side DELETE removes the local file (RFC 4918 §9.6)", async () => {
      const single = (await serverItems("/calendars/alice/e2e-local/")).get("vd-single")!;
      rmSync(localItems(join(cal, "e2e-local")).get("vd-single")!.file);
      const ada = (await serverItems("/addressbooks/alice/e2e-contacts/")).get("vd-ada")!;
      rmSync(localItems(join(card, "e2e-contacts")).get("vd-ada")!.file);
      const serverCard = (await serverItems("/addressbooks/alice/default/")).get("vd-server-card")!;
      const del = await server.request("DELETE", serverCard.href);
      assert.equal(del.status, 204);

      const output = await sync();
      assert.match(output, /Deleting item vd-single from cal_remote\/e2e-local/);
      assert.equal((await server.request("GET", single.href)).status, 404);
      assert.equal((await server.request("GET", ada.href)).status, 404);
      assert.deepEqual([...(await serverItems("/calendars/alice/e2e-local/")).keys()], ["vd-weekly"]);
      assert.deepEqual([...(await serverItems("/addressbooks/alice/e2e-contacts/")).keys()], ["vd-grace"]);
      assert.deepEqual(
        [...localItems(join(card, "default")).keys()],
        ["vd-server-card-2"],
        "the server-side delete synced down",
      );
    });

    const bulkPath = "/addressbooks/alice/e2e-bulk/";
    const fresh = join(dir, "fresh-contacts");
    const freshConfig = join(dir, "config-fresh");
    const slow = { timeoutMs: 120_000 };

    it("vdirsyncer: 100 vCards written locally sync up in one run, each stored byte for byte as written (RFC 6352 §5.1.1, §6.3.2)", async () => {
      mkdirSync(join(card, "e2e-bulk"));
      for (const i of BULK) writeFileSync(join(card, "e2e-bulk", `${bulkUid(i)}.vcf`), bulkCard(i));
      // The new local collection needs a discover ("from a": made on the server with extended MKCOL).
      const discover = await vds(["discover"], "y\n".repeat(8));
      assert.equal(discover.code, 0, discover.output);
      assert.match(discover.output, /Saved for card: collections = \[[^\]]*"e2e-bulk"/, discover.output);

      const output = await sync(slow);
      const uploaded =
        output.match(/Copying \(uploading\) item vd-bulk-\d{3} to card_remote\/e2e-bulk/g) ?? [];
      assert.equal(uploaded.length, 100, output);
      assert.doesNotMatch(output, /conflict/i, output);

      const up = await serverItems(bulkPath);
      assert.deepEqual([...up.keys()].sort(), BULK.map(bulkUid));
      for (const i of BULK) assert.equal(up.get(bulkUid(i))!.body, bulkCard(i), `${bulkUid(i)} as written`);
    });

    it("vdirsyncer: a fresh local directory syncs the 100 cards back down unchanged (RFC 6352 §8.7 addressbook-multiget)", async () => {
      writeFileSync(
        freshConfig,
        [
          "[general]",
          `status_path = "${join(dir, "status-fresh")}/"`,
          "",
          "[pair fresh]",
          'a = "fresh_local"',
          'b = "fresh_remote"',
          'collections = ["e2e-bulk"]',
          "",
          ...storage("fresh_local", ['type = "filesystem"', `path = "${fresh}/"`, 'fileext = ".vcf"']),
          ...storage("fresh_remote", remote("carddav")),
        ].join("\n"),
      );
      // One "y": e2e-bulk does not exist in the fresh directory yet.
      const discover = await vds(["discover"], "y\n".repeat(2), { configFile: freshConfig });
      assert.equal(discover.code, 0, discover.output);
      const output = await sync({ configFile: freshConfig, ...slow });
      const downloaded =
        output.match(/Copying \(uploading\) item vd-bulk-\d{3} to fresh_local\/e2e-bulk/g) ?? [];
      assert.equal(downloaded.length, 100, output);

      const down = localItems(join(fresh, "e2e-bulk"));
      assert.deepEqual([...down.keys()].sort(), BULK.map(bulkUid));
      for (const i of BULK) assertCameDown(down.get(bulkUid(i))!.body, i);
      const again = await sync({ configFile: freshConfig, ...slow });
      assert.doesNotMatch(again, /Copying|Deleting|conflict/i, "a second sync finds nothing to do");
    });

    it("vdirsyncer: a card edited locally and another edited on the server (PUT with If-Match) both sync, with no conflict (RFC 9110 §13.1.1, RFC 6352 §6.3.2)", async () => {
      const before = await serverItems(bulkPath);
      const local = localItems(join(card, "e2e-bulk")).get(bulkUid(7))!;
      writeFileSync(local.file, bulkCard(7, "Edited Locally"));
      const remote42 = before.get(bulkUid(42))!;
      const res = await server.request("PUT", remote42.href, {
        headers: { "content-type": "text/vcard", "if-match": remote42.etag },
        body: bulkCard(42, "Edited On The Server"),
      });
      assert.equal(res.status, 204, res.body);

      const output = await sync(slow);
      assert.doesNotMatch(output, /conflict/i, output);
      const copies = (output.match(/^.*(Copying|Deleting).*$/gm) ?? []).map((l) => l.trim()).sort();
      assert.deepEqual(
        copies.filter((l) => l.includes("e2e-bulk")),
        [
          "Copying (updating) item vd-bulk-007 to card_remote/e2e-bulk",
          "Copying (updating) item vd-bulk-042 to card_local/e2e-bulk",
        ],
        output,
      );

      const now = await serverItems(bulkPath);
      assert.equal(
        now.get(bulkUid(7))!.body,
        bulkCard(7, "Edited Locally"),
        "the local edit is on the server",
      );
      assert.notEqual(now.get(bulkUid(7))!.etag, before.get(bulkUid(7))!.etag);
      assert.equal(
        now.get(bulkUid(42))!.body,
        bulkCard(42, "Edited On The Server"),
        "the server edit stands",
      );
      for (const i of BULK.filter((i) => i !== 7 && i !== 42)) {
        assert.equal(
          now.get(bulkUid(i))!.etag,
          before.get(bulkUid(i))!.etag,
          `${bulkUid(i)} was not rewritten`,
        );
      }
      const mine = localItems(join(card, "e2e-bulk"));
      assert.equal(mine.get(bulkUid(42))!.body, bulkCard(42, "Edited On The Server"));
      assert.match(mine.get(bulkUid(7))!.body, /^FN:Edited Locally\r?$/m);

      // The other client, on the fresh directory, gets both edits on its next sync.
      const other = await sync({ configFile: freshConfig, ...slow });
      assert.doesNotMatch(other, /conflict/i, other);
      const theirs = localItems(join(fresh, "e2e-bulk"));
      assertCameDown(theirs.get(bulkUid(7))!.body, 7, "Edited Locally");
      assert.equal(theirs.get(bulkUid(42))!.body, bulkCard(42, "Edited On The Server"));
    });
  });
}
