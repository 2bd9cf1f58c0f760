/** Turns a repository's refusal (a `Failure` value from RPC) into the problem response it stands for. */
import type { Failure } from "../repository-api.ts";
import { ProblemError } from "./problem.ts";

export function unwrap<R extends { ok: true } | Failure>(result: R): Exclude<R, Failure> {
  if (result.ok) return result as Exclude<R, Failure>;
  const { status, code, detail, errors } = result as Failure;
  const headers: Record<string, string> = status === 503 ? { "Retry-After": "10" } : {};
  throw new ProblemError(status, { code, detail, ...(errors ? { errors } : {}) }, headers);
}
