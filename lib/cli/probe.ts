/**
 * `npm run probe -- <url>`: after a deployment, checks that the front door hands every method the
 * server relies on to the function unchanged. Every handler answer carries `x-dav-server:
 * lambda-dav` (SERVER_HEADER in lib/server.ts), so an answer with that header reached the handler,
 * whatever its status; one without it was stopped (or rewritten) in front of the function.
 *
 * The probe is harmless by construction:
 * - everything goes to `/__probe__/…`, a path outside every user's home;
 * - methods that could change something (PUT, DELETE, PROPPATCH, MKCOL, MKCALENDAR, COPY, MOVE,
 *   LOCK, UNLOCK) are sent without credentials, so the server can only refuse them with 401, and
 *   carry `If-Match` with an ETag no resource has, so even a server that skipped authentication
 *   would answer 412 instead of acting;
 * - credentials, when given, go only with read-only methods (OPTIONS, GET, HEAD, PROPFIND, REPORT),
 *   plus one `PROPFIND Depth: 0` on the server root to see a real 207.
 */
import { SERVER_HEADER, SERVER_NAME } from "../server.js";
import { DAV_METHODS } from "../http/methods.js";

export const PROBE_PATH = "/__probe__/";

export const PROBE_METHODS = DAV_METHODS;
export type ProbeMethod = (typeof PROBE_METHODS)[number];

/** Methods that never change anything: the only ones that may carry credentials. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  "OPTIONS",
  "GET",
  "HEAD",
  "PROPFIND",
  "REPORT",
]);

/** An ETag no resource has: a precondition that always fails if a write ever got that far. */
export const NEVER_MATCHING_ETAG = '"lambda-dav-probe-never-matches"';

export interface ProbeOptions {
  /** Base URL of the deployment, e.g. the stack's `Url` output. */
  url: string;
  user?: string;
  password?: string;
  /** Per request; default 15 s (a cold start included). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ProbeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface VerbResult {
  method: string;
  url: string;
  /** Absent when the request failed outright (network error, timeout). */
  status?: number;
  reachedHandler: boolean;
  authenticated: boolean;
  /** Why it did not reach the handler, or other notes. */
  detail?: string;
}

export type CheckOutcome = "pass" | "fail" | "skipped";

export interface CheckResult {
  name: string;
  outcome: CheckOutcome;
  detail: string;
}

export interface ProbeReport {
  url: string;
  verbs: VerbResult[];
  checks: CheckResult[];
  /** Every verb reached the handler and no check failed. */
  ok: boolean;
}

const XML = "application/xml; charset=utf-8";

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:current-user-principal/></d:prop></d:propfind>\n';
const PROPPATCH_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>probe</d:displayname></d:prop></d:set>' +
  "</d:propertyupdate>\n";
const REPORT_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level>' +
  "<d:prop><d:getetag/></d:prop></d:sync-collection>\n";
const MKCALENDAR_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>' +
  "<d:displayname>probe</d:displayname></d:prop></d:set></c:mkcalendar>\n";
const LOCK_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype>' +
  "<d:owner>lambda-dav probe</d:owner></d:lockinfo>\n";
const ICS_BODY =
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//lambda-dav//probe//EN\r\nBEGIN:VEVENT\r\n" +
  "UID:lambda-dav-probe\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T000000Z\r\nSUMMARY:probe\r\n" +
  "END:VEVENT\r\nEND:VCALENDAR\r\n";

function basic(user: string, password: string): string {
  return "Basic " + Buffer.from(`${user}:${password}`, "utf8").toString("base64");
}

