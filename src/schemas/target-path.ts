/**
 * What a target path may be. A path is a key of signed metadata, an R2 key, a
 * URL path and what a user reads as a package's name, so anything that could
 * change meaning on the way, or show one thing and fetch another, is refused:
 *
 * - well-formed Unicode (no lone surrogates: see safe-string.ts);
 * - in Unicode Normalization Form C, so that two paths that look the same are
 *   the same string (a non-NFC path is refused, with its NFC form in the error);
 * - no control, format or invisible characters: C0 and C1 controls and DEL
 *   (Cc), U+2028/U+2029 (Zl, Zp), bidi overrides and isolates
 *   (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200F),
 *   U+FEFF and every other format character (Cf), and private-use
 *   characters (Co);
 * - no character in U+E000–U+FFFF (private use, compatibility ideographs,
 *   presentation and half/fullwidth forms, specials), which also makes every
 *   client sort paths alike in canonical JSON (see src/tuf/canonical.ts);
 * - at most MAX_TARGET_PATH_BYTES bytes of UTF-8, so that every R2 key
 *   derived from it fits R2's 1,024-byte limit (see repository-bucket.ts);
 * - no leading `/`, no empty, `.` or `..` segments, no backslashes.
 */
import { z } from "zod";
import { sortsAlikeEverywhere } from "../tuf/canonical.ts";
import { utf8 } from "../lib/bytes.ts";
import { codePointAt, illFormed } from "./safe-string.ts";

/** Bytes of UTF-8: with the longest repository name and a sha256 prefix, a target's R2 key stays within 1,024 bytes. */
export const MAX_TARGET_PATH_BYTES = 800;

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}]/u;
const ORDER_SENSITIVE = /[\uE000-\uFFFF]/;

/** Printable ASCII: no character the Unicode rules below refuse, in NFC already, one byte of UTF-8 each. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Why `path` is not a target path, or null if it is one. */
export function targetPathProblem(path: string): string | null {
  if (path.length === 0) return "a target path is not empty";
  // Most paths are printable ASCII: only the length and the segment rules can refuse them (the same answers, cheaper).
  if (PRINTABLE_ASCII.test(path))
    return path.length > MAX_TARGET_PATH_BYTES ? tooLong(path.length) : segmentProblem(path);
  const unpaired = illFormed(path);
  if (unpaired) return `a target path is ${unpaired}`;
  const bytes = utf8(path).length;
  if (bytes > MAX_TARGET_PATH_BYTES) return tooLong(bytes);
  const invisible = INVISIBLE.exec(path);
  if (invisible) {
    return `a target path has no control, format (invisible, bidi) or private-use characters: ${codePointAt(path, invisible.index)} at index ${invisible.index}`;
  }
  if (!sortsAlikeEverywhere(path)) {
    const at = path.search(ORDER_SENSITIVE);
    return `a target path has no characters in U+E000–U+FFFF (private use, compatibility and presentation forms, fullwidth forms, specials): ${codePointAt(path, at)} at index ${at}`;
  }
  const nfc = path.normalize("NFC");
  if (nfc !== path) return `a target path is in Unicode NFC: send ${JSON.stringify(nfc)}`;
  return segmentProblem(path);
}

const tooLong = (bytes: number) =>
  `a target path is at most ${MAX_TARGET_PATH_BYTES} bytes of UTF-8 (this one is ${bytes})`;

/** The rules on backslashes and segments. */
function segmentProblem(path: string): string | null {
  if (path.includes("\\")) return "a target path has no backslashes";
  if (path.startsWith("/")) return "a target path does not start with /";
  const segments = path.split("/");
  if (segments.some((s) => s === "")) return "a target path has no empty segments (//, trailing /)";
  if (segments.some((s) => s === "." || s === "..")) return "a target path has no . or .. segments";
  return null;
}

/** The rules above, for the OpenAPI document. */
export const TARGET_PATH_RULES =
  `A target path: 1 to ${MAX_TARGET_PATH_BYTES} bytes of UTF-8; well-formed Unicode (no lone surrogates) in NFC ` +
  "(a non-NFC path is refused, and the error gives its NFC form); no control, format or invisible characters " +
  "(C0/C1 controls, DEL, U+2028/U+2029, bidi overrides and isolates U+202A–U+202E and U+2066–U+2069, " +
  "zero-width characters, U+FEFF, any other Cf) and no private-use characters; no characters in U+E000–U+FFFF " +
  "(presentation, compatibility and fullwidth forms, specials: they also sort differently in canonical JSON across " +
  "TUF clients); no leading /, no empty, . or .. segments, no backslashes.";

export const TargetPathSchema = z
  .string()
  .superRefine((path, ctx) => {
    const problem = targetPathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ description: TARGET_PATH_RULES });
