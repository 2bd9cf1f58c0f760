/**
 * Bytes and their text encodings, shared by every layer (TUF, the transparency
 * log, attestations, the Durable Object, routes): UTF-8, hex, base64,
 * concatenation, comparison and big-endian integers. Web APIs and
 * @noble/hashes only, so the same code runs in workerd and Node.
 */
import { bytesToHex, concatBytes as nobleConcat, hexToBytes } from "@noble/hashes/utils.js";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** The length of `text` in UTF-8, as TextEncoder writes it (a lone surrogate as U+FFFD, three bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The UTF-8 of `before`, then `middle` as it is, then the UTF-8 of `after`,
 * in one new array: a large middle (a snapshot's members, read from SQLite
 * as bytes) is copied once and never decoded.
 */
export function utf8Around(before: string, middle: Uint8Array, after: string): Uint8Array<ArrayBuffer> {
  const head = utf8Length(before);
  const out = new Uint8Array(head + middle.length + utf8Length(after));
  utf8Encoder.encodeInto(before, out);
  out.set(middle, head);
  utf8Encoder.encodeInto(after, out.subarray(head + middle.length));
  return out;
}

/** Strict UTF-8 decoding: malformed input throws a TypeError. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Lower-case hex, two digits a byte. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Hex of either case; anything else (odd length, a sign, a 0x prefix, spaces) is a TypeError. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError("not a hex string");
  return hexToBytes(hex) as Uint8Array<ArrayBuffer>;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Lenient base64 (as `atob`: white space and missing padding are accepted); see {@link fromCanonicalBase64}. */
export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Canonical padded base64 (RFC 4648 §4) or null: no white space, no missing
 * padding and zero unused trailing bits, so no two spellings decode to the
 * same bytes (what a signature verifier needs; `atob` alone accepts all three).
 */
export function fromCanonicalBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!CANONICAL_BASE64.test(text)) return null;
  const bytes = fromBase64(text);
  return toBase64(bytes) === text ? bytes : null;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return nobleConcat(...parts) as Uint8Array<ArrayBuffer>;
}

/** Byte equality for public values (hashes, signatures): returns at the first difference. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (const [i, byte] of a.entries()) if (byte !== b[i]) return false;
  return true;
}

/** Equality in time independent of where the inputs differ (for secrets and MACs). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (const [i, byte] of a.entries()) diff |= byte ^ (b[i] ?? 0);
  return diff === 0;
}

export function writeUint32(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

export function readUint32(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

/** A non-negative safe integer as 8 big-endian bytes. */
export function writeUint64(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** 8 big-endian bytes as a bigint (callers range-check before narrowing to number). */
export function readUint64(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, false);
}
