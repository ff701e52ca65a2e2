import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestServer } from "../helpers/server.js";
import { XML_HEADERS } from "../helpers/xml.js";

const server = await startTestServer({ shareAutoAccept: true });

describe("DAV_SHARE_AUTO_ACCEPT=1", () => {
  it("a share appears in the sharee's home at once, with no invitation left to answer", async () => {
    for (const user of ["alice", "bob"])
      assert.equal((await server.request("PROPFIND", "/", { user, headers: { depth: "0" } })).status, 207);
    const res = await server.request("POST", "/calendars/alice/default/", {
      headers: XML_HEADERS,
      body: `<CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><CS:set><D:href>mailto:bob@example.com</D:href><CS:read/></CS:set></CS:share>`,
    });
    assert.equal(res.status, 200, res.body);
    const view = await server.request("PROPFIND", "/calendars/bob/alice-default/", {
      user: "bob",
      headers: { depth: "0" },
    });
    assert.equal(view.status, 207);
    const notes = await server.request("PROPFIND", "/notifications/bob/", {
      user: "bob",
      headers: { depth: "1" },
    });
    assert.equal(notes.status, 207);
    assert.doesNotMatch(notes.body, /\.xml</);
  });
});
