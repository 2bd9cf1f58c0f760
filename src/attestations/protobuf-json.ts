/**
 * zod building blocks for protobuf JSON (https://protobuf.dev/programming-guides/json/),
 * the encoding of Sigstore bundles and trusted roots:
 *  - `null` means the field is absent (for messages, scalars and repeated fields alike);
 *  - bytes are base64, standard or URL-safe, padding optional;
 *  - int64 is a decimal string (a number is accepted too);
 *  - Timestamp is an RFC 3339 string.
 * Wrong types are refused: `null` is the only stand-in for "absent".
 */
import { z } from "zod";
import { fromBase64 } from "../lib/bytes.ts";

/** An optional field: absent, or `null`, become `undefined`. */
export function optional<T extends z.ZodType>(
  schema: T,
): z.ZodPipe<z.ZodOptional<z.ZodNullable<T>>, z.ZodTransform<z.output<T> | undefined, z.output<T> | null | undefined>> {
  return schema
    .nullable()
    .optional()
    .transform((value) => value ?? undefined);
}

/** A repeated field: absent or `null` is the empty list. */
export function repeated<T extends z.ZodType>(
  schema: T,
): z.ZodPipe<
  z.ZodOptional<z.ZodNullable<z.ZodArray<T>>>,
  z.ZodTransform<z.output<T>[], z.output<T>[] | null | undefined>
> {
  return z
    .array(schema)
    .nullable()
    .optional()
    .transform((value) => value ?? []);
}

export const nonEmptyString = z.string().min(1, "not a non-empty string");

/** protobuf JSON bytes, never empty here (no Sigstore field we read may be). */
export const bytes = nonEmptyString.transform((text, ctx): Uint8Array<ArrayBuffer> => {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) {
    try {
      const out = fromBase64(standard);
      if (out.length > 0) return out;
    } catch {
      // reported below
    }
  }
  ctx.addIssue({ code: "custom", message: "not base64 of at least one byte" });
  return z.NEVER;
});

/** protobuf JSON int64, non-negative: a decimal string (or a safe integer). */
export const uint64 = z
  .union([
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().regex(/^(0|[1-9][0-9]{0,18})$/, "not a non-negative integer"),
  ])
  .transform((value) => BigInt(value));

/** protobuf JSON Timestamp (RFC 3339). */
export const timestamp = z.string().transform((text, ctx): Date => {
  const date = new Date(text);
  if (!/^\d{4}-\d\d-\d\dT/.test(text) || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: `not an RFC 3339 timestamp: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return date;
});

/** The first problem of a failed parse, as "path: message". */
export function firstIssue(error: z.ZodError, root: string): string {
  const issue = error.issues[0];
  if (!issue) return `${root}: invalid`;
  const path = [root, ...issue.path.map(String)].join(".");
  return `${path}: ${issue.message}`;
}
