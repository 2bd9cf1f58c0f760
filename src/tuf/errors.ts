/**
 * Errors raised by the pure TUF core. A shallow hierarchy: callers branch on
 * the class (or on `code`), never on the message text.
 */
export type TufErrorCode =
  | "invalid_metadata"
  | "invalid_key"
  | "unsupported_key"
  | "threshold_not_met"
  | "expired"
  | "bad_version"
  | "bad_hash";

export class TufError extends Error {
  readonly code: TufErrorCode;
  constructor(code: TufErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Metadata that does not have the shape the specification requires. */
export class InvalidMetadataError extends TufError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid_metadata", message, options);
  }
}

/** A key whose encoding is wrong, or whose type/scheme this code cannot use. */
export class KeyError extends TufError {
  constructor(code: "invalid_key" | "unsupported_key", message: string) {
    super(code, message);
  }
}

/** Fewer valid signatures from authorised keys than the role's threshold. */
export class ThresholdError extends TufError {
  constructor(message: string) {
    super("threshold_not_met", message);
  }
}

/** Metadata whose expiry is at or before the update's fixed start time (spec §5.3.10, §5.4.4, §5.5.6, §5.6.5). */
export class ExpiredMetadataError extends TufError {
  constructor(message: string) {
    super("expired", message);
  }
}

/** A version that goes backwards, or is not the one its referrer names (spec §5.3.4, §5.4.3, §5.5.4, §5.5.5, §5.6.4). */
export class BadVersionError extends TufError {
  constructor(message: string) {
    super("bad_version", message);
  }
}

/** A file whose length or hashes are not those its referrer lists (spec §5.5.2, §5.6.2, §5.7). */
export class BadHashError extends TufError {
  constructor(message: string) {
    super("bad_hash", message);
  }
}
