/**
 * The snapshot's `meta` joined by SQLite in parts (snapshot-parts.ts, which a
 * round rejoins only where it staged roles) signs byte for byte the snapshot
 * that assembling each role's member in JavaScript signs, after every round
 * of random sequences of them: names that sort differently with and without
 * ".json", staged and published versions, roles not yet published, roles
 * listed for the first time between rounds, more roles than a part holds,
 * and names that need escaping (for which it declines and the member path is
 * used). A part left stale by a round, or split in the wrong order, shows as
 * a snapshot that differs from the assembled one.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { PART_ROLES, REJOIN_PARTS, SnapshotParts } from "../../durable-objects/snapshot-parts.ts";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { type Joined, signAssembled, signJoined, versionMember } from "../../src/tuf/assembled.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";

const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

const name = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-zA-Z0-9._-]{0,10}$/),
  fc.constantFrom("targets", "bins-0", "bins-1f", "a", "a-b", "a.b", "a_b", "A", "7", "10", "x y", "a$&b", "$'"),
  // Names that need escaping or are not ASCII: the parts decline them.
  fc.constantFrom('q"uote', "back\\slash", "é", "tab\t", "\u{1F600}"),
);

const row = fc.record({
  name,
  version: fc.nat({ max: 1_000_000 }),
  staged: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
});

/** A round: some roles (by position, modulo the table's size) staged at a higher version, new roles, and whether it commits. */
const round = fc.record({
  staged: fc.array(fc.record({ at: fc.nat(), by: fc.integer({ min: 1, max: 1_000 }) }), { maxLength: 12 }),
  added: fc.array(row, { maxLength: 3 }),
  commits: fc.boolean(),
});

/** Bins enough to fill several parts, so that a round rejoins some parts and leaves others. */
const manyBins = fc.integer({ min: 0, max: 3 * PART_ROLES }).map((n) =>
  Array.from({ length: n }, (_, i) => ({
    name: `bins-${i.toString(16).padStart(3, "0")}`,
    version: i + 1,
    staged: null,
  })),
);

