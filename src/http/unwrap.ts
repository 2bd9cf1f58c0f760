/** Turns a repository's refusal (a `Failure` value from RPC) into the problem response it stands for. */
import type { Failure } from "../repository-api.ts";
import { ProblemError } from "./problem.ts";

export function unwrap<R extends { ok: true } | Failure>(result: R): Exclude<R, Failure> {
  if (result.ok) return result as Exclude<R, Failure>;
  const { status, code, detail } = result as Failure;
  throw new ProblemError(status, { code, detail }, status === 503 ? { "Retry-After": "10" } : {});
}
