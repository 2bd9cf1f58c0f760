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
import {
  binsUnderHashPrefixes,
  coveringGlob,
  EVERY_TARGET,
  prefixRange,
  scansForAdded,
  scansOfRoles,
} from "../../durable-objects/delegation-reach.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { toHex } from "../../src/lib/bytes.ts";
import { clientsMayDisagree, isTargetInPathPattern } from "../../src/tuf/delegations.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";

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

describe("scansForAdded and scansOfRoles", () => {
  it("a pattern is read as its literal prefix, and the dotted segments when a later segment starts with a wildcard", () => {
    expect(scansForAdded({ paths: ["@acme/x-*"] })).toEqual([prefixRange("@acme/x-")]);
    expect(scansForAdded({ paths: ["@acme/*", "lib/?.so"] })).toEqual([
      prefixRange("@acme/"),
      prefixRange("lib/"),
      { where: "path GLOB '*/.*'", bindings: [] },
    ]);
    expect(scansForAdded({ paths: ["exact/path.txt"] })).toEqual([prefixRange("exact/path.txt")]);
  });

  it("hash prefixes: the rows of the roles that hold what the search would end after the new delegation", () => {
    const top = { after: ["later"], topBins: new HashBins(4) };
    expect(scansForAdded({ path_hash_prefixes: ["0a", "1"] }, top)).toEqual(
      scansOfRoles(["bins-0", "bins-1", "later"]),
    );
    const nested = { after: ["parent", "later"], topBins: null };
    expect(scansForAdded({ path_hash_prefixes: ["0a"] }, nested)).toEqual(scansOfRoles(["parent", "later"]));
    expect(scansForAdded({ path_hash_prefixes: ["0a"] })).toEqual([EVERY_TARGET]);
  });

  it("a pattern that starts with a wildcard: the paths its GLOB covers, of those roles under a delegation", () => {
    const matching = "path GLOB ? OR path GLOB ? OR path GLOB '.*'";
    const nested = { after: ["parent", "later"], topBins: null };
    expect(scansForAdded({ paths: ["@acme/*", "*.tgz", "*/[!.]*"] }, nested)).toEqual([
      prefixRange("@acme/"),
      { where: `bin = ? AND (${matching})`, bindings: ["parent", "*.tgz", "*/?*"] },
      { where: `bin = ? AND (${matching})`, bindings: ["later", "*.tgz", "*/?*"] },
      { where: "path GLOB '*/.*'", bindings: [] },
    ]);
    const top = { after: ["later"], topBins: new HashBins(4) };
    expect(scansForAdded({ paths: ["@acme/*", "*.tgz"] }, top)).toEqual([
      prefixRange("@acme/"),
      { where: "path GLOB ? OR path GLOB '.*'", bindings: ["*.tgz"] },
      { where: "path GLOB '*/.*'", bindings: [] },
    ]);
    expect(scansForAdded({ paths: ["*.tgz"] })).toEqual([
      { where: "path GLOB ? OR path GLOB '.*'", bindings: ["*.tgz"] },
    ]);
    // No UTF-8 text for a lone surrogate: every row the delegation could take.
    expect(scansForAdded({ paths: ["*\uD800"] }, top)).toEqual([EVERY_TARGET]);
    expect(scansForAdded({ paths: ["*\uD800"] }, nested)).toEqual(scansOfRoles(["parent", "later"]));
  });

  it("coveringGlob reads a pattern a segment at a time: classes one character, an open bracket literal", () => {
    expect(coveringGlob("*/x-?.tgz")).toBe("*/x-?.tgz");
    expect(coveringGlob("[a-c]*/[!.]x")).toBe("?*/?x");
    expect(coveringGlob("[]a]/[!]]")).toBe("?/?");
    expect(coveringGlob("a[b/c]d")).toBe("a[[]b/c]d");
    expect(coveringGlob("[!")).toBe("[[]!");
    expect(coveringGlob("é/\u{1F600}*")).toBe("é/\u{1F600}*");
    expect(coveringGlob("\uDC00*")).toBeNull();
  });

  it("nothing for no claim", () => {
    expect(scansForAdded({ paths: [] })).toEqual([]);
    expect(scansForAdded({ path_hash_prefixes: [] })).toEqual([]);
  });

  it("a removal reads the rows of each of its roles, once", () => {
    expect(scansOfRoles(["acme", "acme.bins-0", "acme"])).toEqual([
      { where: "bin = ?", bindings: ["acme"] },
      { where: "bin = ?", bindings: ["acme.bins-0"] },
    ]);
  });
});

