/**
 * RFC 9457 problem details. Every error the service returns is a
 * `ProblemError` thrown anywhere in a request and rendered by `onError`.
 */
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { logEvent } from "../structured-log.ts";

export const PROBLEM_TYPE = "application/problem+json";

export interface ProblemDetails {
  /** A short, stable, machine-readable name, e.g. "invalid_request". */
  code: string;
  detail: string;
  /** Per-field errors, for validation failures. */
  errors?: Array<{ path: string; message: string }>;
}

export class ProblemError extends HTTPException {
  readonly problem: ProblemDetails;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, problem: ProblemDetails, headers: Record<string, string> = {}) {
    super(status, { message: problem.detail });
    this.problem = problem;
    this.headers = headers;
  }
}

const TITLES: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problemResponse(
  status: number,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): Response {
  const body = { type: "about:blank", title: TITLES[status] ?? "Error", status, ...problem };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": PROBLEM_TYPE, "Cache-Control": "no-store", ...headers },
  });
}

export const onError: ErrorHandler = (error, c) => {
  if (error instanceof ProblemError) {
    // One structured line per refusal class; a missing file is not an event worth a line.
    if (error.status !== 404) {
      logEvent(
        "request.refused",
        { status: error.status, code: error.problem.code, method: c.req.method, path: c.req.path.slice(0, 300) },
        error.status >= 500 ? "error" : "warn",
      );
    }
    return problemResponse(error.status, error.problem, error.headers);
  }
  if (error instanceof HTTPException) {
    return problemResponse(error.status, { code: "http_error", detail: error.message || "request failed" });
  }
  // Unexpected: log the class and message only (never request bodies: they may hold secrets).
  logEvent(
    "request.failed",
    { method: c.req.method, path: c.req.path.slice(0, 300), error: `${error.name}: ${error.message}` },
    "error",
  );
  // The repository's storage was migrated by a newer version than the one deployed (durable-objects/migrate.ts,
  // named across the object's RPC boundary): the deploy is at fault, not the request, and the message holds only
  // migration numbers.
  if (error.name === "SchemaAheadError") return problemResponse(503, { code: "schema_ahead", detail: error.message });
  return problemResponse(500, { code: "internal_error", detail: "an unexpected error occurred" });
};

export const onNotFound: NotFoundHandler = (c) =>
  problemResponse(404, { code: "not_found", detail: `no route for ${c.req.method} ${c.req.path}` });
