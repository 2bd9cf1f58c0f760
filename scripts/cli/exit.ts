/**
 * Exit codes and the errors that carry them. Every command ends through
 * `exitCodeFor`: a refusal from the server, an unreachable server, a bad
 * passphrase and a usage error each have their own code, documented in
 * `tuf-edge --help` and docs/operators.md.
 */
import { AdminApiError } from "../lib/admin-client.ts";
import { RegistryApiError } from "../lib/registry-client.ts";

export const EXIT = {
  ok: 0,
  /** The operation failed, or a verification failed (signatures, expiry, missing target, tampered file). */
  failure: 1,
  /** Bad arguments or options, a missing setting, an invalid input file. */
  usage: 2,
  /** The server could not be reached. */
  unreachable: 3,
  /** The server answered with a refusal (problem+json). */
  refused: 4,
  /** Wrong passphrase, damaged or unsupported key file, or a key that is not a root key here. */
  badKey: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  failure: verification failed (bad signature, expired, missing target,
     tampered ceremony file) or the operation did not complete
  2  usage error: bad arguments, missing setting (URL, repository, token),
     invalid input file
  3  the server could not be reached
  4  the server refused the request (its problem code and detail are shown)
  5  bad passphrase or key: wrong passphrase, damaged or unsupported key
     file, or a key that is not a root key of this root`;

/** An error the CLI reports as one clear sentence and a given exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(exitCode: ExitCode, message: string, hint?: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export const usageError = (message: string, hint?: string) => new CliError(EXIT.usage, message, hint);
export const keyError = (message: string, hint?: string) => new CliError(EXIT.badKey, message, hint);
export const failed = (message: string, hint?: string) => new CliError(EXIT.failure, message, hint);

/** The server did not answer (connection refused, DNS, timeout). */
export class UnreachableError extends CliError {
  constructor(url: string, cause: unknown) {
    super(
      EXIT.unreachable,
      `cannot reach ${url}: ${describeNetworkCause(cause)}`,
      "check --url / TUF_EDGE_URL and that the service is running",
    );
  }
}

export function describeNetworkCause(error: unknown): string {
  let e: unknown = error;
  let deepest = (error as Error)?.message ?? String(error);
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code))
      return code === "ECONNREFUSED" ? "connection refused (ECONNREFUSED)" : code;
    if ((e as Error).name === "TimeoutError") return "timed out";
    if ((e as Error).message) deepest = (e as Error).message;
    e = (e as { cause?: unknown }).cause;
  }
  return deepest;
}

/** Whether `error` is a failure to reach a server (not an answer from it). */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  if ((error as Error)?.name === "TimeoutError" || (error as Error)?.name === "FetchError") return true;
  const code = (error as { code?: unknown })?.code;
  return (
    typeof code === "string" &&
    ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"].includes(code)
  );
}

export interface ReportedError {
  exitCode: ExitCode;
  message: string;
  hint?: string;
  problem?: AdminApiError["problem"] & { status: number };
}

/** What to tell the operator about `error`, and how to exit. */
export function describeError(error: unknown): ReportedError {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof AdminApiError) {
    const hint =
      error.status === 401 && error instanceof RegistryApiError
        ? "the registry credential was not accepted: check TUF_EDGE_REGISTRY_SECRET (whsec_… or whsk_…), that it is not revoked or past its overlap, and this machine's clock (pushes more than 5 minutes off are refused)"
        : error.status === 401
          ? "the admin token was not accepted: check TUF_EDGE_ADMIN_TOKEN"
          : error.problem.code === "immutable_target"
            ? "a target path once published keeps its digest forever; publish the new bytes under a new path"
            : undefined;
    const fields = Array.isArray(error.problem.errors)
      ? (error.problem.errors as Array<{ path?: string; message?: string }>)
          .map((e) => `\n  ${e.path ?? ""}: ${e.message ?? ""}`)
          .join("")
      : "";
    return {
      exitCode: EXIT.refused,
      message: `the server refused (${error.status} ${error.problem.code ?? "error"}): ${error.problem.detail ?? "no detail"}${fields}`,
      ...(hint ? { hint } : {}),
      problem: { status: error.status, ...error.problem },
    };
  }
  if (isNetworkError(error))
    return { exitCode: EXIT.unreachable, message: `cannot reach the server: ${describeNetworkCause(error)}` };
  return { exitCode: EXIT.failure, message: (error as Error)?.message ?? String(error) };
}
