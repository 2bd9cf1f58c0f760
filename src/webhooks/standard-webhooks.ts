/**
 * Standard Webhooks (standardwebhooks.com) signatures, pure:
 *   signed content   `${webhook-id}.${webhook-timestamp}.${body}`
 *   webhook-signature  space-separated `v1,<base64 HMAC-SHA256>` (secret `whsec_<base64>`)
 *                      and/or `v1a,<base64 Ed25519>` (public key `whpk_<base64>`)
 * A message is authentic if any one listed signature verifies with any one
 * current credential.
 */
import * as ed from "@noble/ed25519";
import { fromBase64, timingSafeEqual, toBase64, utf8 } from "../lib/bytes.ts";

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export type SignatureVersion = "v1" | "v1a";

export interface ParsedSignature {
  version: SignatureVersion;
  bytes: Uint8Array<ArrayBuffer>;
}

export type WebhookCredential =
  | { kind: "hmac"; secret: Uint8Array<ArrayBuffer> }
  | { kind: "ed25519"; publicKey: Uint8Array };

/** The signatures in a webhook-signature header; unknown versions and malformed entries are skipped. */
export function parseSignatureHeader(header: string): ParsedSignature[] {
  const out: ParsedSignature[] = [];
  for (const entry of header.split(" ")) {
    const comma = entry.indexOf(",");
    const version = entry.slice(0, comma);
    if (comma < 0 || (version !== "v1" && version !== "v1a")) continue;
    try {
      out.push({ version, bytes: fromBase64(entry.slice(comma + 1)) });
    } catch {
      // not base64: not a signature
    }
  }
  return out;
}

export function signedContent(id: string, timestamp: string, body: string): Uint8Array<ArrayBuffer> {
  return utf8(`${id}.${timestamp}.${body}`);
}

/** "expired", "future" or null, for a webhook-timestamp (seconds) against `nowMs`. */
export function timestampProblem(
  timestamp: string,
  nowMs: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): "malformed" | "expired" | "future" | null {
  if (!/^\d{1,12}$/.test(timestamp)) return "malformed" as const;
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (skew < -toleranceSeconds) return "expired" as const;
  if (skew > toleranceSeconds) return "future" as const;
  return null;
}

/**
 * HMAC keys imported once per secret: keyed by the secret's bytes object, which
 * the caller keeps for as long as the credential (a repository object keeps
 * each registry's credentials between pushes), so a push costs no key import.
 */
const hmacKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

async function hmac(secret: Uint8Array<ArrayBuffer>, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, key);
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", await key, content));
}

/** Whether any of `signatures` verifies over `content` with `credential`. */
export async function verifyWith(
  credential: WebhookCredential,
  signatures: readonly ParsedSignature[],
  content: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (credential.kind === "hmac") {
    const wanted = signatures.filter((s) => s.version === "v1");
    if (wanted.length === 0) return false;
    const expected = await hmac(credential.secret, content);
    return wanted.some((s) => timingSafeEqual(s.bytes, expected));
  }
  for (const s of signatures) {
    if (s.version !== "v1a" || s.bytes.length !== 64) continue;
    try {
      if (await ed.verifyAsync(s.bytes, content, credential.publicKey)) return true;
    } catch {
      // malformed: does not verify
    }
  }
  return false;
}

/** A `v1,…` signature with an HMAC secret. */
export async function signHmac(secret: Uint8Array<ArrayBuffer>, content: Uint8Array<ArrayBuffer>): Promise<string> {
  return `v1,${toBase64(await hmac(secret, content))}`;
}

/** A `v1a,…` signature with an Ed25519 secret key (32-byte seed). */
export async function signEd25519(seed: Uint8Array, content: Uint8Array<ArrayBuffer>): Promise<string> {
  return `v1a,${toBase64(await ed.signAsync(content, seed))}`;
}

/** `whsec_<base64>` → secret bytes (the Standard Webhooks secret format). */
export function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  return fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
}

/** `whpk_<base64>` → Ed25519 public key bytes. */
export function decodePublicKey(publicKey: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(publicKey.startsWith("whpk_") ? publicKey.slice(5) : publicKey);
  if (bytes.length !== 32) throw new TypeError("an Ed25519 public key is 32 bytes");
  return bytes;
}
