/**
 * Bearer-token authentication for the admin API. The token is compared by
 * SHA-256 digest in constant time, and never echoed or logged.
 */
import type { MiddlewareHandler } from "hono";
import { sha256 } from "../lib/digest.ts";
import { timingSafeEqual, utf8 } from "../lib/bytes.ts";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "./problem.ts";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="tuf-edge admin"' };

export function adminAuth(options: { token: (env: Env) => string | undefined }): MiddlewareHandler<AppEnv> {
  if (typeof options.token !== "function") throw new TypeError("adminAuth: options.token must be a function");
  return async (c, next) => {
    const expected = options.token(c.env);
    if (!expected || expected.length < 16) {
      throw new ProblemError(503, { code: "admin_disabled", detail: "the admin API has no ADMIN_TOKEN configured" });
    }
    // RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces before the token.
    const match = /^bearer +([\x21-\x7e]+)$/i.exec(c.req.header("Authorization") ?? "");
    if (!match) {
      throw new ProblemError(
        401,
        { code: "unauthenticated", detail: "an Authorization: Bearer token is required" },
        CHALLENGE,
      );
    }
    const [given, wanted] = await Promise.all([sha256(utf8(match[1] ?? "")), sha256(utf8(expected))]);
    if (!timingSafeEqual(given, wanted)) {
      throw new ProblemError(401, { code: "unauthenticated", detail: "the bearer token is not valid" }, CHALLENGE);
    }
    await next();
  };
}
