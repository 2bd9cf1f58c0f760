/**
 * Request validation with zod: a failure is a 400 problem naming every
 * offending field (e.g. "add.3.hashes.sha256"), before anything happens.
 * A JSON body is first checked to be well-formed Unicode throughout.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { describeIssues, fieldErrors } from "../schemas/issues.ts";
import { wellFormedJson } from "../schemas/safe-string.ts";
import { ProblemError } from "./problem.ts";

export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  const checked = (target === "json" ? wellFormedJson(schema) : schema) as Schema;
  return zValidator(target, checked, (result) => {
    if (result.success) return;
    throw new ProblemError(400, {
      code: "invalid_request",
      detail: `invalid ${target}: ${describeIssues(result.error)}`.slice(0, 2000),
      errors: fieldErrors(result.error),
    });
  });
}
