/**
 * Which targets a change of the delegation tree can move, as scans of the
 * `targets` table (Delegations.#reassign reads each a page at a time, in
 * path order), so a change reads what it may move and not the whole table.
 *
 * A target is listed by the end of its chain of first-claiming delegations
 * (Delegations.assign). So:
 * - A delegation added (a leaf, with no nested ones yet) changes the chain of
 *   the paths it claims, and of no other: any other path's search passes it
 *   over, as before. assign() also refuses a path a pattern of it may match
 *   in one client and not the other (clientsMayDisagree: a segment starting
 *   with "." where the pattern's segment starts with a wildcard), and those
 *   are read too. Patterns: the paths starting with a pattern's literal
 *   prefix (a range of the path index), and the paths with a segment
 *   starting with "." when a pattern's segment after the first starts with a
 *   wildcard. Hash prefixes, or a pattern starting with a wildcard: every
 *   path.
 * - A delegation removed (a leaf) was the end of the chain of exactly the
 *   paths it held: the rows of its roles (itself and its bins; ranges of the
 *   bin index).
 */

/** Rows of `targets` to read: a condition on `path` or `bin` and its bindings. */
export interface Scan {
  where: string;
  bindings: string[];
}

/** Every target: a change whose reach no index narrows. */
export const EVERY_TARGET: Scan = { where: "1", bindings: [] };

const WILDCARD = /[*?[]/;

/** The targets that adding a delegation with these claims can move. */
export function scansForAdded(claims: { paths?: string[]; path_hash_prefixes?: string[] }): Scan[] {
  if (claims.path_hash_prefixes !== undefined) return claims.path_hash_prefixes.length > 0 ? [EVERY_TARGET] : [];
  const patterns = claims.paths ?? [];
  const scans: Scan[] = [];
  for (const pattern of patterns) {
    const literal = pattern.slice(0, pattern.search(WILDCARD) === -1 ? pattern.length : pattern.search(WILDCARD));
    const range = prefixRange(literal);
    if (!range) return [EVERY_TARGET];
    scans.push(range);
  }
  // A later segment starting with a wildcard: the paths a client may disagree on (a segment starting with ".").
  if (patterns.some((pattern) => pattern.split("/").some((segment, i) => i > 0 && WILDCARD.test(segment[0] ?? "")))) {
    scans.push({ where: "path GLOB '*/.*'", bindings: [] });
  }
  return scans;
}

/** The targets that removing a delegation can move: those its roles hold. */
export function scansForRemoved(roles: readonly string[]): Scan[] {
  return roles.map((role) => ({ where: "bin = ?", bindings: [role] }));
}

/**
 * The paths that start with `prefix`, as a range of the path index: from the
 * prefix to the first string after all that start with it, in the order
 * SQLite compares text (UTF-8 bytes, so code points). Null when no range
 * narrows it (an empty prefix, or one with a lone surrogate).
 */
export function prefixRange(prefix: string): Scan | null {
  const points = Array.from(prefix, (c) => c.codePointAt(0) as number);
  if (points.length === 0 || points.some((p) => p >= 0xd800 && p <= 0xdfff)) return null;
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last === 0x10ffff) continue;
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return { where: "path >= ? AND path < ?", bindings: [prefix, String.fromCodePoint(...points, next)] };
  }
  return { where: "path >= ?", bindings: [prefix] };
}
