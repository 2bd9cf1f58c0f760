import { describe, expect, it } from "vitest";
import {
  clientsMayDisagree,
  DelegatedRoleSchema,
  type DelegatedRole,
  fnmatch,
  isDelegatedPath,
  isTargetInPathPattern,
  patternProblem,
  rolesForTarget,
  type SearchedRole,
  searchTarget,
} from "../../src/tuf/delegations.ts";

// python-tuf tests/test_api.py, TestMetadata.test_is_target_in_pathpattern
// (python-tuf v3–v5; https://github.com/theupdateframework/python-tuf, commit
// 4abccdcf2ea89f10e92628d4def074257c461af9): pairs
// DelegatedRole._is_target_in_pathpattern (tuf/api/_payload.py) accepts, and
// pairs it refuses.
const PYTHON_TUF_MATCH: Array<[string, string]> = [
  ["foo.tgz", "foo.tgz"],
  ["foo.tgz", "*"],
  ["foo.tgz", "*.tgz"],
  ["foo-version-a.tgz", "foo-version-?.tgz"],
  ["targets/foo.tgz", "targets/*.tgz"],
  ["foo/bar/zoo/k.tgz", "foo/bar/zoo/*"],
  ["foo/bar/zoo/k.tgz", "foo/*/zoo/*"],
  ["foo/bar/zoo/k.tgz", "*/*/*/*"],
  ["foo/bar", "f?o/bar"],
  ["foo/bar", "*o/bar"],
];
const PYTHON_TUF_NO_MATCH: Array<[string, string]> = [
  ["targets/foo.tgz", "*.tgz"],
  ["/foo.tgz", "*.tgz"],
  ["targets/foo.tgz", "*"],
  ["foo-version-alpha.tgz", "foo-version-?.tgz"],
  ["foo//bar", "*/bar"],
  ["foo/bar", "f?/bar"],
];

// More answers from the same definition (split on "/", same segment count,
// fnmatch.fnmatch per segment), computed with Python 3.11 on Linux:
// python3 -c 'import fnmatch
// def m(t,p): a,b=t.split("/"),p.split("/"); return len(a)==len(b) and all(fnmatch.fnmatch(x,y) for x,y in zip(a,b))
// for t,p in CASES: print(t,p,m(t,p))'
const PYTHON_FNMATCH: Array<[string, string, boolean]> = [
  ["@acme/widget-1.0.tgz", "@acme/*", true],
  ["@acme/sub/widget.tgz", "@acme/*", false],
  ["numpy-1.26.tar.gz", "numpy-*", true],
  ["NumPy-1.26.tar.gz", "numpy-*", false], // case-sensitive (POSIX normcase is the identity)
  ["org/acme/x", "org/*/x", true],
  ["a.tgz", "[ab].tgz", true],
  ["c.tgz", "[ab].tgz", false],
  ["c.tgz", "[!ab].tgz", true],
  ["b.tgz", "[a-c].tgz", true],
  ["b.tgz", "[c-a].tgz", false], // a reversed range matches nothing
  ["b.tgz", "[!c-a].tgz", true],
  [".hidden", "*", true],
  ["[x", "[x", true], // an unclosed [ is a literal
  ["élan/1.0", "?lan/*", true], // ? is one code point
  ["a/b", "a/b/", false],
  ["foo", "*", true],
  ["foo/", "foo/*", true],
  ["x-1", "x-[0-9]", true],
  ["x-]", "x-[]]", true],
  ["a*b", "a[*]b", true],
  ["axb", "a[*]b", false],
];

describe("isTargetInPathPattern (python-tuf DelegatedRole._is_target_in_pathpattern)", () => {
  it("accepts python-tuf's supported use cases", () => {
    for (const [path, pattern] of PYTHON_TUF_MATCH) expect(isTargetInPathPattern(path, pattern), pattern).toBe(true);
  });
  it("refuses python-tuf's invalid use cases", () => {
    for (const [path, pattern] of PYTHON_TUF_NO_MATCH)
      expect(isTargetInPathPattern(path, pattern), pattern).toBe(false);
  });
  it("answers as Python's fnmatch does, segment by segment", () => {
    for (const [path, pattern, expected] of PYTHON_FNMATCH) {
      expect(isTargetInPathPattern(path, pattern), `${path} ~ ${pattern}`).toBe(expected);
    }
  });
  it("treats regex syntax in a pattern as literal characters", () => {
    const cases: Array<[string, string, boolean]> = [
      ["a.b", "a.b", true],
      ["axb", "a.b", false],
      ["a+b", "a+b", true],
      ["aab", "a+b", false],
      ["$x|y", "$x|y", true],
    ];
    for (const [name, pattern, expected] of cases)
      expect(fnmatch(name, pattern), `${name} ~ ${pattern}`).toBe(expected);
  });
});

