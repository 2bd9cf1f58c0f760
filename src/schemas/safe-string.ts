/**
 * Strings that reach canonical JSON, SQL or an R2 key must be well-formed
 * Unicode. JavaScript strings are UTF-16 and JSON.parse accepts a lone
 * surrogate ("\ud800"), but UTF-8 cannot encode one: TextEncoder, SQLite and
 * R2 each store U+FFFD instead, so what would be signed and stored is not
 * what was acknowledged, and two different strings would become one. Every
 * such string is refused (400), naming its field.
 */
import { z } from "zod";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** "U+XXXX" for the character at `index` of `s`. */
export function codePointAt(s: string, index: number): string {
  return `U+${(s.codePointAt(index) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Why `s` is not well-formed Unicode (naming where), or null if it is. */
export function illFormed(s: string): string | null {
  const match = LONE_SURROGATE.exec(s);
  return match
    ? `not well-formed Unicode: a lone surrogate (${codePointAt(s, match.index)}) at index ${match.index}`
    : null;
}

/** A string that is well-formed Unicode. */
export const SafeString = z.string().superRefine((s, ctx) => {
  const problem = illFormed(s);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** The first key or string anywhere in a JSON value that is not well-formed, with its path; null if none. */
export function firstIllFormed(
  value: unknown,
  path: Array<string | number> = [],
): { path: Array<string | number>; message: string } | null {
  if (typeof value === "string") {
    const problem = illFormed(value);
    return problem ? { path, message: problem } : null;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = firstIllFormed(item, [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value === null || typeof value !== "object") return null;
  for (const [key, item] of Object.entries(value)) {
    const problem = illFormed(key);
    if (problem) return { path: [...path, key], message: `this key is ${problem}` };
    const found = firstIllFormed(item, [...path, key]);
    if (found) return found;
  }
  return null;
}

/**
 * Whether JSON text can hold a string or key that is not well-formed: only a
 * surrogate code unit, raw or as a \\uD800–\\uDFFF escape, can make one. Text
 * without either needs no walk of its parsed value (wellFormedJson).
 */
export function mayBeIllFormed(jsonText: string): boolean {
  return /[\uD800-\uDFFF]|\\u[dD][89a-fA-F]/.test(jsonText);
}

/** Each schema's wrapped form, built once (a push parses its body with it: building zod schemas costs more than using them). */
const wrapped = new WeakMap<z.ZodType, z.ZodType>();

/** `schema` for a JSON body, after a check that every key and string in it, at any depth, is well-formed. */
export function wellFormedJson<S extends z.ZodType>(schema: S) {
  const built = wrapped.get(schema) as ReturnType<typeof wrap<S>> | undefined;
  if (built) return built;
  const made = wrap(schema);
  wrapped.set(schema, made);
  return made;
}

function wrap<S extends z.ZodType>(schema: S) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const found = firstIllFormed(value);
      if (found) ctx.addIssue({ code: "custom", path: found.path, message: found.message });
    })
    .pipe(schema);
}
