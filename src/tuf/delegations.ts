/**
 * Delegated targets roles (spec §4.5 "delegations", §5.6.7 "preorder
 * depth-first search"): named roles, each trusted for the target paths its
 * `paths` glob patterns or `path_hash_prefixes` describe, with its own keys
 * and threshold, searched in the order they are listed.
 *
 * Path patterns follow python-tuf's `DelegatedRole.is_delegated_path`
 * (tuf/api/_payload.py): a pattern and a path match when they have the same
 * number of `/`-separated segments and each segment matches with Python's
 * `fnmatch` on POSIX (`*` any run of characters, `?` one character, `[seq]`
 * and `[!seq]` classes; case-sensitive; `*` never crosses a `/`). tuf-js
 * matches segments with minimatch instead, which differs for braces,
 * extglobs, backslashes, `[^…]`, a leading `!` or `#`, and segments starting
 * with `.`; `patternProblem` refuses the patterns on which the two may
 * differ, and `clientsMayDisagree` names the paths on which they still could.
 */
import { z } from "zod";
import { sha256Hex } from "../lib/digest.ts";
import { utf8 } from "../lib/bytes.ts";
import { HashBins } from "./hash-bins.ts";
import type { Key } from "./key.ts";

/** The names the spec gives the top-level roles: no delegation may take one. */
export const TOP_LEVEL_ROLE_NAMES: readonly string[] = ["root", "targets", "snapshot", "timestamp"];

/** python-tuf's `UpdaterConfig.max_delegations` default: delegated roles visited in one search (beyond `targets`). */
export const MAX_DELEGATIONS = 32;

export interface DelegatedRole {
  name: string;
  keyids: string[];
  threshold: number;
  terminating: boolean;
  paths?: string[];
  path_hash_prefixes?: string[];
}

/** A targets role's `delegations` with named roles (TAP 15's succinct_roles are the other form). */
export interface RoleDelegations {
  keys: Record<string, Key>;
  roles: DelegatedRole[];
  succinct_roles?: never;
}

/** Most patterns or prefixes one role lists, and the longest pattern. */
export const MAX_PATTERNS = 64;
export const MAX_PATTERN_LENGTH = 256;

/** Why `pattern` is not a portable path pattern (one python-tuf and tuf-js read alike), or null. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    return `a path pattern has 1 to ${MAX_PATTERN_LENGTH} characters`;
  }
  const bad = /[{}()\\^]/.exec(pattern);
  if (bad)
    return `a path pattern has no ${JSON.stringify(bad[0])} (braces, extglobs, escapes and [^…] read differently in tuf-js and python-tuf)`;
  const segments = pattern.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) {
    return "a path pattern has no empty, . or .. segments (target paths have none)";
  }
  for (const segment of segments) {
    if (segment.startsWith("!") || segment.startsWith("#")) {
      return "a path pattern segment does not start with ! or # (tuf-js reads them as negation and comment)";
    }
    for (let i = 0; i < segment.length; i++) {
      if (segment[i] === "]") return "a path pattern has no ] outside a [class]";
      if (segment[i] !== "[") continue;
      const close = segment.indexOf("]", i + 1);
      const body = close < 0 ? "" : segment.slice(i + 1, close).replace(/^!/, "");
      if (close < 0 || body === "" || /[[!]/.test(body)) {
        return "a path pattern's [class] is closed, not empty, and has no [ or ! inside (other than a leading !)";
      }
      i = close;
    }
  }
  return null;
}

/**
 * Whether python-tuf and tuf-js may answer differently for `path` against
 * `pattern`: minimatch does not let a wildcard match a segment's leading `.`,
 * fnmatch does.
 */
