import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ALBEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { eventShape, requestFromEvent, resultForEvent } from "../../lib/http/lambda-events.js";

function v2Event(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/calendars/alice/my%20cal/ev%C3%A9nt.ics",
    rawQueryString: "a=1&b=2",
    headers: { "content-type": "text/calendar", depth: "1", "x-multi": "one,two" },
    requestContext: {
      accountId: "1",
      apiId: "x",
      domainName: "example.com",
      domainPrefix: "example",
      http: { method: "propfind", path: "/", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "t" },
      requestId: "r",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
    body: Buffer.from("<propfind/>").toString("base64"),
    isBase64Encoded: true,
    ...overrides,
  };
}

function albEvent(multi: boolean): ALBEvent {
  const base = {
    requestContext: { elb: { targetGroupArn: "arn" } },
    httpMethod: "REPORT",
    path: "/calendars/alice/a%2Fb/",
    body: "<x/>",
    isBase64Encoded: false,
  };
  return multi
    ? {
        ...base,
        multiValueHeaders: { Depth: ["1"], Accept: ["text/xml", "application/xml"] },
        multiValueQueryStringParameters: { q: ["1", "2"] },
      }
    : { ...base, headers: { Depth: "1", Accept: "text/xml" }, queryStringParameters: { q: "1" } };
}

describe("Lambda event adapters", () => {
  it("payload 2.0 (Function URL / HTTP API): method, decoded path, base64 body, query, headers", () => {
    const event = v2Event({ cookies: ["a=1", "b=2"] });
    assert.equal(eventShape(event), "v2");
    const req = requestFromEvent(event);
    assert.equal(req.method, "PROPFIND");
    assert.equal(req.rawPath, "/calendars/alice/my%20cal/ev%C3%A9nt.ics");
    assert.equal(req.path, "/calendars/alice/my cal/evént.ics");
    assert.equal(req.query, "a=1&b=2");
    assert.equal(req.body.toString(), "<propfind/>");
    assert.equal(req.headers["depth"], "1");
    assert.equal(req.headers["x-multi"], "one,two");
    assert.equal(req.headers["cookie"], "a=1; b=2");
  });

  it("payload 2.0 with a plain-text body and a malformed percent escape keeps the raw path", () => {
    const req = requestFromEvent(v2Event({ rawPath: "/bad%zz", body: "héllo", isBase64Encoded: false }));
    assert.equal(req.path, "/bad%zz");
    assert.equal(req.body.toString("utf8"), "héllo");
  });

  it("ALB single-value headers: lower-cased names, query rebuilt", () => {
    const event = albEvent(false);
    assert.equal(eventShape(event), "alb");
    const req = requestFromEvent(event);
    assert.equal(req.method, "REPORT");
    assert.equal(req.path, "/calendars/alice/a/b/");
    assert.equal(req.rawPath, "/calendars/alice/a%2Fb/");
    assert.equal(req.headers["depth"], "1");
    assert.equal(req.query, "q=1");
  });

  it("ALB multi-value headers: a header with several values is joined with a comma (RFC 9110 §5.3)", () => {
    const event = albEvent(true);
    assert.equal(eventShape(event), "alb-multi");
    const req = requestFromEvent(event);
    assert.equal(req.headers["accept"], "text/xml, application/xml");
    assert.equal(req.query, "q=1&q=2");
  });

  it("answers in the event's shape; text stays text, binary goes base64, Content-Length always set", () => {
    const xml = { status: 207, headers: { "Content-Type": "application/xml; charset=utf-8" }, body: "<ü/>" };
    const v2 = resultForEvent("v2", xml) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
      isBase64Encoded: boolean;
    };
    assert.equal(v2.statusCode, 207);
    assert.equal(v2.isBase64Encoded, false);
    assert.equal(v2.body, "<ü/>");
    assert.equal(v2.headers["content-length"], "5"); // bytes, not characters

    const binary = {
      status: 200,
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([0, 255, 1]),
    };
    const alb = resultForEvent("alb", binary) as {
      statusDescription: string;
      body: string;
      isBase64Encoded: boolean;
    };
    assert.equal(alb.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(alb.body, "base64"), Buffer.from([0, 255, 1]));
    assert.equal(alb.statusDescription, "200 OK");

    const multi = resultForEvent("alb-multi", {
      status: 207,
      headers: { "set-cookie": ["a=1", "b=2"], dav: "1" },
      body: "x",
    }) as { statusDescription: string; multiValueHeaders: Record<string, string[]> };
    assert.equal(multi.statusDescription, "207 Multi-Status");
    assert.deepEqual(multi.multiValueHeaders["set-cookie"], ["a=1", "b=2"]);
    assert.deepEqual(multi.multiValueHeaders["dav"], ["1"]);

    const cookies = resultForEvent("v2", { status: 200, headers: { "set-cookie": ["a=1", "b=2"] } }) as {
      cookies: string[];
      headers: Record<string, string>;
    };
    assert.deepEqual(cookies.cookies, ["a=1", "b=2"]);
    assert.equal(cookies.headers["set-cookie"], undefined);
  });

  it("a text body that is not valid UTF-8 is sent base64 so no byte changes", () => {
    const latin1 = Buffer.from([0x42, 0xe9, 0x0a]);
    const r = resultForEvent("v2", {
      status: 200,
      headers: { "content-type": "text/calendar" },
      body: latin1,
    }) as {
      body: string;
      isBase64Encoded: boolean;
    };
    assert.equal(r.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(r.body, "base64"), latin1);
  });
});
