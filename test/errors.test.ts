/**
 * lib/errors.ts, the one place an error becomes an answer: a DAV:error body names the precondition
 * (RFC 4918 §16) and says why in a message element of this server's own namespace; store errors
 * become their DAV answers; anything unexpected is a plain 500 without internals.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Conflict, errorResponse } from "../lib/errors.js";
import { UidConflict } from "../lib/store/errors.js";
import { parseXml } from "../lib/xml/parse.js";
import { cal, NS } from "../lib/xml/names.js";

describe("errors: one place turns errors into answers", () => {
  it("RFC 4918 §16: a DAV:error body names the precondition, and the reason sits in this server's own namespace", () => {
    const res = errorResponse(
      new Conflict("The calendar is busy.", { name: cal("no-uid-conflict"), hrefs: ["/x"] }),
    );
    assert.equal(res.status, 409);
    const root = parseXml(String(res.body));
    assert.deepEqual(
      root.children.map((c) => c.name),
      [cal("no-uid-conflict"), `{${NS.SERVER}}message`],
    );
    assert.equal(root.children[1].text, "The calendar is busy.");
    assert.doesNotMatch(String(res.body), /sabredav/, "no other project's namespace");
  });

  it("a store error becomes its DAV answer with the href of the resource it clashed with", () => {
    const res = errorResponse(new UidConflict("u1", "holder.ics"), {
      hrefFor: (name) => `/calendars/alice/c/${name}`,
      uidConflict: cal("no-uid-conflict"),
    });
    assert.equal(res.status, 409);
    const pre = parseXml(String(res.body)).children[0];
    assert.equal(pre.name, cal("no-uid-conflict"));
    assert.equal(pre.children[0].text, "/calendars/alice/c/holder.ics");
  });

  it("an unexpected error is a plain 500 that shows nothing of it", () => {
    const original = console.error;
    console.error = () => {};
    try {
      const res = errorResponse(new Error("secret internals at /var/task/x.js:1"));
      assert.equal(res.status, 500);
      assert.doesNotMatch(String(res.body), /secret|var\/task/);
    } finally {
      console.error = original;
    }
  });
});
