/**
 * The snapshot's `meta` joined by SQLite (RoleTable.snapshotMeta, one row
 * instead of one per role) signs byte for byte the snapshot that assembling
 * each role's member in JavaScript (the path before it) signs, for random
 * roles tables: names that sort differently with and without ".json",
 * staged and published versions, roles not yet published, and names that
 * need escaping (for which it declines and the member path is used).
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { signAssembled, signJoined, versionMember } from "../../src/tuf/assembled.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { snapshot } from "../../src/tuf/snapshot.ts";

const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

const name = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-zA-Z0-9._-]{0,10}$/),
  fc.constantFrom("targets", "bins-0", "bins-1f", "a", "a-b", "a.b", "a_b", "A", "7", "10", "x y", "a$&b", "$'"),
  // Names that need escaping or are not ASCII: snapshotMeta declines them.
  fc.constantFrom('q"uote', "back\\slash", "é", "tab\t", "\u{1F600}"),
);

const row = fc.record({
  name,
  version: fc.nat({ max: 1_000_000 }),
  staged: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
});

describe("the snapshot's meta joined by SQLite", () => {
  it("signs the bytes the member-by-member assembly signs, or declines names that need escaping", async () => {
    const signer = await Ed25519Signer.fromSeed(new Uint8Array(32).fill(3));
    const { meta: _m, ...header } = snapshot(4, "2031-01-01T00:00:00Z", []) as unknown as Record<string, unknown>;
    // An object never bootstrapped: its roles table is empty and is the test's to fill.
    await runInDurableObject(env.REPOSITORY.getByName("snapshot-meta-property"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = new RoleTable(sql);
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(row, { selector: (r) => r.name, maxLength: 40 }), async (rows) => {
          sql.exec("DELETE FROM roles");
          for (const r of rows)
            sql.exec("INSERT INTO roles (name, version, staged_version) VALUES (?, ?, ?)", r.name, r.version, r.staged);
          for (const r of ["snapshot", "timestamp"])
            if (!rows.some((x) => x.name === r)) sql.exec("INSERT INTO roles (name, version) VALUES (?, 7)", r);

          const members = [...roles.currentVersions()].map(([n, v]) => versionMember(`${n}.json`, v));
          const reference = await signAssembled(header, "meta", members, [signer]);
          const joined = roles.snapshotMeta();
          const listed = rows.filter(
            (r) => r.name !== "snapshot" && r.name !== "timestamp" && (r.staged ?? r.version) > 0,
          );
          if (listed.some((r) => !PLAIN.test(r.name))) {
            expect(joined).toBeNull();
            return;
          }
          expect(joined).not.toBeNull();
          const assembled = await signJoined(header, "meta", joined as { canonical: string; json: string }, [signer]);
          expect(fromUtf8(assembled.bytes)).toBe(fromUtf8(reference.bytes));
        }),
        {
          numRuns: 150,
          examples: [
            [[]],
            [
              [
                { name: "a", version: 1, staged: null },
                { name: "a-b", version: 2, staged: 3 },
              ],
            ],
          ],
        },
      );
      sql.exec("DELETE FROM roles");
    });
  });
});
