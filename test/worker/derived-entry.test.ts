/**
 * A plain target's row keeps no entry: SQLite writes it from the row's path,
 * hashes and length (durable-objects/derived-entry.ts, migration 27). On the
 * object's real SQLite, for targets with paths and fields that need
 * escaping or not, the entry read back is the one serialised in JavaScript
 * to the byte, and bins join to the text of their members joined one by
 * one. Migration 27 itself rebuilds the bin index over rows as migration 26
 * left them, which keep their entries, without changing what any bin joins
 * to; a row is written without its entry once its target changes.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ENTRY_CANONICAL } from "../../durable-objects/derived-entry.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { joinMembers, member } from "../../src/tuf/assembled.ts";
import { targetFile } from "../../src/tuf/targets.ts";

const hex = (length: number) =>
  fc.array(fc.constantFrom(..."0123456789abcdef"), { minLength: length, maxLength: length }).map((cs) => cs.join(""));

const chars = (alphabet: string[]) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 8 }).map((cs) => cs.join(""));
const PLAIN = ["a", "/", ".", "0", "7", " ", "$", "é", "\u{1F600}"];
/** Paths from characters written alike by canonical JSON, JSON.stringify and SQLite, and often from ones that are not. */
const path = fc.oneof(
  { arbitrary: chars(PLAIN), weight: 2 },
  { arbitrary: chars([...PLAIN, '"', "\\", "\u0001", "\u007f", "\u0085"]), weight: 1 },
);

const target = fc.record(
  {
    path,
    length: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    hashes: fc.oneof(
      hex(64).map((sha256) => ({ sha256 })),
      hex(128).map((sha512) => ({ sha512 })),
      fc.tuple(hex(64), hex(128)).map(([sha256, sha512]) => ({ sha512, sha256 })),
    ),
    custom: fc.dictionary(fc.constantFrom("a", "b", "10"), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
  },
  { requiredKeys: ["path", "length", "hashes"] },
);

const BINS = ["bins-0", "bins-1", "bins-2"];

describe("entries SQLite writes from the row", () => {
  it("read back as JavaScript serialises them, to the byte, and join to the same bins", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("derived-entry"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const index = new TargetsIndex(sql);
      let derived = 0;
      let kept = 0;
      fc.assert(
        fc.property(fc.uniqueArray(target, { selector: (t) => t.path, minLength: 1, maxLength: 30 }), (targets) => {
          sql.exec("DELETE FROM targets");
          const placed = targets.map((t, i) => ({ ...t, bin: BINS[i % BINS.length] as string }));
          index.upsertMany(placed, new Set());
          const rows = sql
            .exec<{ path: string; entry: string; derived: number }>(
              `SELECT path, ${ENTRY_CANONICAL} AS entry, entry_canonical = '' AS derived FROM targets`,
            )
            .toArray();
          const byPath = new Map(rows.map((r) => [r.path, r]));
          for (const t of placed) {
            const expected = member(t.path, targetFile(t.length, t.hashes, t.custom)).canonical;
            expect(byPath.get(t.path)?.entry, JSON.stringify(t.path)).toBe(expected);
          }
          derived += rows.filter((r) => r.derived).length;
          kept += rows.filter((r) => !r.derived).length;
          const members = index.binEntriesOf(BINS);
          const joined = index.binsJoined(BINS);
          for (const bin of BINS) expect(joined.get(bin), bin).toEqual(joinMembers(members.get(bin) ?? []));
          for (const [bin, list] of members)
            expect(
              list.map((m) => m.canonical),
              bin,
            ).toEqual(
              placed
                .filter((t) => t.bin === bin)
                .sort((a, b) => (a.path < b.path ? -1 : 1))
                .map((t) => member(t.path, targetFile(t.length, t.hashes, t.custom)).canonical),
            );
        }),
        { numRuns: 60 },
      );
      // Both kinds of row were written.
      expect(derived).toBeGreaterThan(20);
      expect(kept).toBeGreaterThan(20);
    });
  });

  it("keeps the entry of a path with a control character, a quote or a backslash, and of a custom field", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("derived-entry-kept"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const sha256 = "ab".repeat(32);
      const targets = [
        { path: "plain/a.tgz", length: 1, hashes: { sha256 } },
        { path: "ünï/😀.tgz", length: 2, hashes: { sha256 } },
        { path: "nul\u0001.tgz", length: 3, hashes: { sha256 } },
        { path: "next\u0085line.tgz", length: 4, hashes: { sha256 } },
        { path: 'q"uote.tgz', length: 5, hashes: { sha256 } },
        { path: "back\\slash.tgz", length: 6, hashes: { sha256 } },
        { path: "custom.tgz", length: 7, hashes: { sha256 }, custom: { a: 1 } },
        { path: "both.tgz", length: 8, hashes: { sha512: "cd".repeat(64), sha256 } },
      ];
      new TargetsIndex(sql).upsertMany(
        targets.map((t) => ({ ...t, bin: "bins-0" })),
        new Set(),
      );
      const derived = sql
        .exec<{ path: string }>("SELECT path FROM targets WHERE entry_canonical = '' ORDER BY path")
        .toArray()
        .map((r) => r.path);
      expect(derived).toEqual(["both.tgz", "plain/a.tgz", "ünï/😀.tgz"]);
    });
  });
});