describe("binsUnderHashPrefixes", () => {
  it("names the bin of every digest a prefix starts, and no other", () => {
    expect(binsUnderHashPrefixes(new HashBins(8), ["0a3"])).toEqual(["bins-0a"]);
    expect(binsUnderHashPrefixes(new HashBins(14), ["f"])).toHaveLength(1024);
    expect(binsUnderHashPrefixes(new HashBins(14), ["fffe"])).toEqual(["bins-3fff"]);
    expect(binsUnderHashPrefixes(new HashBins(3), ["e", "f"])).toEqual(["bins-7"]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 8 }),
        (bitLength, digest, digits) => {
          const bins = new HashBins(bitLength);
          const named = binsUnderHashPrefixes(bins, [toHex(digest).slice(0, digits)]);
          expect(named).toContain(bins.name(bins.indexForDigest(digest)));
          expect(named).toHaveLength(2 ** Math.max(0, bitLength - 4 * digits));
          // A prefix shorter than a bin's bits: every digest in each bin named starts with it.
          const prefix = toHex(digest).slice(0, digits);
          if (4 * digits < bitLength) {
            for (const name of named) {
              const lowest = bins.indexOf(name) * 2 ** (32 - bitLength);
              for (const first32 of [lowest, lowest + 2 ** (32 - bitLength) - 1])
                expect(first32.toString(16).padStart(8, "0").startsWith(prefix), name).toBe(true);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

const CHARS = ["a", "b", ".", "-", "[", "]", "é", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{1F600}", "\u{10FFFF}"];
/** Classes, one with "]" first, one that spans a "/" (fnmatch splits it: two literal halves), and an open "[". */
const WILDCARDS = ["*", "?", "[ab]", "[!a]", "[]a]", "[a/]", "["];
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
      sql.exec("CREATE TABLE IF NOT EXISTS reach_probe (path TEXT PRIMARY KEY, bin TEXT NOT NULL)");
      // Under `targets` (the whole path index), or under a delegation whose parent holds every path.
      const places = [undefined, { after: [], topBins: new HashBins(4) }, { after: ["parent"], topBins: null }];
      fc.assert(
        fc.property(
          fc.uniqueArray(path, { maxLength: 40 }),
          fc.array(pattern, { minLength: 1, maxLength: 3 }),
          fc.constantFrom(...places),
          (paths, patterns, place) => {
            sql.exec("DELETE FROM reach_probe");
            for (const p of paths) sql.exec("INSERT INTO reach_probe (path, bin) VALUES (?, 'parent')", p);
            const read = new Set<string>();
            for (const { where, bindings } of scansForAdded({ paths: patterns }, place)) {
              for (const row of sql.exec<{ path: string }>(`SELECT path FROM reach_probe WHERE ${where}`, ...bindings))
                read.add(row.path);
            }
            const reached = paths.filter((p) =>
              patterns.some((pat) => isTargetInPathPattern(p, pat) || clientsMayDisagree(p, pat)),
            );
            expect(reached.filter((p) => !read.has(p))).toEqual([]);
          },
        ),
        {
          numRuns: 600,
          // Brackets fnmatch leaves open, read a segment at a time: a class that spans a "/" is two literal halves.
          examples: [
            [["[a/]", "b[", ".a/]"], ["[a/]", "*["], undefined],
            [["[a/]", "b[", ".a/]"], ["[a/]", "*["], places[2]],
          ],
        },
      );
      sql.exec("DROP TABLE reach_probe");
    });
  });
});
