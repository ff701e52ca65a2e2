/**
 * Apple configuration profiles: what `npm run admin -- mobileconfig` writes parses as a plist
 * (npm `plist`) holding a CalDAV and a CardDAV account payload with the host, port 443 over TLS,
 * the principal URL, the user and a fresh app password that really opens the DAV endpoints.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as plist from "plist";
import { mobileconfig } from "../../lib/accounts/mobileconfig.js";
import { runAdmin } from "../../lib/cli/admin.js";
import { listAppPasswords } from "../../lib/store/app-passwords.js";
import { basic, startTestServer } from "../helpers/server.js";

type Dict = Record<string, unknown>;

describe("Apple configuration profile (.mobileconfig)", () => {
  it("parses as a plist with com.apple.caldav.account and com.apple.carddav.account payloads, filled in and escaped", () => {
    const text = mobileconfig({
      host: "dav.example.com",
      user: "alice",
      password: "ab<&>\"'cd",
      id: "abcdefgh",
    });
    assert.match(text, /<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN"/);
    const root = plist.parse(text) as Dict;
    assert.equal(root.PayloadType, "Configuration");
    const [cal, card] = root.PayloadContent as Dict[];
    assert.equal(cal.PayloadType, "com.apple.caldav.account");
    assert.equal(card.PayloadType, "com.apple.carddav.account");
    assert.equal(cal.CalDAVHostName, "dav.example.com");
    assert.equal(cal.CalDAVPort, 443);
    assert.equal(cal.CalDAVUseSSL, true);
    assert.equal(cal.CalDAVPrincipalURL, "https://dav.example.com/principals/alice/");
    assert.equal(cal.CalDAVUsername, "alice");
    assert.equal(cal.CalDAVPassword, "ab<&>\"'cd", "escaped in the XML, intact when read");
    assert.equal(card.CardDAVHostName, "dav.example.com");
    assert.equal(card.CardDAVPassword, "ab<&>\"'cd");
    assert.match(String(cal.PayloadUUID), /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-A[0-9A-F]{3}-[0-9A-F]{12}$/);
    assert.notEqual(cal.PayloadUUID, card.PayloadUUID);
    // The same inputs give the same identifiers: installing it again replaces it.
    const again = plist.parse(
      mobileconfig({ host: "dav.example.com", user: "alice", password: "x", id: "abcdefgh" }),
    ) as Dict;
    assert.equal(again.PayloadUUID, root.PayloadUUID);
  });

  it("`npm run admin -- mobileconfig USER --host HOST FILE` writes a profile (owner-readable only) whose app password opens the DAV endpoints", async () => {
    const server = await startTestServer();
    const env = { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT, TABLE_NAME: server.ctx.store.tableName };
    const file = join(mkdtempSync(join(tmpdir(), "profile-")), "alice.mobileconfig");
    const err: string[] = [];
    const code = await runAdmin(
      ["mobileconfig", "alice", "--host", "dav.example.com", file],
      { out: () => {}, err: (l) => err.push(l) },
      env,
    );
    assert.equal(code, 0, err.join("\n"));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [cal] = (plist.parse(readFileSync(file, "utf8")) as Dict).PayloadContent as Dict[];
    const password = String(cal.CalDAVPassword);
    const [made] = await listAppPasswords(server.ctx.store, "alice");
    assert.match(made.name, /^Apple profile \d{4}-\d\d-\d\d$/);
    const res = await server.request("PROPFIND", "/principals/alice/", {
      user: null,
      headers: { depth: "0", authorization: basic("alice", password) },
    });
    assert.equal(res.status, 207);
    assert.equal(
      await runAdmin(["mobileconfig", "alice"], { out: () => {}, err: () => {} }, env),
      2,
      "--host is required",
    );
  });
});
