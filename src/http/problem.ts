/**
 * RFC 9457 problem details. Every error the service returns is a
 * `ProblemError` thrown anywhere in a request and rendered by `onError`.
 */
import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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

export const onError: ErrorHandler = (error) => {
  if (error instanceof ProblemError) return problemResponse(error.status, error.problem, error.headers);
  if (error instanceof HTTPException) {
    return problemResponse(error.status, { code: "http_error", detail: error.message || "request failed" });
  }
  // Unexpected: log the class and message only (never request bodies: they may hold secrets).
  console.error(`unhandled ${error.name}: ${error.message}`);
  return problemResponse(500, { code: "internal_error", detail: "an unexpected error occurred" });
};

export const onNotFound: NotFoundHandler = (c) =>
  problemResponse(404, { code: "not_found", detail: `no route for ${c.req.method} ${c.req.path}` });
