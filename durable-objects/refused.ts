/**
 * A refusal thrown inside a transaction, so that the transaction rolls back
 * whatever it wrote before it, and the caller answers with the refusal.
 */
import type { Failure } from "../src/repository-api.ts";

/** Thrown inside a transaction to roll it back with a refusal. */
export class Refused extends Error {
  readonly failure: Failure;
  constructor(refusal: Failure) {
    super(refusal.detail);
    this.failure = refusal;
  }
}

/** Runs `write` (a transaction); a Refused thrown inside it is returned as its refusal. */
export function refusedOr<T>(write: () => T): T | Failure {
  try {
    return write();
  } catch (error) {
    if (error instanceof Refused) return error.failure;
    throw error;
  }
}