describe("the snapshot's meta joined by SQLite in parts", () => {
  it("signs the bytes the member-by-member assembly signs after every round, or declines names that need escaping", async () => {
    const signer = await Ed25519Signer.fromSeed(new Uint8Array(32).fill(3));
    const { meta: _m, ...header } = snapshot(4, "2031-01-01T00:00:00Z", []) as unknown as Record<string, unknown>;
    // An object never bootstrapped: its roles table is empty and is the test's to fill.
    await runInDurableObject(env.REPOSITORY.getByName("snapshot-meta-property"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = new RoleTable(sql);
      const parts = new SnapshotParts(sql);
      const stage = (name: string, version: number) =>
        sql.exec(
          `INSERT INTO reserved_versions (name, allocated, staged_version) VALUES (?1, ?2, ?2)
           ON CONFLICT (name) DO UPDATE SET allocated = excluded.allocated, staged_version = excluded.staged_version`,
          name,
          version,
        );
      // A name given twice keeps its first row (and staged version).
      const insert = (r: { name: string; version: number; staged: number | null }) => {
        if (sql.exec("SELECT 1 FROM roles WHERE name = ?", r.name).toArray().length > 0) return;
        sql.exec("INSERT INTO roles (name, version) VALUES (?, ?)", r.name, r.version);
        if (r.staged !== null) stage(r.name, r.staged);
      };
      const check = async () => {
        const members = [...roles.currentVersions()].map(([n, v]) => versionMember(`${n}.json`, v));
        const reference = await signAssembled(header, "meta", members, [signer]);
        const joined = await parts.joined(async () => undefined);
        const listed = sql
          .exec<{ name: string }>(
            `SELECT name FROM roles LEFT JOIN reserved_versions USING (name)
             WHERE name NOT IN ('snapshot', 'timestamp') AND IFNULL(staged_version, version) > 0`,
          )
          .toArray();
        if (listed.some((r) => !PLAIN.test(r.name))) {
          expect(joined).toBeNull();
          return;
        }
        expect(joined).not.toBeNull();
        const assembled = await signJoined(header, "meta", joined as Joined, [signer]);
        expect(fromUtf8(assembled.bytes)).toBe(fromUtf8(reference.bytes));
      };
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(row, { selector: (r) => r.name, maxLength: 40 }),
          manyBins,
          fc.array(round, { maxLength: 4 }),
          async (rows, bins, rounds) => {
            sql.exec("DELETE FROM roles");
            sql.exec("DELETE FROM reserved_versions");
            sql.exec("DELETE FROM snapshot_parts");
            for (const r of [...bins, ...rows]) insert(r);
            for (const r of ["snapshot", "timestamp"]) insert({ name: r, version: 7, staged: null });
            await check();
            for (const { staged, added, commits } of rounds) {
              const names = sql
                .exec<{ name: string; v: number }>(
                  `SELECT name, IFNULL(staged_version, version) AS v FROM roles LEFT JOIN reserved_versions USING (name)
                   WHERE name NOT IN ('snapshot', 'timestamp') ORDER BY name`,
                )
                .toArray();
              for (const { at, by } of staged) {
                const target = names[at % Math.max(names.length, 1)];
                if (target) stage(target.name, target.v + by);
              }
              for (const r of added) insert(r);
              await check();
              if (commits) {
                roles.commitStaged("\u{10FFFF}");
                roles.endRound();
                await check();
              }
            }
          },
        ),
        {
          numRuns: 80,
          examples: [
            [[], [], []],
            [
              [
                { name: "a", version: 1, staged: null },
                { name: "a-b", version: 2, staged: 3 },
              ],
              [],
              [{ staged: [{ at: 0, by: 1 }], added: [{ name: "a-a", version: 0, staged: 1 }], commits: true }],
            ],
            // "a-b.json" sorts before "a.json", "a" before "a-b": the two straddle the first parts' boundary.
            [
              [
                { name: "a", version: 1, staged: null },
                { name: "a-b", version: 2, staged: null },
              ],
              Array.from({ length: PART_ROLES - 1 }, (_, i) => ({
                name: String(i).padStart(4, "0"),
                version: 1,
                staged: null,
              })),
              [{ staged: [{ at: PART_ROLES, by: 1 }], added: [], commits: true }],
            ],
          ],
        },
      );
      sql.exec("DELETE FROM roles");
      sql.exec("DELETE FROM snapshot_parts");
    });
  });

  it("rejoins at most REJOIN_PARTS parts in one block, waiting for a turn between two, to the same bytes", async () => {
    const signer = await Ed25519Signer.fromSeed(new Uint8Array(32).fill(5));
    const { meta: _m, ...header } = snapshot(9, "2031-01-01T00:00:00Z", []) as unknown as Record<string, unknown>;
    await runInDurableObject(env.REPOSITORY.getByName("snapshot-meta-turns"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      sql.exec("DELETE FROM roles");
      sql.exec("DELETE FROM snapshot_parts");
      const count = (2 * REJOIN_PARTS + 3) * PART_ROLES; // 35 parts
      for (let i = 0; i < count; i++)
        sql.exec("INSERT INTO roles (name, version) VALUES (?, 1)", `bins-${i.toString(16).padStart(4, "0")}`);
      const parts = new SnapshotParts(sql);
      await parts.joined(async () => expect.unreachable("a split is one statement"));
      // A role staged in every part but the first: 34 parts to rejoin, in three blocks.
      sql.exec(
        "INSERT INTO reserved_versions (name, allocated, staged_version) SELECT name, 2, 2 FROM roles WHERE part > 0 AND rowid % ? = 0",
        PART_ROLES / 2,
      );
      const blocks: number[] = [];
      const statements: string[] = [];
      const recorded = new SnapshotParts(
        new Proxy(sql, {
          get: (target, property) =>
            property === "exec"
              ? (query: string, ...bindings: unknown[]) => {
                  if (query.trimStart().startsWith("UPDATE snapshot_parts")) statements.push(query);
                  return target.exec(query, ...bindings);
                }
              : Reflect.get(target, property, target),
        }),
      );
      const joined = await recorded.joined(async () => {
        blocks.push(statements.length);
      });
      expect(statements).toHaveLength(3);
      expect(blocks).toEqual([1, 2]); // a turn after each block but the last
      const members = [...new RoleTable(sql).currentVersions()].map(([n, v]) => versionMember(`${n}.json`, v));
      const reference = await signAssembled(header, "meta", members, [signer]);
      const assembled = await signJoined(header, "meta", joined as Joined, [signer]);
      expect(fromUtf8(assembled.bytes)).toBe(fromUtf8(reference.bytes));
      sql.exec("DELETE FROM roles");
      sql.exec("DELETE FROM snapshot_parts");
    });
  });
});
