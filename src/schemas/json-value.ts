/**
 * `custom`: free-form JSON that will be signed as canonical JSON, so it holds
 * only what every client encodes alike:
 * - integers only (canonical JSON cannot encode floats), bounded depth and size;
 * - every key and string well-formed Unicode (safe-string.ts);
 * - no key, at any depth, with a character in U+E000–U+FFFF, which clients
 *   would sort differently (src/tuf/canonical.ts);
 * - no key `__proto__`: JavaScript code (zod's records, object spreads,
 *   assignments) would silently drop it or take it for the object's prototype,
 *   so it is refused rather than kept in some places and lost in others.
 * It is checked on the value as parsed, before anything copies it.
 */
import { z } from "zod";
import { sortsAlikeEverywhere } from "../tuf/canonical.ts";
import { codePointAt, illFormed } from "./safe-string.ts";

export const MAX_CUSTOM_BYTES = 4096;
const MAX_DEPTH = 8;
const MAX_KEY_LENGTH = 256;

type Problem = { path: Array<string | number>; message: string };

function keyProblem(key: string): string | null {
  if (key === "__proto__") return "the key __proto__ is not allowed (JavaScript clients would lose it)";
  if (key.length > MAX_KEY_LENGTH) return `a key is at most ${MAX_KEY_LENGTH} characters`;
  const unpaired = illFormed(key);
  if (unpaired) return `this key is ${unpaired}`;
  if (!sortsAlikeEverywhere(key)) {
    const at = key.search(/[\uE000-\uFFFF]/);
    return `a key has no characters in U+E000–U+FFFF (clients sort those differently in canonical JSON): ${codePointAt(key, at)} at index ${at}`;
  }
  return null;
}

/** The first thing in `value` that signed canonical JSON cannot hold, or null. */
function customProblem(value: unknown, depth: number, path: Array<string | number>): Problem | null {
  if (depth > MAX_DEPTH) return { path, message: `custom is nested at most ${MAX_DEPTH} deep` };
  if (value === null || typeof value === "boolean") return null;
  if (typeof value === "string") {
    const problem = illFormed(value);
    return problem ? { path, message: problem } : null;
  }
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? null : { path, message: "custom holds integer numbers only" };
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = customProblem(item, depth + 1, [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === "object") {
    for (const key of Object.keys(value)) {
      const problem = keyProblem(key);
      if (problem) return { path: [...path, key], message: problem };
      const found = customProblem((value as Record<string, unknown>)[key], depth + 1, [...path, key]);
      if (found) return found;
    }
    return null;
  }
  return { path, message: "custom holds JSON values only" };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export const CustomSchema = z
  .custom<Record<string, unknown>>(isObject, "custom is a JSON object")
  .superRefine((value, ctx) => {
    const found = customProblem(value, 0, []);
    if (found) ctx.addIssue({ code: "custom", path: found.path, message: found.message });
    else if (JSON.stringify(value).length > MAX_CUSTOM_BYTES)
      ctx.addIssue({ code: "custom", message: `custom is at most ${MAX_CUSTOM_BYTES} bytes of JSON` });
  })
  .meta({
    type: "object",
    description:
      `Free-form JSON signed into the target's entry: at most ${MAX_CUSTOM_BYTES} bytes, nested at most ${MAX_DEPTH} deep, ` +
      "integers only; every key and string well-formed Unicode; no key __proto__ (refused: JavaScript code would drop it); " +
      "no key with a character in U+E000–U+FFFF (TUF clients sort such keys differently in canonical JSON).",
  });
