/**
 * The path-pattern claim of src/tuf/delegations.ts checked against both
 * reference clients over every combination of a small alphabet: Python's
 * fnmatch per segment (python-tuf's DelegatedRole._is_target_in_pathpattern,
 * run here with python3) always agrees with isTargetInPathPattern; tuf-js's
 * DelegatedRole.isDelegatedPath (minimatch, reached through Targets.fromJSON) agrees on every portable pattern
 * (patternProblem null) except where clientsMayDisagree says it may not.
 * Runs in Node (no local instance).
 */
import { execFileSync } from "node:child_process";
import { Targets } from "@tufjs/models";
import { describe, expect, it } from "vitest";
import { clientsMayDisagree, isTargetInPathPattern, patternProblem } from "../../src/tuf/delegations.ts";

const SEGMENT_PATTERNS = [
  "a",
  "ab",
  "*",
  "?",
  "a*",
  "*b",
  "?b",
  "[ab]",
  "[!a]",
  "[a-b]*",
  ".a",
  "*.b",
  "@a",
  "a-b",
  "**",
];
const SEGMENTS = ["a", "b", "ab", "ba", ".a", ".b", "a.b", "@a", "a-b", "aab", "-"];

function combine(parts: string[], depth: number): string[] {
  const out: string[] = [];
  const walk = (prefix: string[]) => {
    if (prefix.length > 0) out.push(prefix.join("/"));
    if (prefix.length === depth) return;
    for (const part of parts) walk([...prefix, part]);
  };
  walk([]);
  return out;
}

const patterns = combine(SEGMENT_PATTERNS, 2);
const paths = combine(SEGMENTS, 2);

/** Python 3's fnmatch, segment by segment, as python-tuf matches (one process for every pair). */
function pythonAnswers(pairs: Array<[string, string]>): boolean[] {
  const program = [
    "import fnmatch, json, sys",
    "def m(t, p):",
    "    a, b = t.split('/'), p.split('/')",
    "    return len(a) == len(b) and all(fnmatch.fnmatch(x, y) for x, y in zip(a, b))",
    "print(json.dumps([m(t, p) for t, p in json.load(sys.stdin)]))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", program], { input: JSON.stringify(pairs), encoding: "utf8" }));
}

/** Whether tuf-js's DelegatedRole (through Targets.fromJSON, its public API) claims `path` for `pattern`. */
function tufJsClaims(pattern: string, path: string): boolean {
  const targets = Targets.fromJSON({
    _type: "targets",
    spec_version: "1.0.31",
    version: 1,
    expires: "2030-01-01T00:00:00Z",
    targets: {},
    delegations: { keys: {}, roles: [{ name: "r", keyids: [], threshold: 1, terminating: false, paths: [pattern] }] },
  });
  return [...(targets.delegations?.rolesForTarget(path) ?? [])].length > 0;
}

describe("delegation path patterns against python-tuf's and tuf-js's matching", () => {
  const pairs: Array<[string, string]> = patterns.flatMap((pattern) =>
    paths.map((path) => [path, pattern] as [string, string]),
  );

  it("answers as Python's fnmatch (python-tuf) for every pair", () => {
    const python = pythonAnswers(pairs);
    const differ = pairs.filter(([path, pattern], i) => isTargetInPathPattern(path, pattern) !== python[i]);
    expect(differ).toEqual([]);
    expect(python.filter(Boolean).length).toBeGreaterThan(100); // the corpus has matches, not only misses
  });

  it("answers as tuf-js for every portable pattern, except on the paths clientsMayDisagree names", () => {
    let disagreements = 0;
    for (const [path, pattern] of pairs) {
      if (patternProblem(pattern) !== null) continue;
      const tufJs = tufJsClaims(pattern, path);
      if (tufJs === isTargetInPathPattern(path, pattern)) continue;
      disagreements++;
      expect(clientsMayDisagree(path, pattern), `${path} ~ ${pattern}: tuf-js ${tufJs}`).toBe(true);
    }
    // The gap is real (leading dots under a wildcard), so the refusal it guards is needed.
    expect(disagreements).toBeGreaterThan(0);
  });
});