/** The requests the probe sends, in order (exported so tests can check they are harmless). */
export function probeRequests(options: Pick<ProbeOptions, "url" | "user" | "password">): ProbeRequest[] {
  const base = new URL(options.url);
  const at = (path: string) => new URL(path, base).toString();
  const auth = options.user !== undefined ? basic(options.user, options.password ?? "") : undefined;
  const target = at(PROBE_PATH + "probe.ics");
  const collection = at(PROBE_PATH + "probe-collection/");
  const requests: ProbeRequest[] = PROBE_METHODS.map((method): ProbeRequest => {
    const headers: Record<string, string> = { "user-agent": "lambda-dav-probe" };
    let url = at(PROBE_PATH);
    let body: string | undefined;
    switch (method) {
      case "PUT":
        url = target;
        headers["content-type"] = "text/calendar; charset=utf-8";
        body = ICS_BODY;
        break;
      case "DELETE":
        url = target;
        break;
      case "PROPFIND":
        headers["depth"] = "0";
        headers["content-type"] = XML;
        body = PROPFIND_BODY;
        break;
      case "PROPPATCH":
        headers["content-type"] = XML;
        body = PROPPATCH_BODY;
        break;
      case "REPORT":
        headers["depth"] = "1";
        headers["content-type"] = XML;
        body = REPORT_BODY;
        break;
      case "MKCOL":
      case "MKCALENDAR":
        url = collection;
        if (method === "MKCALENDAR") {
          headers["content-type"] = XML;
          body = MKCALENDAR_BODY;
        }
        break;
      case "COPY":
      case "MOVE":
        url = target;
        headers["destination"] = at(PROBE_PATH + "probe-copy.ics");
        headers["overwrite"] = "F";
        break;
      case "LOCK":
        url = target;
        headers["timeout"] = "Second-60";
        headers["content-type"] = XML;
        body = LOCK_BODY;
        break;
      case "UNLOCK":
        url = target;
        headers["lock-token"] = "<urn:uuid:00000000-0000-4000-8000-00000000abcd>";
        break;
    }
    if (READ_ONLY_METHODS.has(method)) {
      if (auth) headers["authorization"] = auth;
    } else {
      headers["if-match"] = NEVER_MATCHING_ETAG;
    }
    return { method, url, headers, body };
  });
  if (auth) {
    // A real multistatus, to see whether a 207 keeps its Content-Length through the front door.
    requests.push({
      method: "PROPFIND",
      url: at("/"),
      headers: { "user-agent": "lambda-dav-probe", depth: "0", "content-type": XML, authorization: auth },
      body: PROPFIND_BODY,
    });
  }
  return requests;
}

interface Answer {
  request: ProbeRequest;
  status?: number;
  headers?: Headers;
  bodyBytes?: number;
  error?: string;
}

async function send(request: ProbeRequest, timeoutMs: number, doFetch: typeof fetch): Promise<Answer> {
  try {
    const res = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return { request, status: res.status, headers: res.headers, bodyBytes: body.length };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return { request, error: e.cause?.message ?? e.message };
  }
}

function whyNotReached(a: Answer): string {
  if (a.error) return `request failed: ${a.error}`;
  const via = ["server", "via", "x-cache", "x-amzn-errortype", "apigw-requestid"]
    .map((h) => [h, a.headers?.get(h)] as const)
    .filter(([, v]) => v)
    .map(([h, v]) => `${h}: ${v}`);
  return `answered ${a.status} without ${SERVER_HEADER}` + (via.length ? ` (${via.join(", ")})` : "");
}

function reached(a: Answer): boolean {
  return a.headers?.get(SERVER_HEADER) === SERVER_NAME;
}

