/**
 * Signatures made outside this CLI: a hardware token (or any signer) signs
 * the bytes `… bytes` wrote, and `… sign FILE --signature SIG --public-key
 * KEY` adds the result to a file, checked first. Shared by the owners of
 * offline delegations (`delegation sign`) and by ceremony files (`ceremony
 * sign`, for the root draft and for the targets draft). An ECDSA P-256
 * signature is DER, as `openssl dgst -sha256 -sign` writes it.
 */
import { readFileSync } from "node:fs";
import { fromHex, toHex } from "../../src/lib/bytes.ts";
import type { Key } from "../../src/tuf/key.ts";
import type { Signature } from "../../src/tuf/metadata.ts";
import { verifySignature } from "../../src/tuf/verify.ts";
import { failed, usageError } from "./exit.ts";
import { readPublicKey } from "./keyfile.ts";

/** A signature made elsewhere and the public key that made it, as read from their files. */
export interface ExternalSignature {
  keyid: string;
  key: Key;
  signature: Signature;
  /** The files it came from, for messages. */
  signatureFile: string;
  publicKeyFile: string;
}

/** Refuses `--signature` without `--public-key`, or with `--key` (one signs here, the other was signed elsewhere). */
export function checkExternalFlags(flags: { signature?: string; publicKey?: string; key?: string[] }): void {
  if (flags.signature && (!flags.publicKey || flags.key?.length))
    throw usageError("--signature needs --public-key (the key that made it) and no --key");
}

/** Reads `--signature` (raw signature bytes) and `--public-key` (key file or `keys show --json` output). */
export async function readExternalSignature(signatureFile: string, publicKeyFile: string): Promise<ExternalSignature> {
  const { keyid, key } = await readPublicKey(publicKeyFile);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(signatureFile));
  } catch (error) {
    throw usageError(`cannot read --signature: ${(error as Error).message}`);
  }
  return { keyid, key, signature: { keyid, sig: toHex(bytes) }, signatureFile, publicKeyFile };
}

/** Whether the signature verifies over `message` (what `… bytes` wrote). */
export async function signs(external: ExternalSignature, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    return await verifySignature(external.key, fromHex(external.signature.sig), message);
  } catch {
    return false;
  }
}

/** Refuses (exit 1) a signature that does not verify over `message`, the canonical bytes of `what`. */
export async function requireSigns(
  external: ExternalSignature,
  message: Uint8Array<ArrayBuffer>,
  what: string,
): Promise<void> {
  if (!(await signs(external, message)))
    throw failed(
      `the signature in ${external.signatureFile} does not verify with key ${external.keyid} over the canonical bytes of ${what}`,
    );
}

/** `signatures` with `signature` added, replacing an earlier one by the same key. */
export function withSignature(signatures: readonly Signature[], signature: Signature): Signature[] {
  return [...signatures.filter((s) => s.keyid !== signature.keyid), signature];
}
