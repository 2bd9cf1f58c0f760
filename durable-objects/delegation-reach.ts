/**
 * Which targets a change of the delegation tree can move, as scans of the
 * `targets` table (DelegationMoves.move reads each a page at a time, in
 * path order), so a change reads what it may move and not the whole table.
 *
 * A target is listed by the end of its chain of first-claiming delegations
 * (Delegations.assign). So:
 * - A delegation added (a leaf, with no nested ones yet) changes the chain
 *   only of paths whose search reaches its place and would have ended after
 *   it: the rows of its parent (a delegation holds the paths none of its
 *   children claims), of its later siblings' roles and their descendants',
 *   and, under `targets`, of the top-level bins (the catch-all holds what no
 *   delegation claims). Within those, of the paths it claims, and of those
 *   assign() refuses because a pattern of it may match them in one client
 *   and not the other (clientsMayDisagree: a segment starting with "."
 *   where the pattern's segment starts with a wildcard). Read as:
 *   - path patterns: the paths starting with each pattern's literal prefix
 *     (a range of the path index), and, when a pattern's later segment
 *     starts with a wildcard, the paths with a segment starting with ".";
 *   - hash prefixes: the roles after its place, the top-level bins only
 *     where a bin's range of the path's SHA-256 meets a prefix;
 *   - a pattern starting with a wildcard, which no prefix narrows: the
 *     paths its covering GLOB matches (coveringGlob) and those whose first
 *     segment starts with ".", from the roles after its place, or under
 *     `targets` from the whole path index (SQLite tests each path; only
 *     those rows are read).
 * - A delegation removed (a leaf) was the end of the chain of exactly the
 *   paths it held: the rows of its roles (itself and its bins; ranges of the
 *   bin index).
 */
import { classEnd } from "../src/tuf/delegations.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";

/** Rows of `targets` to read: a condition on `path` or `bin` and its bindings. */
export interface Scan {
  where: string;
  bindings: string[];
}

/** Every target: a change whose reach no index narrows. */
export const EVERY_TARGET: Scan = { where: "1", bindings: [] };

const WILDCARD = /[*?[]/;

/**
 * Where a delegation is added: the roles that hold the paths whose search
 * would reach it and end after it. Without one, hash prefixes read every
 * target, and patterns are read as under `targets`.
 */
export interface Place {
  /** Its parent if that is a delegation (which holds what none of its children claims), its later siblings and their descendants (their roles and bins). */
  after: string[];
  /** Under `targets`, the top-level bins (where the catch-all holds what no delegation claims); null under a delegation. */
  topBins: HashBins | null;
}

/** The targets that adding a delegation with these claims can move. */
export function scansForAdded(claims: { paths?: string[]; path_hash_prefixes?: string[] }, place?: Place): Scan[] {
  /** Every row the new delegation could take, whatever it claims. */
  const reachable = (): Scan[] => (place && !place.topBins ? scansOfRoles(place.after) : [EVERY_TARGET]);
  if (claims.path_hash_prefixes !== undefined) {
    if (claims.path_hash_prefixes.length === 0) return [];
    if (!place) return [EVERY_TARGET];
    const top = place.topBins ? binsUnderHashPrefixes(place.topBins, claims.path_hash_prefixes) : [];
    return scansOfRoles([...top, ...place.after]);
  }
  const patterns = claims.paths ?? [];
  const scans: Scan[] = [];
  const globs: string[] = [];
  for (const pattern of patterns) {
    const wildcard = pattern.search(WILDCARD);
    const range = prefixRange(wildcard === -1 ? pattern : pattern.slice(0, wildcard));
    if (range) {
      scans.push(range);
      continue;
    }
    const glob = coveringGlob(pattern);
    if (glob === null) return reachable();
    globs.push(glob);
  }
  if (globs.length > 0) {
    // A first segment starting with a wildcard: also the paths whose first segment starts with "." (clientsMayDisagree).
    const matching = [...globs.map(() => "path GLOB ?"), "path GLOB '.*'"].join(" OR ");
    if (place && !place.topBins) {
      for (const role of scansOfRoles(place.after))
        scans.push({ where: `${role.where} AND (${matching})`, bindings: [...role.bindings, ...globs] });
    } else scans.push({ where: matching, bindings: globs });
  }
  // A later segment starting with a wildcard: the paths a client may disagree on (a segment starting with ".").
  if (patterns.some((pattern) => pattern.split("/").some((segment, i) => i > 0 && WILDCARD.test(segment[0] ?? "")))) {
    scans.push({ where: "path GLOB '*/.*'", bindings: [] });
  }
  return scans;
}

/**
 * A SQLite GLOB that every path `pattern` matches also matches (python-tuf
 * reads a pattern a segment at a time, with fnmatch: delegations.ts), or
 * null for a pattern with a lone surrogate (no UTF-8 text to bind). Read the
 * same way, a segment at a time: `*` and `?` stay, a class that fnmatch
 * closes (`[…]`, `[!…]`, a `]` first is in it) matches one character, so it
 * becomes `?`, and a `[` fnmatch leaves open is a literal, `[[]`. GLOB's `*`
 * and `?` also match "/", so it matches more paths, never fewer.
 */
export function coveringGlob(pattern: string): string | null {
  if (/\p{Cs}/u.test(pattern)) return null;
  return pattern
    .split("/")
    .map((segment) => {
      const chars = [...segment];
      let out = "";
      for (let i = 0; i < chars.length; i++) {
        const c = chars[i] as string;
        if (c !== "[") {
          out += c;
          continue;
        }
        const j = classEnd(chars, i);
        if (j === -1) out += "[[]";
        else {
          out += "?";
          i = j;
        }
      }
      return out;
    })
    .join("/");
}

/** The targets these roles hold (for a delegation removed: those it can move). */
export function scansOfRoles(roles: readonly string[]): Scan[] {
  return [...new Set(roles)].map((role) => ({ where: "bin = ?", bindings: [role] }));
}

/**
 * The bins of `bins` that hold a path whose SHA-256 (lower-case hex) starts
 * with one of `prefixes`: a bin is the first bit_length bits of the digest,
 * so a prefix of as many bits or more names one bin, a shorter one a run.
 */
export function binsUnderHashPrefixes(bins: HashBins, prefixes: readonly string[]): string[] {
  const names = new Set<string>();
  for (const prefix of prefixes) {
    const bits = prefix.length * 4;
    if (bits >= bins.bitLength) {
      const digits = Math.ceil(bins.bitLength / 4);
      names.add(bins.name(Number.parseInt(prefix.slice(0, digits), 16) >>> (digits * 4 - bins.bitLength)));
      continue;
    }
    const first = bits === 0 ? 0 : Number.parseInt(prefix, 16) * 2 ** (bins.bitLength - bits);
    for (let i = 0; i < 2 ** (bins.bitLength - bits); i++) names.add(bins.name(first + i));
  }
  return [...names];
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
