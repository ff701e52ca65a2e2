/**
 * The local front door: a Node HTTP server that turns each request into the payload-2.0 event a
 * Lambda Function URL would send and calls the very same handler, so local runs exercise the
 * deployed code path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { FrontDoorEvent, FrontDoorResult } from "./lambda-events.js";

export type LambdaHandler = (event: FrontDoorEvent) => Promise<FrontDoorResult>;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function eventFromNodeRequest(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (name === "cookie") (cookies ??= []).push(...value.split(/;\s*/));
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: q < 0 ? "" : url.slice(q + 1),
    cookies,
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: Math.random().toString(36).slice(2),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? body.toString("base64") : undefined,
    isBase64Encoded: body.length > 0,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8") : undefined;
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, String(v));
  if (result.cookies?.length) res.setHeader("set-cookie", result.cookies);
  res.writeHead(result.statusCode ?? 200);
  res.end(body);
}

export function createLocalServer(handler: LambdaHandler): Server {
  return createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const result = (await handler(eventFromNodeRequest(req, body))) as APIGatewayProxyStructuredResultV2;
      writeResult(res, result);
    } catch (err) {
      console.error("local server: handler failed", err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal error\n");
    }
  });
}
