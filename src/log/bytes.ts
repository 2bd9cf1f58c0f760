/**
 * Small byte helpers shared by the log modules: concatenation, comparison,
 * big-endian integers and a strict base64 decoder (the notes and checkpoints
 * of c2sp.org/signed-note use RFC 4648 §4 base64 with padding, and a
 * verifier must not accept two spellings of the same bytes).
 */
import { fromBase64, toBase64 } from "../tuf/encoding.ts";
import { LogError, type LogErrorCode } from "./errors.ts";

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Byte equality. Hashes and signatures compared here are public, so no constant time is needed. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical padded base64 (RFC 4648 §4): no white space, no missing
 * padding, and zero unused trailing bits (`atob` alone accepts all three).
 */
export function decodeBase64Strict(text: string, code: LogErrorCode, what: string): Uint8Array<ArrayBuffer> {
  if (!BASE64.test(text)) throw new LogError(code, `${what} is not canonical base64`);
  const bytes = fromBase64(text);
  if (toBase64(bytes) !== text) throw new LogError(code, `${what} is not canonical base64`);
  return bytes;
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

export function isSafeNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function requireSize(value: number, what: string): void {
  if (!isSafeNonNegativeInteger(value)) {
    throw new LogError("invalid_argument", `${what} must be a non-negative safe integer, not ${String(value)}`);
  }
}
