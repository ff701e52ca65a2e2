/**
 * Stack parameters, read from CDK context (`-c key=value` on the command line, or `context` in
 * infra/cdk.json) and validated up front, so a typo fails the synth with a clear message instead of
 * deploying something unexpected.
 */

export const FRONT_DOORS = ["function-url", "http-api", "alb"] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

export const ENCRYPTIONS = ["aws-owned", "aws-managed", "customer-managed"] as const;
export type Encryption = (typeof ENCRYPTIONS)[number];

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface CustomDomain {
  /** e.g. `dav.example.com`. */
  domainName: string;
  /** ACM certificate for that name, in the stack's region. */
  certificateArn: string;
  /** Set both to have the stack create the DNS alias record; otherwise the output says what to point where. */
  hostedZoneId?: string;
  hostedZoneName?: string;
}

export interface DavStackConfig {
  frontDoor: FrontDoor;
  memoryMb: number;
  timeoutSeconds: number;
  /** Unset: no reserved concurrency (the function shares the account's pool). */
  reservedConcurrency?: number;
  logRetentionDays: number;
  encryption: Encryption;
  /** With `customer-managed`: use this key instead of creating one. */
  kmsKeyArn?: string;
  /**
   * Adopt an existing table (e.g. one retained from an earlier deployment) instead of creating one;
   * its settings stay as they are (with `customer-managed`, `kmsKeyArn` names its key for the grant).
   */
  existingTableName?: string;
  /** With an adopted table: its stream (keys only or more), for WebDAV-Push; without it, no push. */
  existingTableStreamArn?: string;
  customDomain?: CustomDomain;
  /** ALB only: deploy into this VPC's public subnets instead of creating a small VPC. */
  vpcId?: string;
  publicSubnetIds?: string[];
  /** Alarm notifications go to an SNS topic with this e-mail subscribed. */
  alarmEmail?: string;
  /** E-mail to attendees outside the deployment (iMIP through SES); none when unset. */
  mail?: MailSettings;
}

export interface MailSettings {
  /** The From address of invitations. */
  from: string;
  /** The verified SES identity that covers it: the address itself or its domain. */
  identity: string;
  /** E-mails one user may send per hour. */
  perHour?: number;
}

export const DEFAULT_CONFIG: DavStackConfig = {
  frontDoor: "function-url",
  memoryMb: 512,
  timeoutSeconds: 20,
  logRetentionDays: 30,
  encryption: "aws-owned",
};

/** Every context key this app reads, for error messages and the README. */
export const CONTEXT_KEYS = [
  "frontDoor",
  "memoryMb",
  "timeoutSeconds",
  "reservedConcurrency",
  "logRetentionDays",
  "encryption",
  "kmsKeyArn",
  "tableName",
  "tableStreamArn",
  "domainName",
  "certificateArn",
  "hostedZoneId",
  "hostedZoneName",
  "vpcId",
  "publicSubnetIds",
  "alarmEmail",
  "mailFrom",
  "mailIdentity",
  "mailPerHour",
] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Lookup = (key: string) => unknown;

function str(get: Lookup, key: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
    throw new ConfigError(`context ${key} must be a string, got ${JSON.stringify(v)}`);
  }
  return String(v).trim();
}

function int(get: Lookup, key: string, min: number, max: number): number | undefined {
  const s = str(get, key);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`context ${key} must be a whole number from ${min} to ${max}, got "${s}"`);
  }
  return n;
}

function oneOf<T extends string>(get: Lookup, key: string, allowed: readonly T[]): T | undefined {
  const s = str(get, key);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    throw new ConfigError(`context ${key} must be one of ${allowed.join(", ")}, got "${s}"`);
  }
  return s as T;
}

function list(get: Lookup, key: string): string[] | undefined {
  const v = get(key);
  if (Array.isArray(v)) return v.map(String);
  const s = str(get, key);
  return s === undefined
    ? undefined
    : s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
}

