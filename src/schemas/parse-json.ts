/**
 * A JSON body read against its schema, with the answer a refusal gives:
 * 400 invalid_request, what is wrong and where. Pure: the Worker reads a
 * push's body with it before calling the repository's object, which reads
 * upload manifests with it.
 */
import type { z } from "zod";
import { describeIssues, fieldErrors } from "./issues.ts";
import { mayBeIllFormed, wellFormedJson } from "./safe-string.ts";

/** Why a body was refused: a 400 `Failure` of the RPC contract (src/repository-api.ts), which this folder does not import. */
export interface BodyRefusal {
  ok: false;
  status: 400;
  code: "invalid_request";
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

/** A body read: its value, or why it was refused. Plain data, so it crosses an RPC call as it is. */
export type Parsed<T> = { ok: true; value: T } | BodyRefusal;

const refusal = (detail: string): BodyRefusal => ({ ok: false, status: 400, code: "invalid_request", detail });

export function parseJson<S extends z.ZodType>(text: string, schema: S): Parsed<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refusal("the body is not JSON");
  }
  // Text with no surrogate anywhere cannot hold an ill-formed string: the schema alone decides.
  const parsed = (mayBeIllFormed(text) ? wellFormedJson(schema) : schema).safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ...refusal(describeIssues(parsed.error)), errors: fieldErrors(parsed.error) };
}
