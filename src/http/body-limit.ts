/** Request body caps: a body over `maxSize` bytes is refused with 413 body_too_large before it is read. */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ProblemError } from "./problem.ts";

export function bodyCap(maxSize: number, detail: string): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError(413, { code: "body_too_large", detail });
    },
  });
}
