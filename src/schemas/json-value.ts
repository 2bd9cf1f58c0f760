/**
 * Free-form JSON that will be signed as canonical JSON: integers only (no
 * floats: canonical JSON cannot encode them), bounded depth and size.
 */
import { z } from "zod";

export const MAX_CUSTOM_BYTES = 4096;
const MAX_DEPTH = 8;

function isCanonicalJson(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.every((v) => isCanonicalJson(v, depth + 1));
  if (typeof value === "object") return Object.values(value).every((v) => isCanonicalJson(v, depth + 1));
  return false;
}

export const CustomSchema = z
  .record(z.string().max(256), z.unknown())
  .refine((v) => isCanonicalJson(v, 0), `custom holds JSON with integer numbers only, nested at most ${MAX_DEPTH} deep`)
  .refine((v) => JSON.stringify(v).length <= MAX_CUSTOM_BYTES, `custom is at most ${MAX_CUSTOM_BYTES} bytes of JSON`);
