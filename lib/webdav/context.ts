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
  /** WebDAV-Push (draft-bitfire-webdav-push) over Web Push. */
  push: PushConfig;
  /** DAV endpoints take only app passwords (DAV_APP_PASSWORDS_ONLY=1). */
  appPasswordsOnly?: boolean;
  /** A share needs no answer from the sharee: it appears in their home at once (DAV_SHARE_AUTO_ACCEPT=1). */
  shareAutoAccept?: boolean;
}

export interface PushConfig {
  /** Off where nothing would deliver (a stack on an adopted table without a stream: DAV_PUSH=off). */
  enabled: boolean;
  /**
   * Where the VAPID key pair comes from: a seed the key is derived from (locally: the data
   * folder's; DAV_VAPID_SEED), or the ARN of the stack's secret holding one (DAV_VAPID_SECRET_ARN).
   * Neither: a seed made for this process, so push works until it exits (tests).
   */
  vapidSeed?: string;
  vapidSecretArn?: string;
  /** The VAPID `sub` claim (RFC 8292 §2.1): a contact for push services. */
  subject: string;
  /** Hosts a push resource may be on although they resolve to loopback (tests; DAV_PUSH_ALLOW_HOSTS). */
  allowHosts: string[];
  /** Messages one subscription gets per minute at most. */
  perMinute: number;
  /** Longest a registration lasts (its Expires), in seconds. */
  maxSeconds: number;
}

export function pushConfig(env: NodeJS.ProcessEnv): PushConfig {
  return {
    enabled: env.DAV_PUSH !== "off",
    vapidSeed: env.DAV_VAPID_SEED || undefined,
    vapidSecretArn: env.DAV_VAPID_SECRET_ARN || undefined,
    subject:
      env.DAV_PUSH_SUBJECT ??
      (env.DAV_MAIL_FROM ? `mailto:${env.DAV_MAIL_FROM}` : "https://lambda-dav.invalid/"),
    allowHosts: (env.DAV_PUSH_ALLOW_HOSTS ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    perMinute: Number(env.DAV_PUSH_PER_MINUTE ?? 30),
    maxSeconds: Number(env.DAV_PUSH_MAX_DAYS ?? 7) * 86400,
  };
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
    push: pushConfig(env),
    appPasswordsOnly: env.DAV_APP_PASSWORDS_ONLY === "1",
    shareAutoAccept: env.DAV_SHARE_AUTO_ACCEPT === "1",
  };
}
