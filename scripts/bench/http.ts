/** A keep-alive HTTP client for the bench: one agent per server, bounded sockets, Basic auth. */
import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class Http {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly auth: string;
  constructor(
    readonly base: URL,
    user: string,
    password: string,
  ) {
    this.auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(body);
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            authorization: this.auth,
            ...(data ? { "content-length": String(data.length) } : {}),
            ...headers,
          },
          timeout: 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  /** Like send, but a status outside `ok` is an error (the bench measures working requests only). */
  async expect(ok: number[], method: string, path: string, headers?: Record<string, string>, body?: string) {
    const r = await this.send(method, path, headers, body);
    if (!ok.includes(r.status)) {
      throw new Error(`${this.base.host} ${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    }
    return r;
  }

  close(): void {
    this.agent.destroy();
  }
}

export const etagOf = (r: Reply): string | undefined => {
  const e = r.headers.etag;
  return Array.isArray(e) ? e[0] : e;
};
