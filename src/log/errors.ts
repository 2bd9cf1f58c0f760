/**
 * Errors raised by the pure transparency-log core (src/log). As in src/tuf,
 * callers branch on the class or on `code`, never on the message text.
 *
 * Proof *verification* never throws for a proof that does not verify: it
 * returns false. Errors are for arguments a correct caller never passes
 * (an index outside the tree, a size that is not an integer) and for input
 * that cannot be parsed (notes, checkpoints, keys, tiles, entries).
 */
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