/** Reads and validates the stack parameters; `get` is e.g. `(k) => app.node.tryGetContext(k)`. */
export function configFromContext(get: Lookup): DavStackConfig {
  const frontDoor = oneOf(get, "frontDoor", FRONT_DOORS) ?? DEFAULT_CONFIG.frontDoor;
  // API Gateway gives up on an integration after 30 s, so a longer function timeout would only bill.
  const maxTimeout = frontDoor === "http-api" ? 29 : 900;
  const config: DavStackConfig = {
    frontDoor,
    memoryMb: int(get, "memoryMb", 128, 10240) ?? DEFAULT_CONFIG.memoryMb,
    timeoutSeconds: int(get, "timeoutSeconds", 1, maxTimeout) ?? DEFAULT_CONFIG.timeoutSeconds,
    reservedConcurrency: int(get, "reservedConcurrency", 1, 10000),
    logRetentionDays: int(get, "logRetentionDays", 1, 3653) ?? DEFAULT_CONFIG.logRetentionDays,
    encryption: oneOf(get, "encryption", ENCRYPTIONS) ?? DEFAULT_CONFIG.encryption,
    kmsKeyArn: str(get, "kmsKeyArn"),
    existingTableName: str(get, "tableName"),
    existingTableStreamArn: str(get, "tableStreamArn"),
    vpcId: str(get, "vpcId"),
    publicSubnetIds: list(get, "publicSubnetIds"),
    alarmEmail: str(get, "alarmEmail"),
  };
  const mailFrom = str(get, "mailFrom");
  const mailIdentity = str(get, "mailIdentity");
  const mailPerHour = int(get, "mailPerHour", 1, 100000);
  if (mailFrom) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mailFrom))
      throw new ConfigError(`context mailFrom must be an e-mail address, got "${mailFrom}"`);
    const identity = mailIdentity ?? mailFrom;
    if (identity !== mailFrom && identity !== mailFrom.split("@")[1]) {
      throw new ConfigError(
        "context mailIdentity must be mailFrom itself or its domain (the verified SES identity)",
      );
    }
    config.mail = { from: mailFrom, identity, perHour: mailPerHour };
  } else if (mailIdentity || mailPerHour !== undefined) {
    throw new ConfigError("context mailIdentity/mailPerHour need mailFrom (the verified sender address)");
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(config.logRetentionDays)) {
    throw new ConfigError(
      `context logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${config.logRetentionDays}`,
    );
  }
  if (config.kmsKeyArn && config.encryption !== "customer-managed") {
    throw new ConfigError("context kmsKeyArn needs encryption=customer-managed");
  }
  if (config.existingTableName && config.encryption === "customer-managed" && !config.kmsKeyArn) {
    throw new ConfigError(
      "context tableName adopts a table as it is: for one encrypted with a customer-managed key, give that " +
        "key's kmsKeyArn so the function may use it",
    );
  }

  const domainName = str(get, "domainName");
  const certificateArn = str(get, "certificateArn");
  const hostedZoneId = str(get, "hostedZoneId");
  const hostedZoneName = str(get, "hostedZoneName");
  if (domainName || certificateArn) {
    if (!domainName || !certificateArn) {
      throw new ConfigError("a custom domain needs both context domainName and certificateArn");
    }
    if (frontDoor === "function-url") {
      throw new ConfigError(
        "a custom domain needs frontDoor=http-api or frontDoor=alb: a Function URL only gets one through " +
          "CloudFront, which refuses WebDAV methods such as PROPFIND",
      );
    }
    if (Boolean(hostedZoneId) !== Boolean(hostedZoneName)) {
      throw new ConfigError("context hostedZoneId and hostedZoneName go together");
    }
    config.customDomain = { domainName, certificateArn, hostedZoneId, hostedZoneName };
  } else if (hostedZoneId || hostedZoneName) {
    throw new ConfigError("context hostedZoneId/hostedZoneName need domainName and certificateArn");
  }

  if (config.vpcId || config.publicSubnetIds) {
    if (frontDoor !== "alb")
      throw new ConfigError("context vpcId/publicSubnetIds only apply to frontDoor=alb");
    if (!config.vpcId || !config.publicSubnetIds || config.publicSubnetIds.length < 2) {
      throw new ConfigError(
        "an existing VPC needs context vpcId and publicSubnetIds (at least two public subnets in different " +
          "availability zones, comma-separated)",
      );
    }
    if (!/^vpc-[0-9a-f]{8,17}$/.test(config.vpcId))
      throw new ConfigError(`context vpcId: not a VPC id: "${config.vpcId}"`);
    const bad = config.publicSubnetIds.find((id) => !/^subnet-[0-9a-f]{8,17}$/.test(id));
    if (bad) throw new ConfigError(`context publicSubnetIds: not a subnet id: "${bad}"`);
  }
  return config;
}
