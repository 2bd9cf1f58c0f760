/**
 * TUF public keys (spec §4.2 "File formats: general principles", KEYID).
 *
 * A keyid is the hex SHA-256 of the canonical JSON of `{keytype, scheme, keyval}`.
 */
import { z } from "zod";
import { canonicalBytes } from "./canonical.ts";
import { sha256Hex } from "../lib/digest.ts";
import { KeyError } from "./errors.ts";

export const ED25519 = { keytype: "ed25519", scheme: "ed25519" } as const;
export const ECDSA_P256 = { keytype: "ecdsa", scheme: "ecdsa-sha2-nistp256" } as const;

export const KeySchema = z.looseObject({
  keytype: z.string().min(1).max(64),
  scheme: z.string().min(1).max(64),
  keyval: z.looseObject({ public: z.string().min(1).max(4096) }),
});

export type Key = z.infer<typeof KeySchema>;

/** The fields a keyid is computed over, in a fresh object (extra fields dropped). */
function keyIdInput(key: Key): Key {
  return { keytype: key.keytype, scheme: key.scheme, keyval: { ...key.keyval } };
}

export async function keyId(key: Key): Promise<string> {
  return sha256Hex(canonicalBytes(keyIdInput(key)));
}

/** An Ed25519 public key (32 raw bytes, hex in `keyval.public`). */
export function ed25519Key(publicKeyHex: string): Key {
  if (!/^[0-9a-f]{64}$/.test(publicKeyHex)) {
    throw new KeyError("invalid_key", "an ed25519 public key is 32 bytes in lower-case hex");
  }
  return { ...ED25519, keyval: { public: publicKeyHex } };
}

/** An ECDSA P-256 public key (SubjectPublicKeyInfo PEM in `keyval.public`). */
export function ecdsaP256Key(spkiPem: string): Key {
  if (!spkiPem.includes("-----BEGIN PUBLIC KEY-----")) {
    throw new KeyError("invalid_key", "an ecdsa-sha2-nistp256 public key is a PEM SubjectPublicKeyInfo");
  }
  return { ...ECDSA_P256, keyval: { public: spkiPem } };
}

/** Whether this code can verify signatures made with `key`. */
export function isSupportedKey(key: Key): boolean {
  const { keytype, scheme } = key;
  if (scheme === ED25519.scheme) return keytype === ED25519.keytype;
  if (scheme === ECDSA_P256.scheme) return keytype === "ecdsa" || keytype === "ecdsa-sha2-nistp256";
  return false;
}
