/**
 * A JSON body read against its schema, with the answer a refusal gives:
 * 400 invalid_request, what is wrong and where. Pure: the Worker reads a
 * push's body with it before calling the repository's object, which reads
 * upload manifests with it.
 */
import type { z } from "zod";
import { type Failure, failure } from "../repository-api.ts";
import { describeIssues, fieldErrors } from "./issues.ts";
import { mayBeIllFormed, wellFormedJson } from "./safe-string.ts";

/** A body read: its value, or why it was refused. Plain data, so it crosses an RPC call as it is. */
export type Parsed<T> = { ok: true; value: T } | Failure;

export function parseJson<S extends z.ZodType>(text: string, schema: S): Parsed<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failure(400, "invalid_request", "the body is not JSON");
  }
  // Text with no surrogate anywhere cannot hold an ill-formed string: the schema alone decides.
  const parsed = (mayBeIllFormed(text) ? wellFormedJson(schema) : schema).safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ...failure(400, "invalid_request", describeIssues(parsed.error)),
    errors: fieldErrors(parsed.error),
  };
}