describe("isDelegatedPath (python-tuf DelegatedRole.is_delegated_path)", () => {
  // sha256("@acme/widget-1.0.tgz") starts 377f1a8f, sha256("hello/hello-world.txt") 95b19413
  // (python3 -c 'import hashlib; print(hashlib.sha256(b"@acme/widget-1.0.tgz").hexdigest()[:8])').
  it("matches path_hash_prefixes against the lower-case hex SHA-256 of the path", async () => {
    expect(await isDelegatedPath({ path_hash_prefixes: ["377f"] }, "@acme/widget-1.0.tgz")).toBe(true);
    expect(await isDelegatedPath({ path_hash_prefixes: ["0", "3"] }, "@acme/widget-1.0.tgz")).toBe(true);
    expect(await isDelegatedPath({ path_hash_prefixes: ["377F"] }, "@acme/widget-1.0.tgz")).toBe(false);
    expect(await isDelegatedPath({ path_hash_prefixes: ["377f"] }, "hello/hello-world.txt")).toBe(false);
    expect(await isDelegatedPath({ path_hash_prefixes: ["95b19413"] }, "hello/hello-world.txt")).toBe(true);
  });
  // python-tuf tests/test_api.py, TestMetadata.test_is_delegated_role (same commit): each role claims
  // "a/path" and not "a/non-matching path", by paths or by path_hash_prefixes (sha256("a/path") is 927b0ecf9…).
  it("answers python-tuf's test_is_delegated_role cases", async () => {
    const roles = [
      ...[["a/path"], ["otherpath", "a/path"], ["*/?ath"]].map((paths) => ({ paths })),
      ...[["927b0ecf9"], ["other prefix", "927b0ecf9"], ["927b0"], ["92"]].map((path_hash_prefixes) => ({
        path_hash_prefixes,
      })),
    ];
    for (const role of roles) {
      expect(await isDelegatedPath(role, "a/path"), JSON.stringify(role)).toBe(true);
      expect(await isDelegatedPath(role, "a/non-matching path"), JSON.stringify(role)).toBe(false);
    }
  });
  it("uses paths when no prefixes are listed, and nothing matches a role with neither", async () => {
    expect(await isDelegatedPath({ paths: ["x/*", "@acme/*"] }, "@acme/widget-1.0.tgz")).toBe(true);
    expect(await isDelegatedPath({ paths: [] }, "@acme/widget-1.0.tgz")).toBe(false);
    expect(await isDelegatedPath({}, "@acme/widget-1.0.tgz")).toBe(false);
  });
});

describe("patternProblem: patterns python-tuf and tuf-js read alike", () => {
  it("accepts globs, classes and literals", () => {
    for (const p of ["@acme/*", "numpy-*", "org/acme/*/*", "a-[0-9].tgz", "a-[!x].tgz", "f?o", "*.tar.gz"]) {
      expect(patternProblem(p), p).toBeNull();
    }
  });
  it("refuses what minimatch and fnmatch read differently, and what no target path can match", () => {
    for (const p of [
      "",
      "a/{b,c}",
      "+(a|b)",
      "a\\*",
      "[^a]",
      "!a",
      "a/#b",
      "a]",
      "[a",
      "[]",
      "[!]",
      "[a[b]",
      "a//b",
      "/a",
      "a/",
      "./a",
      "a/..",
      "x".repeat(257),
    ]) {
      expect(patternProblem(p), p).not.toBeNull();
    }
  });
  it("names the paths on which the clients still disagree: a leading dot under a wildcard", () => {
    const cases: Array<[string, string, boolean]> = [
      [".npmrc", "*", true],
      ["a/.b", "a/?b", true],
      [".npmrc", ".npmrc", false],
      ["a/.b", "*", false], // segment counts differ: neither client matches
      ["a.b", "*", false],
    ];
    for (const [path, pattern, expected] of cases)
      expect(clientsMayDisagree(path, pattern), `${path} ~ ${pattern}`).toBe(expected);
  });
});

describe("DelegatedRoleSchema", () => {
  const base = { name: "acme", keyids: ["a".repeat(64)], threshold: 1, terminating: false };
  it("accepts a role with paths or prefixes", () => {
    expect(DelegatedRoleSchema.safeParse({ ...base, paths: ["@acme/*"] }).success).toBe(true);
    expect(DelegatedRoleSchema.safeParse({ ...base, path_hash_prefixes: ["ab"] }).success).toBe(true);
  });
  it("refuses both, top-level names and bad keyids", () => {
    expect(DelegatedRoleSchema.safeParse({ ...base, paths: [], path_hash_prefixes: [] }).success).toBe(false);
    expect(DelegatedRoleSchema.safeParse({ ...base, name: "snapshot", paths: [] }).success).toBe(false);
    expect(DelegatedRoleSchema.safeParse({ ...base, keyids: ["AB"], paths: [] }).success).toBe(false);
  });
});

