/**
 * `npm run probe`: against the real local server every method must reach the handler; against a
 * front door that swallows methods or strips headers the probe must say so and fail; and nothing
 * it sends may be able to change data.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  formatReport,
  PROBE_METHODS,
  PROBE_PATH,
  probe,
  probeRequests,
  READ_ONLY_METHODS,
  runProbe,
  NEVER_MATCHING_ETAG,
} from "../../lib/cli/probe.js";
import { startLocal, type LocalRuntime } from "../../lib/local/runtime.js";
import { SERVER_HEADER, SERVER_NAME } from "../../lib/server.js";
import { DAV_METHODS } from "../../infra/stack.js";

process.env.DAV_ACCESS_LOG = "0";

describe("probe against the local server", () => {
  let runtime: LocalRuntime;
  before(async () => {
    runtime = await startLocal({ host: "127.0.0.1", port: 0, adminUser: "admin", adminPassword: "pw" });
  });
  after(() => runtime?.stop());

  it("reports every verb as reaching the handler", async () => {
    const report = await probe({ url: runtime.url });
    assert.deepEqual(
      report.verbs.map((v) => v.method),
      [...PROBE_METHODS],
    );
    for (const v of report.verbs) {
      assert.equal(v.reachedHandler, true, `${v.method}: ${v.detail}`);
      assert.equal(typeof v.status, "number");
      assert.equal(v.authenticated, false);
    }
    assert.ok(
      report.checks.every((c) => c.outcome !== "fail"),
      JSON.stringify(report.checks),
    );
    assert.equal(report.ok, true);
    assert.match(formatReport(report), /all 14 methods reached the handler/);
  });

  it("with credentials: authenticates only read-only requests, and the checks hold", async () => {
    const report = await probe({ url: runtime.url, user: "admin", password: "pw" });
    assert.equal(report.ok, true, formatReport(report));
    for (const v of report.verbs) assert.equal(v.authenticated, READ_ONLY_METHODS.has(v.method), v.method);
    const names = report.checks.map((c) => c.name);
    assert.deepEqual(names, ["401 keeps WWW-Authenticate", "207 has Content-Length", "credentials accepted"]);
    assert.ok(
      report.checks.every((c) => c.outcome !== "fail"),
      formatReport(report),
    );
  });

  it("the CLI exits 0 and prints one line per verb", async () => {
    const out: string[] = [];
    const code = await runProbe([runtime.url], { out: (s) => out.push(s), err: (s) => out.push(s) });
    assert.equal(code, 0, out.join("\n"));
    for (const m of PROBE_METHODS) assert.match(out.join("\n"), new RegExp(`ok\\s+${m}\\s`));
  });
});

/**
 * A misbehaving front door: refuses WebDAV methods itself (as CloudFront does), strips
 * WWW-Authenticate from 401s (as API Gateway REST APIs remap it) and streams 207s chunked.
 */
function badFrontDoor(
  seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }>,
): Server {
  return createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    req.on("end", () => {
      if (["PROPPATCH", "MKCALENDAR", "LOCK", "UNLOCK"].includes(req.method!)) {
        res.writeHead(403, { server: "CloudFront", "content-type": "text/html" });
        res.end("<h1>403 ERROR</h1>");
        return;
      }
      if (req.method === "PROPFIND") {
        res.writeHead(207, { [SERVER_HEADER]: SERVER_NAME, "content-type": "application/xml" });
        res.write('<?xml version="1.0"?>');
        res.end('<d:multistatus xmlns:d="DAV:"/>'); // chunked: no Content-Length
        return;
      }
      if (req.method === "OPTIONS" || req.method === "GET" || req.method === "HEAD") {
        res.writeHead(200, { [SERVER_HEADER]: SERVER_NAME, "content-length": "0" });
        res.end();
        return;
      }
      res.writeHead(401, { [SERVER_HEADER]: SERVER_NAME, "content-length": "0" }); // no WWW-Authenticate
      res.end();
    });
  });
}

