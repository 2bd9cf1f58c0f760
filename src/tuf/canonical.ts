/**
 * OLPC canonical JSON, the form TUF signs (spec §4.2 "Canonical JSON").
 * Keys sorted, no insignificant white space, integers only, and only `"` and
 * `\` escaped in strings. The encoder is the one tuf-js itself uses.
 *
 * "Keys sorted" is not one order across clients. tuf-js (@tufjs/canonical-json)
 * sorts with `Object.keys(o).sort()`, by UTF-16 code unit; python-securesystemslib
 * (`formats.encode_canonical`: `sorted(object.items())`) and go-securesystemslib
 * (`cjson.EncodeCanonical`: `sort.Strings`, UTF-8 bytes) sort by code point. The
 * two disagree only when, at the first difference, one key has a character in
 * U+E000–U+FFFF and the other a character above U+FFFF (a surrogate pair,
 * D800–DBFF, sorts below E000 by code unit and above it by code point): e.g.
 * "\uFB01" and "\u{1F600}". Such an object's signature verifies in some clients
 * and not in others. tuf-edge therefore never signs one: the request schemas
 * refuse U+E000–U+FFFF in every key that can enter signed metadata (target
 * paths, `custom` keys; see `sortsAlikeEverywhere`), which makes both orders one,
 * and `canonicalBytes` refuses any object whose keys would still sort differently.
 */
import { canonicalize as olpc } from "@tufjs/canonical-json";
import { utf8 } from "../lib/bytes.ts";

/** Characters that sort differently by code unit and by code point when compared with a character above U+FFFF. */
const ORDER_SENSITIVE = /[\uE000-\uFFFF]/;
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Whether a key can never make canonical JSON's key order differ between
 * clients: it holds no character in U+E000–U+FFFF. (Among well-formed strings
 * without those characters, every BMP unit is below U+D800 and every astral
 * character starts with a lead surrogate at or above it, so code-unit order
 * is code-point order, which is also UTF-8 byte order.)
 */
export function sortsAlikeEverywhere(key: string): boolean {
  return !ORDER_SENSITIVE.test(key);
}

/** Compares by code point (securesystemslib, go-securesystemslib, UTF-8 bytes). */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (const [i, p] of x.entries()) {
    const q = y[i];
    if (q === undefined) break;
    if (p !== q) return p - q;
  }
  return x.length - y.length;
}

/** Why `value` cannot be signed as canonical JSON every client computes alike, or null if it can. */
export function canonicalProblem(value: unknown, at = "$"): string | null {
  if (typeof value === "string") {
    return value.isWellFormed() ? null : `${at} is not well-formed Unicode (a lone surrogate)`;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = canonicalProblem(item, `${at}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (value === null || typeof value !== "object") return null;
  const keys = Object.keys(value);
  for (const key of keys) {
    if (!key.isWellFormed()) return `a key in ${at} is not well-formed Unicode (a lone surrogate)`;
  }
  if (keys.some((k) => ORDER_SENSITIVE.test(k)) && keys.some((k) => SURROGATE.test(k))) {
    const byUnit = [...keys].sort();
    const byPoint = [...keys].sort(byCodePoint);
    if (byUnit.some((k, i) => k !== byPoint[i]))
      return `the keys of ${at} sort differently by UTF-16 code unit and by code point`;
  }
  for (const key of keys) {
    const problem = canonicalProblem((value as Record<string, unknown>)[key], `${at}.${key}`);
    if (problem) return problem;
  }
  return null;
}

/**
 * The canonical bytes of `value`. Throws TypeError for floats or undefined, and
 * for what some client would encode differently (see `canonicalProblem`): the
 * request schemas refuse such input long before it reaches here.
 */
export function canonicalBytes(value: unknown): Uint8Array<ArrayBuffer> {
  return utf8(canonicalText(value));
}

/** canonicalBytes' text, before its UTF-8: for a caller that splices it (assembled.ts) rather than encoding it twice. */
export function canonicalText(value: unknown): string {
  const problem = canonicalProblem(value);
  if (problem) throw new TypeError(`cannot sign as canonical JSON: ${problem}`);
  return olpc(value as Parameters<typeof olpc>[0]);
}
