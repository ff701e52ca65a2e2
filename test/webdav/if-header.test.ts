/**
 * The If header (RFC 4918 §10.4), which a class 1 server evaluates: the grammar (untagged and
 * tagged lists, Not, entity tags, state tokens), and over HTTP a 412 when no list holds, on
 * writes (inside the same check that If-Match gets), reads and collections alike.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseIfHeader } from "../../lib/webdav/if-header.js";
import { DavError } from "../../lib/errors.js";
import { dav } from "../../lib/xml/names.js";
import { CalClient, assertExplained, event } from "../helpers/ical.js";
import { startTestServer } from "../helpers/server.js";
import { mustProp, parseMultistatus, propfindBody, proppatchBody, XML_HEADERS } from "../helpers/xml.js";

const server = await startTestServer();
const c = new CalClient(server);
await c.newCalendar("cal");
const ITEM = "/calendars/alice/cal/item.ics";
const LOCK = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2";

describe("RFC 4918 §10.4.2: the If header's grammar", () => {
  it("parses untagged and tagged lists, Not, entity tags (also weak) and state tokens", () => {
    assert.deepEqual(parseIfHeader(`(<${LOCK}> ["I am an ETag"]) (["I am another ETag"])`), [
      {
        lists: [
          [
            { not: false, kind: "token", value: LOCK },
            { not: false, kind: "etag", value: '"I am an ETag"' },
          ],
          [{ not: false, kind: "etag", value: '"I am another ETag"' }],
        ],
      },
    ]);
    assert.deepEqual(parseIfHeader(`(Not <DAV:no-lock> [W/"x"])`), [
      {
        lists: [
          [
            { not: true, kind: "token", value: "DAV:no-lock" },
            { not: false, kind: "etag", value: 'W/"x"' },
          ],
        ],
      },
    ]);
    const tagged = parseIfHeader(`</a/b.ics> (["1"]) </a/c/> (<${LOCK}>) (Not ["2"])`);
    assert.deepEqual(
      tagged.map((p) => [p.tag, p.lists.length]),
      [
        ["/a/b.ics", 1],
        ["/a/c/", 2],
      ],
    );
  });

  it("refuses what the grammar does not allow with a 400 naming the fault", () => {
    for (const bad of [
      "",
      "()",
      `["x"]`,
      `(["x"]`,
      `(<${LOCK})`,
      `(Not)`,
      `("x")`,
      `</a> (["x"]) (["y"]) </b>`,
      `(["x"]) </b> (["y"])`,
      "garbage",
    ]) {
      assert.throws(
        () => parseIfHeader(bad),
        (err: unknown) => err instanceof DavError && err.status === 400 && /If header/.test(err.message),
        JSON.stringify(bad),
      );
    }
  });
});

describe("RFC 4918 §10.4.1: If over HTTP — 412 when no list holds", () => {
  it("PUT with If: ([a stale ETag]) → 412 and the body is unchanged; with the current one → 204", async () => {
    const v1 = await c.put("cal", "item.ics", event("if-item", "v1"));
    const etag = v1.headers.get("etag")!;
    assertExplained(
      await c.put("cal", "item.ics", event("if-item", "v2"), { if: `(["not-the-etag"])` }),
      412,
    );
    assert.match((await c.get("cal", "item.ics")).body, /SUMMARY:v1/);
    const ok = await c.put("cal", "item.ics", event("if-item", "v2"), { if: `([${etag}])` });
    assert.equal(ok.status, 204, ok.body);
    // A weak form of the current tag does not match (strong comparison).
    assertExplained(
      await c.put("cal", "item.ics", event("if-item", "v3"), { if: `([W/${ok.headers.get("etag")}])` }),
      412,
    );
  });

  it("DELETE with If: (<a lock token nobody holds>) → 412 and the object stays; Not of it holds → 204", async () => {
    await c.put("cal", "lock.ics", event("if-lock"));
    assertExplained(await c.delete("/calendars/alice/cal/lock.ics", { if: `(<${LOCK}>)` }), 412);
    assert.equal((await c.get("cal", "lock.ics")).status, 200);
    assert.equal((await c.delete("/calendars/alice/cal/lock.ics", { if: `(Not <${LOCK}>)` })).status, 204);
  });

  it("lists are alternatives and conditions within a list all must hold; Not <DAV:no-lock> always holds", async () => {
    const put = await c.put("cal", "or.ics", event("if-or", "v1"));
    const etag = put.headers.get("etag")!;
    const res = await c.put("cal", "or.ics", event("if-or", "v2"), { if: `(<${LOCK}>) ([${etag}])` });
    assert.equal(res.status, 204, "the second list holds");
    const now = res.headers.get("etag")!;
    assertExplained(await c.put("cal", "or.ics", event("if-or", "v3"), { if: `([${now}] <${LOCK}>)` }), 412);
    const both = await c.put("cal", "or.ics", event("if-or", "v3"), { if: `([${now}] Not <DAV:no-lock>)` });
    assert.equal(both.status, 204, both.body);
  });

  it("tagged lists are about the resource they name: the request URL's must hold; another resource's may", async () => {
    const a = await c.put("cal", "tag-a.ics", event("if-tag-a"));
    const b = await c.put("cal", "tag-b.ics", event("if-tag-b"));
    const base = "/calendars/alice/cal/";
    assertExplained(
      await c.put("cal", "tag-a.ics", event("if-tag-a", "x"), {
        if: `<${server.url}${base}tag-a.ics> (["wrong"])`,
      }),
      412,
    );
    const viaOther = await c.put("cal", "tag-a.ics", event("if-tag-a", "y"), {
      if: `<${base}tag-b.ics> ([${b.headers.get("etag")}])`,
    });
    assert.equal(viaOther.status, 204, "a list about tag-b.ics that holds lets the request through");
    assertExplained(
      await c.put("cal", "tag-a.ics", event("if-tag-a", "z"), {
        if: `<${base}tag-b.ics> ([${a.headers.get("etag")}])`,
      }),
      412,
    );
    // Another user's resource has no state the header could test.
    assertExplained(
      await c.put("cal", "tag-a.ics", event("if-tag-a", "z"), {
        if: `</calendars/bob/default/x.ics> (Not ["x"] ["y"])`,
      }),
      412,
    );
  });

  it("it applies to every method: GET, PROPFIND and a calendar's PROPPATCH (on its ctag) answer 412 when it fails", async () => {
    assertExplained(await c.get("cal", "item.ics", { if: `(["nope"])` }), 412);
    const propfind = await server.request("PROPFIND", ITEM, {
      headers: { ...XML_HEADERS, depth: "0", if: `(["nope"])` },
      body: propfindBody([dav("getetag")]),
    });
    assert.equal(propfind.status, 412);
    const { ctag } = await c.ctag("cal");
    const stale = await server.request("PROPPATCH", c.calHref("cal"), {
      headers: { ...XML_HEADERS, if: `(["stale-ctag"])` },
      body: proppatchBody([{ set: dav("displayname"), value: "Renamed" }]),
    });
    assertExplained(stale, 412);
    const fresh = await server.request("PROPPATCH", c.calHref("cal"), {
      headers: { ...XML_HEADERS, if: `([${ctag}])` },
      body: proppatchBody([{ set: dav("displayname"), value: "Renamed" }]),
    });
    assert.equal(fresh.status, 207, fresh.body);
    const [r] = parseMultistatus(
      (
        await server.request("PROPFIND", c.calHref("cal"), {
          headers: { ...XML_HEADERS, depth: "0" },
          body: propfindBody([dav("displayname")]),
        })
      ).body,
    );
    assert.equal(mustProp(r, dav("displayname")).text, "Renamed");
  });

  it("a malformed If header → 400, and nothing is written", async () => {
    const res = await c.put("cal", "item.ics", event("if-item", "bad"), { if: `(["unterminated` });
    assertExplained(res, 400);
    assert.doesNotMatch((await c.get("cal", "item.ics")).body, /SUMMARY:bad/);
  });
});