export function clientsMayDisagree(path: string, pattern: string): boolean {
  const targets = path.split("/");
  const patterns = pattern.split("/");
  if (targets.length !== patterns.length) return false;
  return targets.some((t, i) => t.startsWith(".") && /^[*?[]/.test(patterns[i] ?? ""));
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const CLASS_SPECIAL = /[\\\]^[-]/g;

/** One character of a class body, escaped for a `u` regex class. */
function classChar(c: string): string {
  return c.replace(CLASS_SPECIAL, "\\$&");
}

/** A `[…]` body as a regex class, dropping reversed ranges as Python ≥ 3.9 does. */
function classRegex(body: string): string {
  const negated = body.startsWith("!");
  const chars = [...(negated ? body.slice(1) : body)];
  let items = "";
  for (let k = 0; k < chars.length; k++) {
    const first = chars[k] as string;
    const last = chars[k + 2];
    if (chars[k + 1] === "-" && last !== undefined) {
      if ((first.codePointAt(0) ?? 0) <= (last.codePointAt(0) ?? 0)) items += `${classChar(first)}-${classChar(last)}`;
      k += 2;
    } else {
      items += classChar(first);
    }
  }
  if (items === "") return negated ? "[\\s\\S]" : "(?!)";
  return `[${negated ? "^" : ""}${items}]`;
}

/**
 * Where the class that `chars[open]` ("[") opens ends, as fnmatch reads it:
 * the index of its closing "]" (a "!" first negates it, a "]" first is in
 * it), or -1 when nothing closes it and the "[" is a literal.
 */
export function classEnd(chars: readonly string[], open: number): number {
  let j = open + 1;
  if (chars[j] === "!") j++;
  if (chars[j] === "]") j++;
  while (j < chars.length && chars[j] !== "]") j++;
  return j < chars.length ? j : -1;
}

/** Python's `fnmatch.translate` for one segment (POSIX: no case folding). */
function segmentRegex(pattern: string): RegExp {
  const chars = [...pattern];
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") {
      out += "[\\s\\S]*";
    } else if (c === "?") {
      out += "[\\s\\S]";
    } else if (c === "[") {
      const j = classEnd(chars, i);
      if (j === -1) {
        out += "\\[";
      } else {
        out += classRegex(chars.slice(i + 1, j).join(""));
        i = j;
      }
    } else {
      out += c.replace(REGEX_SPECIAL, "\\$&");
    }
  }
  return new RegExp(`^(?:${out})$`, "u");
}

/**
 * Segment patterns already translated (as Python's fnmatch keeps its own):
 * a change of the delegations matches every pattern against up to every
 * target path. The regexes have no `g` flag, so `test` keeps no state.
 */
const translated = new Map<string, RegExp>();
const TRANSLATED_MAX = 1_024;

/** Python's `fnmatch.fnmatch(name, pattern)` on a POSIX host. */
export function fnmatch(name: string, pattern: string): boolean {
  let regex = translated.get(pattern);
  if (!regex) {
    if (translated.size >= TRANSLATED_MAX) translated.clear();
    regex = segmentRegex(pattern);
    translated.set(pattern, regex);
  }
  return regex.test(name);
}

/** python-tuf's `DelegatedRole._is_target_in_pathpattern`: segment by segment, same count. */
export function isTargetInPathPattern(path: string, pattern: string): boolean {
  const targets = path.split("/");
  const patterns = pattern.split("/");
  if (targets.length !== patterns.length) return false;
  return targets.every((t, i) => fnmatch(t, patterns[i] as string));
}

/** python-tuf's `DelegatedRole.is_delegated_path`: hash prefixes first if listed, else path patterns. */
export async function isDelegatedPath(
  role: Pick<DelegatedRole, "paths" | "path_hash_prefixes">,
  path: string,
): Promise<boolean> {
  const digest = role.path_hash_prefixes === undefined ? "" : await sha256Hex(utf8(path));
  return isDelegatedPathWithDigest(role, path, digest);
}

/** The same, given the lower-case hex SHA-256 of the path's UTF-8 (for callers that hash synchronously). */
export function isDelegatedPathWithDigest(
  role: Pick<DelegatedRole, "paths" | "path_hash_prefixes">,
  path: string,
  sha256: string,
): boolean {
  if (role.path_hash_prefixes !== undefined) return role.path_hash_prefixes.some((prefix) => sha256.startsWith(prefix));
  if (role.paths !== undefined) return role.paths.some((pattern) => isTargetInPathPattern(path, pattern));
  return false;
}

