/**
 * The server's VAPID key pair (RFC 8292): a P-256 key derived from a seed that is made once and
 * kept (locally in the data folder, deployed in the stack's secret, which CloudFormation generates
 * when the stack is created and no deploy replaces), so every function instance and every restart
 * signs with the same key and clients' subscriptions stay valid.
 */
import { createECDH, createHash, randomBytes } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { PushConfig } from "../webdav/context.js";

export interface VapidKeys {
  /** Uncompressed public point, base64url (what `vapid-public-key` announces). */
  publicKey: string;
  /** The private scalar, base64url. */
  privateKey: string;
}

/** The key pair a seed stands for (a P-256 scalar from SHA-256: below the group order but for a 2^-32 chance). */
export function keysFromSeed(seed: string): VapidKeys {
  const d = createHash("sha256").update(`lambda-dav vapid\0${seed}`).digest();
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(d);
  return { publicKey: ecdh.getPublicKey().toString("base64url"), privateKey: d.toString("base64url") };
}

const processSeed = randomBytes(32).toString("base64url");
const cache = new Map<string, Promise<VapidKeys>>();

export function vapidKeys(config: PushConfig): Promise<VapidKeys> {
  const key = config.vapidSecretArn ?? config.vapidSeed ?? "";
  let keys = cache.get(key);
  if (!keys) {
    keys = config.vapidSecretArn
      ? new SecretsManagerClient({})
          .send(new GetSecretValueCommand({ SecretId: config.vapidSecretArn }))
          .then((s) => keysFromSeed(s.SecretString!))
      : Promise.resolve(keysFromSeed(config.vapidSeed ?? processSeed));
    // A failed read is tried again on the next request rather than kept.
    keys.catch(() => cache.delete(key));
    cache.set(key, keys);
  }
  return keys;
}
