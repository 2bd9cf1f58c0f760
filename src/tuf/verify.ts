/**
 * Signature verification for the key types TUF roots use in practice:
 * ed25519 (online keys, most offline keys) and ecdsa-sha2-nistp256 (hardware
 * tokens). ECDSA signatures in TUF are ASN.1 DER (securesystemslib, tuf-js,
 * go-tuf); WebCrypto wants the fixed-width r||s form, so they are converted.
 */
import { p256 } from "@noble/curves/nist.js";
import * as ed from "@noble/ed25519";
import { fromHex } from "../lib/bytes.ts";
import { DerError, expectTag, parseDer, sequence, TAG } from "../lib/der.ts";
import { KeyError } from "./errors.ts";
import { ECDSA_P256, ED25519, isSupportedKey, type Key } from "./key.ts";
import { pemToDer } from "./pem.ts";

export async function verifySignature(
  key: Key,
  signature: Uint8Array,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (!isSupportedKey(key)) {
    throw new KeyError("unsupported_key", `unsupported key type ${key.keytype}/${key.scheme}`);
  }
  try {
    if (key.scheme === ED25519.scheme) {
      return await ed.verifyAsync(signature, message, fromHex(key.keyval.public));
    }
    if (key.scheme === ECDSA_P256.scheme) {
      return await verifyEcdsaP256(key.keyval.public, signature, message);
    }
  } catch {
    // A malformed key or signature is a signature that does not verify.
    return false;
  }
  return false;
}

async function verifyEcdsaP256(spkiPem: string, der: Uint8Array, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const publicKey = await crypto.subtle.importKey(
    "spki",
    pemToDer(spkiPem, "PUBLIC KEY"),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const raw = derSignatureToRaw(der, 32);
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, raw, message);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }  →  r || s, each `size` bytes. */
export function derSignatureToRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  try {
    const [r, s, ...rest] = sequence(parseDer(der), "ECDSA-Sig-Value");
    if (rest.length) throw new DerError("ECDSA-Sig-Value has extra fields");
    const out = new Uint8Array(2 * size);
    for (const [slot, integer] of [r, s].entries()) {
      let value = expectTag(integer, TAG.INTEGER, "ECDSA-Sig-Value integer").content;
      if (value.length === 0) throw new DerError("empty INTEGER");
      while (value.length > size && value[0] === 0) value = value.subarray(1);
      if (value.length > size) throw new DerError("INTEGER longer than the curve");
      out.set(value, slot * size + (size - value.length));
    }
    return out;
  } catch (error) {
    if (error instanceof DerError) throw new TypeError(`malformed DER ECDSA signature: ${error.message}`);
    throw error;
  }
}

/**
 * r || s  →  DER, for signers (hardware tokens, WebCrypto) that produce the
 * raw form of a P-256 signature (the one ECDSA scheme TUF metadata uses here).
 */
export function rawSignatureToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(p256.Signature.fromBytes(raw, "compact").toBytes("der"));
}
