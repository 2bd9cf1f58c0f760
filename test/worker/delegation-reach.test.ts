/**
 * delegation-reach.ts: the scans of `targets` a change of the tree reads.
 * Reading less than it may move would leave a target in a role that no
 * longer lists it for clients, so the property is checked on SQLite itself
 * (the object's, which compares text as UTF-8 bytes): for random patterns
 * and paths, every path a pattern matches (python-tuf's
 * `_is_target_in_pathpattern`) or that clients may read differently for it
 * is in some scan's rows.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EVERY_TARGET, prefixRange, scansForAdded, scansForRemoved } from "../../durable-objects/delegation-reach.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { clientsMayDisagree, isTargetInPathPattern } from "../../src/tuf/delegations.ts";

describe("prefixRange", () => {
  it("is the prefix up to the first string after every one that starts with it", () => {
    expect(prefixRange("@acme/")).toEqual({ where: "path >= ? AND path < ?", bindings: ["@acme/", "@acme0"] });
    expect(prefixRange("a\u{10FFFF}")?.bindings).toEqual(["a\u{10FFFF}", "b"]);
    expect(prefixRange("x\u{D7FF}")?.bindings).toEqual(["x\u{D7FF}", "x\u{E000}"]);
    expect(prefixRange("\u{10FFFF}\u{10FFFF}")).toEqual({ where: "path >= ?", bindings: ["\u{10FFFF}\u{10FFFF}"] });
  });

  it("does not narrow an empty prefix, nor one with a lone surrogate", () => {
    expect(prefixRange("")).toBeNull();
    expect(prefixRange("a\uD800")).toBeNull();
  });
});

describe("scansForAdded and scansForRemoved", () => {
  it("a pattern is read as its literal prefix, and the dotted segments when a later segment starts with a wildcard", () => {
    expect(scansForAdded({ paths: ["@acme/x-*"] })).toEqual([prefixRange("@acme/x-")]);
    expect(scansForAdded({ paths: ["@acme/*", "lib/?.so"] })).toEqual([
      prefixRange("@acme/"),
      prefixRange("lib/"),
      { where: "path GLOB '*/.*'", bindings: [] },
    ]);
    expect(scansForAdded({ paths: ["exact/path.txt"] })).toEqual([prefixRange("exact/path.txt")]);
  });

  it("reads every target for hash prefixes or a pattern that starts with a wildcard; nothing for no claim", () => {
    expect(scansForAdded({ path_hash_prefixes: ["0a"] })).toEqual([EVERY_TARGET]);
    expect(scansForAdded({ paths: ["@acme/*", "*.tgz"] })).toEqual([EVERY_TARGET]);
    expect(scansForAdded({ paths: [] })).toEqual([]);
    expect(scansForAdded({ path_hash_prefixes: [] })).toEqual([]);
  });

  it("a removal reads the rows of each of its roles", () => {
    expect(scansForRemoved(["acme", "acme.bins-0"])).toEqual([
      { where: "bin = ?", bindings: ["acme"] },
      { where: "bin = ?", bindings: ["acme.bins-0"] },
    ]);
  });
});

const CHARS = ["a", "b", ".", "-", "é", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{1F600}", "\u{10FFFF}"];
const WILDCARDS = ["*", "?", "[ab]", "[!a]"];
/** Paths and patterns of one to three segments, so that segment counts meet and segments start with "." often. */
const segments = (chars: string[]) =>
  fc
    .array(
      fc.array(fc.constantFrom(...chars), { maxLength: 4 }).map((cs) => cs.join("")),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => parts.join("/"));
const path = segments(CHARS).filter((p) => p.length > 0);
const pattern = segments([...CHARS, ...WILDCARDS]);

describe("scansForAdded, on SQLite", () => {
  it("reads every path a pattern matches or clients may disagree on", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("delegation-reach-probe"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      sql.exec("CREATE TABLE IF NOT EXISTS reach_probe (path TEXT PRIMARY KEY)");
      fc.assert(
        fc.property(
          fc.uniqueArray(path, { maxLength: 40 }),
          fc.array(pattern, { minLength: 1, maxLength: 3 }),
          (paths, patterns) => {
            sql.exec("DELETE FROM reach_probe");
            for (const p of paths) sql.exec("INSERT INTO reach_probe (path) VALUES (?)", p);
            const read = new Set<string>();
            for (const { where, bindings } of scansForAdded({ paths: patterns })) {
              for (const row of sql.exec<{ path: string }>(`SELECT path FROM reach_probe WHERE ${where}`, ...bindings))
                read.add(row.path);
            }
            const reached = paths.filter((p) =>
              patterns.some((pat) => isTargetInPathPattern(p, pat) || clientsMayDisagree(p, pat)),
            );
            expect(reached.filter((p) => !read.has(p))).toEqual([]);
          },
        ),
        { numRuns: 300 },
      );
      sql.exec("DROP TABLE reach_probe");
    });
  });
});