describe("probe against a front door that loses methods and headers", () => {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }> = [];
  let server: Server;
  let url: string;
  before(async () => {
    server = badFrontDoor(seen);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("names the verbs that never reached the handler and fails", async () => {
    const report = await probe({ url, user: "someone", password: "secret" });
    const missed = report.verbs.filter((v) => !v.reachedHandler).map((v) => v.method);
    assert.deepEqual(missed, ["PROPPATCH", "MKCALENDAR", "LOCK", "UNLOCK"]);
    const proppatch = report.verbs.find((v) => v.method === "PROPPATCH")!;
    assert.equal(proppatch.status, 403);
    assert.match(proppatch.detail!, /without x-dav-server.*server: CloudFront/);
    assert.equal(report.ok, false);
  });

  it("fails the WWW-Authenticate and Content-Length checks", async () => {
    const report = await probe({ url });
    const outcome = Object.fromEntries(report.checks.map((c) => [c.name, c.outcome]));
    assert.equal(outcome["401 keeps WWW-Authenticate"], "fail");
    assert.equal(outcome["207 has Content-Length"], "fail");
    assert.match(formatReport(report), /FAIL PROPPATCH\s+403/);
  });

  it("the CLI exits non-zero", async () => {
    const out: string[] = [];
    const code = await runProbe([url, "--json"], { out: (s) => out.push(s), err: (s) => out.push(s) });
    assert.equal(code, 1);
    assert.equal((JSON.parse(out.join("")) as { ok: boolean }).ok, false);
  });

  it("reports an unreachable server as failed requests, not a crash", async () => {
    const report = await probe({ url: "http://127.0.0.1:9/", timeoutMs: 2000 });
    assert.equal(report.ok, false);
    for (const v of report.verbs) {
      assert.equal(v.status, undefined);
      assert.match(v.detail!, /request failed/);
    }
  });

  it("sent nothing that could change data: writes unauthenticated, under /__probe__/, with a failing If-Match", () => {
    assert.ok(seen.length >= PROBE_METHODS.length * 2);
    for (const r of seen) {
      const path = new URL(r.url, "http://x").pathname;
      if (READ_ONLY_METHODS.has(r.method)) {
        assert.ok(
          path.startsWith(PROBE_PATH) || (r.method === "PROPFIND" && path === "/"),
          `${r.method} ${path}`,
        );
        if (path === "/") assert.equal(r.headers.depth, "0");
        continue;
      }
      assert.ok(path.startsWith(PROBE_PATH), `${r.method} ${path}`);
      assert.equal(r.headers.authorization, undefined, `${r.method} carried credentials`);
      assert.equal(r.headers["if-match"], NEVER_MATCHING_ETAG);
      if (r.headers.destination) assert.ok(new URL(r.headers.destination).pathname.startsWith(PROBE_PATH));
    }
  });
});

describe("probe requests and arguments", () => {
  it("covers every method the stack routes", () => {
    assert.deepEqual([...PROBE_METHODS].sort(), [...DAV_METHODS].sort());
    const requests = probeRequests({ url: "https://dav.example.com/base/", user: "u", password: "p" });
    assert.equal(requests.length, PROBE_METHODS.length + 1, "plus one authenticated PROPFIND on the root");
    // Absolute paths: a deployment under a path prefix is still probed at /__probe__/.
    assert.equal(new URL(requests[0].url).pathname, PROBE_PATH);
    assert.equal(requests[0].headers.authorization, "Basic " + Buffer.from("u:p").toString("base64"));
  });

  it("rejects bad arguments with exit code 2", async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (s: string) => err.push(s) };
    assert.equal(await runProbe([], io), 2);
    assert.equal(await runProbe(["dav.example.com"], io), 2);
    assert.equal(await runProbe(["https://dav.example.com/", "--password", "p"], io), 2);
    assert.equal(await runProbe(["https://dav.example.com/", "--bogus"], io), 2);
    assert.match(err.join("\n"), /usage: npm run probe/);
  });
});
