/** The part of `http_ece` (RFC 8188 / RFC 8291) the push tests use to decrypt what the server sent. */
declare module "http_ece" {
  import type { ECDH } from "node:crypto";
  interface Params {
    version: "aes128gcm";
    privateKey: ECDH;
    authSecret: Buffer;
  }
  const ece: { decrypt(body: Buffer, params: Params): Buffer };
  export default ece;
}
