/**
 * Signature verification for the key types TUF roots use in practice:
 * ed25519 (online keys, most offline keys) and ecdsa-sha2-nistp256 (hardware
 * tokens). ECDSA signatures in TUF are ASN.1 DER (securesystemslib, tuf-js,
 * go-tuf); WebCrypto wants the fixed-width r||s form, so they are converted.
 */
import * as ed from "@noble/ed25519";
import { fromHex } from "../lib/bytes.ts";
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
  let offset = 0;
  const expect = (cond: boolean) => {
    if (!cond) throw new TypeError("malformed DER ECDSA signature");
  };
  const readLength = (): number => {
    const first = der[offset++] ?? 0x100; // past the end: fails the check below
    if (first < 0x80) return first;
    expect(first === 0x81);
    const length = der[offset++];
    expect(length !== undefined);
    return length ?? 0;
  };
  expect(der[offset++] === 0x30);
  const seqLength = readLength();
  expect(offset + seqLength === der.length);
  const out = new Uint8Array(2 * size);
  for (const slot of [0, 1]) {
    expect(der[offset++] === 0x02);
    const length = readLength();
    expect(length > 0 && offset + length <= der.length);
    let int = der.subarray(offset, offset + length);
    offset += length;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    expect(int.length <= size);
    out.set(int, slot * size + (size - int.length));
  }
  expect(offset === der.length);
  return out;
}

/** r || s  →  DER, for signers (hardware tokens, WebCrypto) that produce the raw form. */
export function rawSignatureToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array): number[] => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = Array.from(bytes.subarray(i));
    if ((body[0] ?? 0) & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const content = [...integer(raw.subarray(0, half)), ...integer(raw.subarray(half))];
  return new Uint8Array([0x30, content.length, ...content]);
}