export async function probe(options: ProbeOptions): Promise<ProbeReport> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const requests = probeRequests(options);
  const answers: Answer[] = [];
  // One at a time: a cold start is paid once, and the log reads in order.
  for (const request of requests) answers.push(await send(request, timeoutMs, doFetch));

  const verbs: VerbResult[] = answers.slice(0, PROBE_METHODS.length).map((a) => ({
    method: a.request.method,
    url: a.request.url,
    status: a.status,
    reachedHandler: reached(a),
    authenticated: "authorization" in a.request.headers,
    detail: reached(a) ? undefined : whyNotReached(a),
  }));

  const fromHandler = answers.filter(reached);
  const checks: CheckResult[] = [];

  const unauthorized = fromHandler.filter((a) => a.status === 401);
  if (unauthorized.length === 0) {
    checks.push({
      name: "401 keeps WWW-Authenticate",
      outcome: "skipped",
      detail: "the server answered no request with 401",
    });
  } else {
    const stripped = unauthorized.filter(
      (a) => !/^\s*basic\b/i.test(a.headers?.get("www-authenticate") ?? ""),
    );
    checks.push({
      name: "401 keeps WWW-Authenticate",
      outcome: stripped.length ? "fail" : "pass",
      detail: stripped.length
        ? `${stripped.map((a) => a.request.method).join(", ")} answered 401 without a Basic WWW-Authenticate ` +
          "challenge: clients will never ask for a password"
        : `${unauthorized.length} answer(s) with 401 carried a Basic challenge`,
    });
  }

  const multistatus = fromHandler.filter((a) => a.status === 207);
  if (multistatus.length === 0) {
    checks.push({
      name: "207 has Content-Length",
      outcome: "skipped",
      detail: options.user
        ? "the server answered no request with 207"
        : "the server answered no request with 207 (pass --user/--password to PROPFIND the root)",
    });
  } else {
    const bad = multistatus.filter((a) => a.headers?.get("content-length") !== String(a.bodyBytes));
    checks.push({
      name: "207 has Content-Length",
      outcome: bad.length ? "fail" : "pass",
      detail: bad.length
        ? `${bad
            .map((a) => `${a.request.method} ${new URL(a.request.url).pathname}`)
            .join(", ")} answered 207 without a Content-Length matching its body (iOS drops such answers)`
        : `${multistatus.length} answer(s) with 207 carried a correct Content-Length`,
    });
  }

  if (options.user !== undefined) {
    const authed = answers.filter((a) => "authorization" in a.request.headers && reached(a));
    const refused = authed.filter((a) => a.status === 401);
    checks.push({
      name: "credentials accepted",
      outcome: authed.length === 0 ? "skipped" : refused.length === authed.length ? "fail" : "pass",
      detail:
        authed.length === 0
          ? "no authenticated request reached the handler"
          : refused.length === authed.length
            ? "every authenticated request got 401: wrong user/password, or the front door dropped Authorization"
            : `${authed.length - refused.length} of ${authed.length} authenticated request(s) accepted`,
    });
  }

  const ok = verbs.every((v) => v.reachedHandler) && checks.every((c) => c.outcome !== "fail");
  return { url: options.url, verbs, checks, ok };
}

export function formatReport(report: ProbeReport): string {
  const lines = [`probe ${report.url}`];
  const width = Math.max(...report.verbs.map((v) => v.method.length));
  for (const v of report.verbs) {
    const mark = v.reachedHandler ? "ok  " : "FAIL";
    const status = v.status === undefined ? "---" : String(v.status);
    const note = v.reachedHandler ? "reached the handler" : v.detail;
    lines.push(
      `  ${mark} ${v.method.padEnd(width)} ${status}  ${note}${v.authenticated ? " (authenticated)" : ""}`,
    );
  }
  for (const c of report.checks) {
    const mark = c.outcome === "pass" ? "ok  " : c.outcome === "fail" ? "FAIL" : "skip";
    lines.push(`  ${mark} ${c.name}: ${c.detail}`);
  }
  const missed = report.verbs.filter((v) => !v.reachedHandler).length;
  lines.push(
    report.ok
      ? `all ${report.verbs.length} methods reached the handler`
      : `${missed} of ${report.verbs.length} methods did not reach the handler` +
          (report.checks.some((c) => c.outcome === "fail") ? "; some checks failed" : ""),
  );
  return lines.join("\n");
}

const USAGE =
  "usage: npm run probe -- <url> [--user NAME] [--password PASSWORD] [--json] [--timeout-ms N]\n" +
  "       (or set DAV_PROBE_PASSWORD instead of --password)";

/** The CLI behind `npm run probe`; returns the exit code. */
export async function runProbe(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void },
  env: NodeJS.ProcessEnv = process.env,
  fetchImpl?: typeof fetch,
): Promise<number> {
  let url: string | undefined;
  let user: string | undefined;
  let password: string | undefined = env.DAV_PROBE_PASSWORD;
  let json = false;
  let timeoutMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--user") user = value();
      else if (arg === "--password") password = value();
      else if (arg === "--json") json = true;
      else if (arg === "--timeout-ms") timeoutMs = Number(value());
      else if (arg === "-h" || arg === "--help") {
        io.out(USAGE);
        return 0;
      } else if (!arg.startsWith("-") && url === undefined) url = arg;
      else throw new Error(`unexpected argument ${arg}`);
    } catch (err) {
      io.err(`probe: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  if (!url || !/^https?:\/\//.test(url)) {
    io.err(`probe: give the deployment's URL (http:// or https://)\n${USAGE}`);
    return 2;
  }
  if (password !== undefined && user === undefined) {
    io.err("probe: a password needs --user");
    return 2;
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    io.err("probe: --timeout-ms must be a positive number");
    return 2;
  }
  const report = await probe({ url, user, password, timeoutMs, fetch: fetchImpl });
  io.out(json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}
