/** What every request runs with: the store, the server's configuration, and test hooks. */
import type { Store } from "../store/client.js";

export interface ServerConfig {
  /** Basic-auth realm. */
  realm: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest calendar object or vCard accepted (CalDAV/CardDAV max-resource-size). */
  maxResourceSize: number;
  /** Storage each collection may use, reported as quota-available-bytes (RFC 4331). */
  quotaBytes: number;
  /** How long a bulk task holds its collection without renewing its lease (a dead worker's blocks no longer). */
  taskLeaseMs: number;
  /** The largest body one response may carry (a collection's export): the front door's limit. */
  maxResponseBytes: number;
  /** E-mail to attendees outside the deployment (iMIP); undefined: none is sent (SCHEDULE-STATUS 5.1). */
  mail?: MailConfig;
}

export interface MailConfig {
  /** The address messages are From (a verified SES identity when deployed). */
  from: string;
  /** An SMTP URL (`smtp://host:port`, `smtps://user:pass@host`): locally, or any relay. */
  smtpUrl?: string;
  /** Without an SMTP URL: Amazon SES v2 (the stack sets it). */
  transport: "smtp" | "ses";
  /** E-mails one user's scheduling may send per hour (a compromised account cannot spam). */
  perHour: number;
}

/** The mail configuration from the environment: DAV_MAIL_FROM with DAV_SMTP_URL, or DAV_MAIL_TRANSPORT=ses. */
export function mailConfig(env: NodeJS.ProcessEnv): MailConfig | undefined {
  const from = env.DAV_MAIL_FROM;
  if (!from) return undefined;
  const transport = env.DAV_SMTP_URL ? "smtp" : env.DAV_MAIL_TRANSPORT === "ses" ? "ses" : undefined;
  if (!transport) return undefined;
  return { from, smtpUrl: env.DAV_SMTP_URL, transport, perHour: Number(env.DAV_MAIL_PER_HOUR ?? 50) };
}

export interface DavContext {
  store: Store;
  config: ServerConfig;
  /** Replaces the login slow-down's sleep (tests). */
  authDelay?: (ms: number) => Promise<void>;
  /**
   * Hands a started task to its worker. Absent: it runs in this process (npm start, tests);
   * deployed, the handler sends it to the worker function (functions/dav.ts).
   */
  dispatchTask?: (task: { owner: string; id: string }) => Promise<void>;
}

/** The largest body that fits a DynamoDB item together with the object's other attributes. */
export const MAX_STORABLE_BYTES = 380 * 1024;

export function defaultServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    realm: env.DAV_REALM ?? "lambda-dav",
    maxBodyBytes: Number(env.DAV_MAX_BODY_BYTES ?? 4 * 1024 * 1024),
    // The body shares a DynamoDB item (400 KB at most) with its metadata, so cap the setting below that.
    maxResourceSize: Math.min(Number(env.DAV_MAX_RESOURCE_SIZE ?? 256 * 1024), MAX_STORABLE_BYTES),
    quotaBytes: Number(env.DAV_QUOTA_BYTES ?? 1024 * 1024 * 1024),
    taskLeaseMs: Number(env.DAV_TASK_LEASE_SECONDS ?? 60) * 1000,
    // Lambda answers at most 6 MB through a Function URL or HTTP API (1 MB behind an ALB; the stack sets that).
    maxResponseBytes: Number(env.DAV_MAX_RESPONSE_BYTES ?? 5 * 1024 * 1024),
    mail: mailConfig(env),
  };
}