/** The roles of `delegations` trusted for `path`, in order, stopping after the first terminating one. */
export async function rolesForTarget(
  delegations: Pick<RoleDelegations, "roles">,
  path: string,
): Promise<Array<{ name: string; terminating: boolean }>> {
  const out: Array<{ name: string; terminating: boolean }> = [];
  for (const role of delegations.roles) {
    if (!(await isDelegatedPath(role, path))) continue;
    out.push({ name: role.name, terminating: role.terminating });
    if (role.terminating) break;
  }
  return out;
}

/**
 * The roles a targets role's `delegations` (named roles, or TAP 15 succinct
 * bins) delegates `path` to, in search order. Every bin is terminating.
 */
export async function delegatedRolesFor(
  delegations: { roles?: DelegatedRole[]; succinct_roles?: { bit_length: number; name_prefix: string } } | undefined,
  path: string,
): Promise<Array<{ name: string; terminating: boolean }>> {
  if (!delegations) return [];
  if (delegations.succinct_roles) {
    const { bit_length, name_prefix } = delegations.succinct_roles;
    return [{ name: await new HashBins(bit_length, name_prefix).binFor(path), terminating: true }];
  }
  return rolesForTarget({ roles: delegations.roles ?? [] }, path);
}

/** What a search needs of one targets role: its targets, and the roles it delegates `path` to. */
export interface SearchedRole<T> {
  targets: Record<string, T>;
  /** The roles this role delegates `path` to, in order; a terminating one ends the list. */
  children(path: string): Promise<Array<{ name: string; terminating: boolean }>>;
}

export interface SearchResult<T> {
  /** The role that lists the target. */
  role: string;
  target: T;
  /** The roles visited, in order (the top-level targets first). */
  visited: string[];
}

/**
 * The spec's preorder depth-first search (§5.6.7), as python-tuf's
 * `Updater._preorder_depth_first_walk` runs it: from `targets`, each role is
 * loaded once; the first role listing `path` wins; a terminating delegation
 * drops every role not yet visited; the search stops once `targets` and
 * `maxDelegations` more roles were visited.
 * `load(name, delegator)` returns null for a role that cannot be loaded,
 * which ends the search there as a client's error would.
 */
export async function searchTarget<T>(
  path: string,
  load: (name: string, delegator: string) => Promise<SearchedRole<T> | null>,
  maxDelegations = MAX_DELEGATIONS,
): Promise<SearchResult<T> | null> {
  const stack: Array<[string, string]> = [["targets", "root"]];
  const visited: string[] = [];
  while (stack.length > 0 && visited.length <= maxDelegations) {
    const [name, delegator] = stack.pop() as [string, string];
    if (visited.includes(name)) continue;
    const role = await load(name, delegator);
    if (!role) return null;
    visited.push(name);
    const target = Object.hasOwn(role.targets, path) ? role.targets[path] : undefined;
    if (target !== undefined) return { role: name, target, visited };
    const children = await role.children(path);
    if (children.some((c) => c.terminating)) stack.length = 0;
    for (const child of [...children].reverse()) stack.push([child.name, name]);
  }
  return null;
}

const KEYID = z.string().regex(/^[0-9a-f]{64}$/, "a keyid is 64 lower-case hex characters");

/** A delegated role as a targets file lists it (python-tuf refuses empty and top-level names, and a role with both paths and path_hash_prefixes). */
export const DelegatedRoleSchema = z
  .looseObject({
    name: z
      .string()
      .min(1)
      .max(255)
      .refine((n) => !TOP_LEVEL_ROLE_NAMES.includes(n), "a delegated role does not take a top-level role's name"),
    keyids: z.array(KEYID).max(256),
    threshold: z.number().int().min(1),
    terminating: z.boolean(),
    paths: z.array(z.string()).optional(),
    path_hash_prefixes: z.array(z.string()).optional(),
  })
  .refine(
    (r) => r.paths === undefined || r.path_hash_prefixes === undefined,
    "a delegated role lists paths or path_hash_prefixes, not both",
  );
