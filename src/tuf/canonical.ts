/**
 * OLPC canonical JSON, the form TUF signs (spec §4.2 "Canonical JSON").
 * Keys sorted, no insignificant white space, integers only, and only `"` and
 * `\` escaped in strings. The encoder is the one tuf-js itself uses.
 */
import { canonicalize as olpc } from "@tufjs/canonical-json";
import { utf8 } from "./encoding.ts";

/** The canonical bytes of `value`. Throws TypeError for floats or undefined. */
export function canonicalBytes(value: unknown): Uint8Array<ArrayBuffer> {
  return utf8(olpc(value as Parameters<typeof olpc>[0]));
}
