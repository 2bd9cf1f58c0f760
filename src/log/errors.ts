/**
 * Errors raised by the pure transparency-log core (src/log). As in src/tuf,
 * callers branch on the class or on `code`, never on the message text.
 *
 * Proof *verification* never throws for a proof that does not verify: it
 * returns false. Errors are for arguments a correct caller never passes
 * (an index outside the tree, a size that is not an integer) and for input
 * that cannot be parsed (notes, checkpoints, keys, tiles, entries).
 */
import { fromCanonicalBase64 } from "../lib/bytes.ts";

export type LogErrorCode =
  | "invalid_argument"
  | "malformed_note"
  | "malformed_key"
  | "malformed_checkpoint"
  | "malformed_tile"
  | "invalid_entry"
  | "invalid_signature"
  | "unverified_note";

export class LogError extends Error {
  readonly code: LogErrorCode;
  constructor(code: LogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Canonical padded base64 (see fromCanonicalBase64), or a LogError with `code` naming `what`. */
export function decodeBase64Strict(text: string, code: LogErrorCode, what: string): Uint8Array<ArrayBuffer> {
  const bytes = fromCanonicalBase64(text);
  if (!bytes) throw new LogError(code, `${what} is not canonical base64`);
  return bytes;
}

export function isSafeNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function requireSize(value: number, what: string): void {
  if (!isSafeNonNegativeInteger(value)) {
    throw new LogError("invalid_argument", `${what} must be a non-negative safe integer, not ${String(value)}`);
  }
}