describe("rolesForTarget", () => {
  const role = (name: string, paths: string[], terminating = false): DelegatedRole => ({
    name,
    keyids: [],
    threshold: 1,
    terminating,
    paths,
  });
  it("lists matching roles in order and stops after a terminating one", async () => {
    const roles = [role("a", ["*.txt"]), role("b", ["*.tgz"]), role("c", ["*.txt"], true), role("d", ["*"])];
    expect(await rolesForTarget({ roles }, "x.txt")).toEqual([
      { name: "a", terminating: false },
      { name: "c", terminating: true },
    ]);
    expect(await rolesForTarget({ roles }, "x.tgz")).toEqual([
      { name: "b", terminating: false },
      { name: "d", terminating: false },
    ]);
  });
});

describe("searchTarget: the spec's preorder depth-first search (§5.6.7)", () => {
  type Tree = Record<string, { targets?: string[]; children?: Array<[string, boolean]> }>;
  function loader(tree: Tree, loads: string[]) {
    return async (name: string): Promise<SearchedRole<string> | null> => {
      loads.push(name);
      const node = tree[name];
      if (!node) return null;
      return {
        targets: Object.fromEntries((node.targets ?? []).map((t) => [t, `${name}:${t}`])),
        children: async () => (node.children ?? []).map(([n, terminating]) => ({ name: n, terminating })),
      };
    };
  }

  // The delegation graph of python-tuf's tests/test_updater_delegation_graphs.py
  // "terminating delegation" case: targets → a → b (terminating) → c, d; a → e;
  // targets → f. The search visits targets, a, b, c, d and never e or f.
  const terminating: Tree = {
    targets: {
      children: [
        ["a", false],
        ["f", false],
      ],
    },
    a: {
      children: [
        ["b", true],
        ["e", false],
      ],
    },
    b: {
      children: [
        ["c", false],
        ["d", false],
      ],
    },
    c: {},
    d: {},
    e: { targets: ["x"] },
    f: { targets: ["x"] },
  };

  it("visits roles depth first, in delegation order, and a terminating role ends the search below it", async () => {
    const loads: string[] = [];
    // rolesForTarget stops after the terminating role, so a's children are [b] only.
    const tree = { ...terminating, a: { children: [["b", true]] as Array<[string, boolean]> } };
    expect(await searchTarget("x", loader(tree, loads))).toBeNull();
    expect(loads).toEqual(["targets", "a", "b", "c", "d"]);
  });

  it("returns the first role in preorder that lists the path", async () => {
    const loads: string[] = [];
    const tree: Tree = {
      targets: {
        children: [
          ["a", false],
          ["bins", true],
        ],
      },
      a: { children: [["a.bins-1", true]] },
      "a.bins-1": { targets: ["x"] },
      bins: { targets: ["x"] },
    };
    const found = await searchTarget("x", loader(tree, loads));
    expect(found).toEqual({ role: "a.bins-1", target: "a.bins-1:x", visited: ["targets", "a", "a.bins-1"] });
  });

  it("falls through a non-terminating role that does not list the path", async () => {
    const loads: string[] = [];
    const tree: Tree = {
      targets: {
        children: [
          ["a", false],
          ["bins", true],
        ],
      },
      a: {},
      bins: { targets: ["x"] },
    };
    expect((await searchTarget("x", loader(tree, loads)))?.role).toBe("bins");
    expect(loads).toEqual(["targets", "a", "bins"]);
  });

  it("visits each role once, and stops after targets and max_delegations more", async () => {
    const loads: string[] = [];
    const cycle: Tree = {
      targets: { children: [["a", false]] },
      a: {
        children: [
          ["targets", false],
          ["a", false],
        ],
      },
    };
    expect(await searchTarget("x", loader(cycle, loads))).toBeNull();
    expect(loads).toEqual(["targets", "a"]);

    const chain: Tree = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [i === 0 ? "targets" : `r${i}`, { children: [[`r${i + 1}`, false]] }]),
    );
    const chainLoads: string[] = [];
    expect(await searchTarget("x", loader(chain, chainLoads), 3)).toBeNull();
    expect(chainLoads).toEqual(["targets", "r1", "r2", "r3"]);
  });

  it("ends at a role that cannot be loaded", async () => {
    const loads: string[] = [];
    const tree: Tree = {
      targets: {
        children: [
          ["missing", false],
          ["bins", true],
        ],
      },
      bins: { targets: ["x"] },
    };
    expect(await searchTarget("x", loader(tree, loads))).toBeNull();
    expect(loads).toEqual(["targets", "missing"]);
  });
});
