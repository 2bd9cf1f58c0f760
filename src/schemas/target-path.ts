/**
 * What a target path may be. Paths become R2 keys and URL paths, so anything
 * that could change meaning on the way (dot segments, empty segments, a
 * leading slash, backslashes, control characters) is refused.
 */
import { z } from "zod";

export const MAX_TARGET_PATH_LENGTH = 1024;

export const TargetPathSchema = z
  .string()
  .min(1, "a target path is not empty")
  .max(MAX_TARGET_PATH_LENGTH, `a target path is at most ${MAX_TARGET_PATH_LENGTH} characters`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), "a target path has no control or NUL characters")
  .refine((p) => !p.includes("\\"), "a target path has no backslashes")
  .refine((p) => !p.startsWith("/"), "a target path does not start with /")
  .refine((p) => p.split("/").every((s) => s !== ""), "a target path has no empty segments (//, trailing /)")
  .refine((p) => p.split("/").every((s) => s !== "." && s !== ".."), "a target path has no . or .. segments");
