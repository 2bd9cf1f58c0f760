/**
 * The signed envelope common to every role (spec §4.2):
 *   { "signed": { "_type": …, "spec_version": …, "version": …, "expires": …, … },
 *     "signatures": [ { "keyid": …, "sig": … } ] }
 *
 * Signatures cover the canonical JSON of `signed`. Files are serialised once,
 * when they are signed, and those bytes are what is stored, hashed and served.
 */
import { z } from "zod";
import { canonicalBytes } from "./canonical.ts";
import { fromHex, fromUtf8, toHex, utf8 } from "../lib/bytes.ts";
import { InvalidMetadataError, ThresholdError } from "./errors.ts";
import { isSupportedKey, type Key } from "./key.ts";
import type { Signer } from "./signer.ts";
import { verifySignature } from "./verify.ts";

export const SPEC_VERSION = "1.0.31";

export type RoleType = "root" | "targets" | "snapshot" | "timestamp";

export const SignatureSchema = z.looseObject({
  keyid: z.string().regex(/^[0-9a-f]{64}$/, "a keyid is 64 lower-case hex characters"),
  sig: z
    .string()
    .regex(/^[0-9a-f]*$/, "a signature is lower-case hex")
    .max(4096),
});
export type Signature = z.infer<typeof SignatureSchema>;

export const EnvelopeSchema = z.object({
  signed: z.looseObject({ _type: z.string() }),
  signatures: z.array(SignatureSchema).max(256),
});

/** Fields every role's `signed` part has. */
export const CommonSignedSchema = {
  spec_version: z.string().regex(/^1\.\d+(\.\d+)?$/, "spec_version must be 1.x"),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  expires: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "expires is an ISO 8601 UTC time without fractions"),
};

export interface Envelope<T> {
  signed: T;
  signatures: Signature[];
}

/** A signed file: the parsed envelope and the exact bytes that are published. */
export interface SignedFile<T> {
  envelope: Envelope<T>;
  bytes: Uint8Array<ArrayBuffer>;
}

/** TUF's expiry format: second precision, UTC, "Z". */
export function formatExpires(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export async function sign<T extends object>(signed: T, signers: readonly Signer[]): Promise<SignedFile<T>> {
  const message = canonicalBytes(signed);
  const signatures: Signature[] = [];
  for (const signer of signers) {
    signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  }
  return serialize({ signed, signatures });
}

/**
 * The bytes served for an envelope (its signatures and signed part as JSON):
 * computed once, then stored, hashed and served as they are, never
 * re-serialised. It adds nothing; `sign` collects the signatures.
 */
export function serialize<T>(envelope: Envelope<T>): SignedFile<T> {
  return { envelope, bytes: utf8(JSON.stringify({ signatures: envelope.signatures, signed: envelope.signed })) };
}

export interface RoleKeys {
  keyids: string[];
  threshold: number;
}

/**
 * Verifies that `envelope.signed` carries valid signatures from at least
 * `role.threshold` distinct keys among `role.keyids` (spec §5.3.4, §5.4.2 …).
 * Returns the keyids whose signatures verified.
 */
export async function verifyThreshold(
  envelope: Envelope<unknown>,
  role: RoleKeys,
  keys: Readonly<Record<string, Key>>,
  roleName: string,
): Promise<string[]> {
  const message = canonicalBytes(envelope.signed);
  const valid = new Set<string>();
  for (const { keyid, sig } of envelope.signatures) {
    if (valid.has(keyid) || !role.keyids.includes(keyid)) continue;
    const key = keys[keyid];
    // A key this code cannot verify with counts as no signature (spec §5.3.4:
    // a threshold of *valid* signatures); it must not abort the whole check.
    if (!key || !isSupportedKey(key)) continue;
    let signature: Uint8Array;
    try {
      signature = fromHex(sig);
    } catch {
      continue;
    }
    if (await verifySignature(key, signature, message)) valid.add(keyid);
  }
  if (valid.size < role.threshold) {
    throw new ThresholdError(
      `${roleName}: ${valid.size} valid signature(s) from authorised keys, threshold is ${role.threshold}`,
    );
  }
  return [...valid];
}

/** Parses a signed file's bytes into an envelope, without checking its signatures. */
export function parseEnvelope(bytes: Uint8Array, expectedType: RoleType): Envelope<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new InvalidMetadataError("metadata is not UTF-8 JSON", { cause });
  }
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) throw new InvalidMetadataError(`metadata envelope: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.signed._type !== expectedType) {
    throw new InvalidMetadataError(`expected _type "${expectedType}", found "${parsed.data.signed._type}"`);
  }
  return parsed.data;
}
