import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { before, describe, it } from "node:test";
import { dav } from "../../lib/xml/names.js";
import { basic, startTestServer, type TestServer } from "../helpers/server.js";
import {
  errorConditions,
  mustProp,
  parseMultistatus,
  propfindBody,
  proppatchBody,
  XML_HEADERS,
} from "../helpers/xml.js";

const REALM = "Test Realm";
const server: TestServer = await startTestServer({ realm: REALM });

const EVENT = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//test//EN",
  "BEGIN:VEVENT",
  "UID:bob-secret@example.com",
  "DTSTAMP:20240101T000000Z",
  "DTSTART:20240102T100000Z",
  "SUMMARY:Bob's secret",
  "END:VEVENT",
  "END:VCALENDAR",
  "",
].join("\r\n");

/** A request with the path sent byte for byte (fetch would resolve `..` and `%2e%2e` itself). */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, method, path, headers: { authorization: basic("alice"), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

before(async () => {
  // Provision both users and give bob an event alice must never see.
  for (const user of ["alice", "bob"]) {
    const res = await server.request("PROPFIND", "/", { user, headers: { depth: "0" } });
    assert.equal(res.status, 207);
  }
  const put = await server.request("PUT", "/calendars/bob/default/secret.ics", {
    user: "bob",
    headers: { "content-type": "text/calendar" },
    body: EVENT,
  });
  assert.equal(put.status, 201, put.body);
});

describe("authentication and isolation (RFC 7617, RFC 3744, RFC 4918 §9.1)", () => {
  it("RFC 7617 §2, RFC 9110 §11.6.1: no credentials → 401 with a Basic challenge naming the realm and UTF-8", async () => {
    for (const [method, path] of [
      ["PROPFIND", "/"],
      ["PROPFIND", "/principals/alice/"],
      ["PROPFIND", "/calendars/alice/default/"],
      ["GET", "/calendars/alice/default/x.ics"],
      ["PROPPATCH", "/calendars/alice/default/"],
      ["PROPFIND", "/calendars/bob/"],
    ]) {
      const res = await server.request(method, path, { user: null, headers: { depth: "0" } });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.headers.get("www-authenticate"), `Basic realm="${REALM}", charset="UTF-8"`);
      assert.doesNotMatch(res.body, /secret/);
    }
  });

  it("RFC 3744 §7.1.1: another user's principal, homes, collections and objects → 403 need-privileges", async () => {
    const cases: [string, string, string | undefined][] = [
      ["PROPFIND", "/principals/bob/", propfindBody([dav("displayname")])],
      ["PROPFIND", "/calendars/bob/", propfindBody([dav("displayname")])],
      ["PROPFIND", "/calendars/bob/default/", propfindBody([dav("displayname")])],
      ["PROPFIND", "/addressbooks/bob/default/", propfindBody([dav("displayname")])],
      ["PROPFIND", "/calendars/bob/default/secret.ics", propfindBody([dav("getetag")])],
      ["GET", "/calendars/bob/default/secret.ics", undefined],
      ["GET", "/calendars/bob/default/", undefined],
      ["DELETE", "/calendars/bob/default/secret.ics", undefined],
      ["DELETE", "/calendars/bob/default/", undefined],
      ["PUT", "/calendars/bob/default/new.ics", EVENT.replace("bob-secret", "intruder")],
      ["PROPPATCH", "/calendars/bob/default/", proppatchBody([{ set: dav("displayname"), value: "pwned" }])],
      ["MKCALENDAR", "/calendars/bob/intruder/", undefined],
      ["MKCOL", "/addressbooks/bob/intruder/", undefined],
    ];
    for (const [method, path, body] of cases) {
      const headers: Record<string, string> = { depth: "0" };
      if (body) headers["content-type"] = method === "PUT" ? "text/calendar" : "application/xml";
      const res = await server.request(method, path, { headers, body });
      assert.equal(res.status, 403, `${method} ${path}: ${res.status} ${res.body}`);
      assert.ok(errorConditions(res.body).includes(dav("need-privileges")), `${method} ${path}`);
      assert.doesNotMatch(res.body, /secret|Bob's/);
    }
    // Bob's data is untouched.
    const check = await server.request("PROPFIND", "/calendars/bob/", {
      user: "bob",
      headers: { ...XML_HEADERS, depth: "1" },
      body: propfindBody([dav("displayname")]),
    });
    const hrefs = parseMultistatus(check.body).map((r) => r.href);
    assert.deepEqual(hrefs.sort(), [
      "/calendars/bob/",
      "/calendars/bob/default/",
      "/calendars/bob/inbox/",
      "/calendars/bob/outbox/",
    ]);
    const cal = parseMultistatus(check.body).find((r) => r.href === "/calendars/bob/default/")!;
    assert.equal(mustProp(cal, dav("displayname")).text, "Calendar");
    const get = await server.request("GET", "/calendars/bob/default/secret.ics", { user: "bob" });
    assert.equal(get.status, 200);
    const gone = await server.request("GET", "/calendars/bob/default/new.ics", { user: "bob" });
    assert.equal(gone.status, 404);
  });

  it("RFC 3744 §5.8: listings show only the user's own principal and homes", async () => {
    for (const [path, expected] of [
      ["/principals/", ["/principals/", "/principals/alice/"]],
      ["/calendars/", ["/calendars/", "/calendars/alice/"]],
      ["/addressbooks/", ["/addressbooks/", "/addressbooks/alice/"]],
    ] as const) {
      const res = await server.request("PROPFIND", path, {
        headers: { ...XML_HEADERS, depth: "1" },
        body: propfindBody([dav("resourcetype")]),
      });
      assert.equal(res.status, 207, path);
      assert.deepEqual(
        parseMultistatus(res.body)
          .map((r) => r.href)
          .sort(),
        [...expected].sort(),
        path,
      );
    }
  });

  it("RFC 3986 §5.2.4, RFC 4918 §8.3: dot segments (plain or percent-encoded) never reach another user's data", async () => {
    for (const path of [
      "/calendars/alice/../bob/default/",
      "/calendars/alice/%2e%2e/bob/default/",
      "/calendars/alice/%2E%2E/bob/default/secret.ics",
      "/calendars/alice%2F..%2Fbob/default/",
      "/calendars/alice/default/../../bob/default/",
      "/principals/alice/..%2fbob/",
      "/calendars/./bob/default/",
    ]) {
      const res = await rawRequest("PROPFIND", path, { depth: "1" });
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status} ${res.body}`);
      assert.doesNotMatch(res.body, /secret|\/calendars\/bob\/default\//, path);
    }
  });

  it("RFC 3986 §6.2.2: double slashes, ./ and trailing-slash variants resolve to the canonical collection", async () => {
    for (const path of [
      "//calendars//alice//default//",
      "/calendars/alice/default",
      "/calendars/./alice/default/",
      "/calendars/alice/%64efault/",
    ]) {
      const res = await rawRequest(
        "PROPFIND",
        path,
        { depth: "0", ...XML_HEADERS },
        propfindBody([dav("displayname")]),
      );
      assert.equal(res.status, 207, `${path}: ${res.body}`);
      const [r] = parseMultistatus(res.body);
      assert.equal(r.href, "/calendars/alice/default/", path);
    }
    // Another user's collection behind a double slash is still another user's.
    const res = await rawRequest("PROPFIND", "//calendars//bob//default", { depth: "0" });
    assert.equal(res.status, 403);
  });

  it("RFC 3986 §2.1: an invalid percent-encoding or a control character in the path → 400", async () => {
    for (const path of [
      "/calendars/alice/%zz/",
      "/calendars/alice/default/%00.ics",
      "/calendars/alice/%E0%A4%A/",
    ]) {
      const res = await rawRequest("PROPFIND", path, { depth: "0" });
      assert.equal(res.status, 400, path);
    }
  });
});