describe("migration 27", () => {
  it("rebuilds the bin index over rows as migration 26 left them: they keep their entries, and every bin joins to the same text", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("derived-entry-migration"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const index = new TargetsIndex(sql);
      const sha256 = "ef".repeat(32);
      const targets = [
        ...Array.from({ length: 40 }, (_, i) => ({ path: `pkg/${i}.tgz`, length: i, hashes: { sha256 } })),
        { path: "ünï/😀.tgz", length: 2, hashes: { sha256 } },
        { path: 'q"uote.tgz', length: 5, hashes: { sha256 } },
        { path: "custom.tgz", length: 7, hashes: { sha256 }, custom: { b: 2, a: 1 } },
        { path: "0", length: 9, hashes: { sha256 } },
      ];
      const placed = targets.map((t, i) => ({ ...t, bin: BINS[i % BINS.length] as string }));
      index.upsertMany(placed, new Set());
      const before = index.binsJoined(BINS);
      // The rows and the index as migration 26 left them: every entry kept.
      sql.exec(`UPDATE targets SET entry_canonical = ${ENTRY_CANONICAL}`);
      sql.exec(
        "DROP INDEX targets_by_bin; CREATE INDEX targets_by_bin ON targets (bin, path, entry_canonical, entry_json)",
      );
      expect(sql.exec("SELECT 1 FROM targets WHERE entry_canonical = ''").toArray()).toHaveLength(0);
      expect(index.binsJoined(BINS)).toEqual(before);

      sql.exec(MIGRATIONS[26] as string);

      expect(index.binsJoined(BINS)).toEqual(before);
      const indexed = sql
        .exec<{ name: string }>("SELECT name FROM pragma_index_info('targets_by_bin') ORDER BY seqno")
        .toArray()
        .map((r) => r.name);
      expect(indexed).toEqual(["bin", "path", "length", "hashes", "entry_canonical", "entry_json"]);
      expect(sql.exec("SELECT 1 FROM targets WHERE entry_canonical = ''").toArray()).toHaveLength(0);

      // A row is written anew when its target changes; one that is listed as it is stays as it was.
      const changed = placed.slice(0, 5).map((t) => ({ ...t, length: t.length + 100 }));
      expect(index.upsertMany([...changed, ...placed.slice(5, 10)], new Set())).toHaveLength(5);
      const derived = sql
        .exec<{ path: string }>("SELECT path FROM targets WHERE entry_canonical = '' ORDER BY path")
        .toArray()
        .map((r) => r.path);
      expect(derived).toEqual(changed.map((t) => t.path).sort());
      expect(index.binsJoined(BINS)).toEqual(
        new Map(BINS.map((bin) => [bin, joinMembers(index.binEntriesOf([bin]).get(bin) ?? [])])),
      );
    });
  });
});
