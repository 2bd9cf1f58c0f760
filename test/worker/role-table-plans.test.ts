/**
 * A publish round's statements on the `roles` table read the roles it
 * touches, not all of them: at 16,384 bins a statement that scans the table
 * reads 16,386 rows, several times a round (issue 17: publishing that scales
 * with what changed). Every statement a round's RoleTable calls make is
 * recorded, on the object's real SQLite, and its query plan (EXPLAIN QUERY
 * PLAN, which runs nothing) may only scan the tables of changed and claimed
 * roles (migration 28) and of reserved and staged versions (migration 29),
 * which hold the roles of the round under way, or a partial index of few
 * rows; the snapshot's parts rejoin only the parts of the staged roles,
 * found by name from their reserved versions, not by a range over the
 * parts' index that holds every listed role (migration 23;
 * splitting every role into parts, after bootstrap or a delegation's first
 * version, reads them all, and is not made in the round here).
 * The bookkeeping of the files a round replaces (superseded-files.ts) reads
 * the staged roles and the packs they were in, and finds the packs it
 * emptied through their partial index.
 * A group of pushes marking its bins changed rewrites only the rows that
 * change: a bin already waiting for a round is left as it is.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { SnapshotParts } from "../../durable-objects/snapshot-parts.ts";
import { SupersededFiles } from "../../durable-objects/superseded-files.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { freshRoles, recording, type Statement } from "./helpers.ts";

/**
 * The plan's lines that read the whole roles table: a scan of anything but a
 * partial index of few rows, a search of the parts' index by an open range
 * (`part>?`), which reads every role that has a part (all listed roles), or
 * a range of its names (a part of a committing round is a range of the
 * staged roles' names, in reserved_versions).
 */
function fullScans(sql: SqlStorage, { query, bindings }: Statement): string[] {
  return sql
    .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...bindings)
    .toArray()
    .map((row) => row.detail)
    .filter(
      (detail) =>
        (/\bSCAN roles\b/.test(detail) && !/INDEX roles_(unparted|by_part)\b/.test(detail)) ||
        (/\bSCAN bin_packs\b/.test(detail) && !/INDEX bin_packs_emptied\b/.test(detail)) ||
        /\bSEARCH roles USING INDEX roles_by_part \(part>\?\)/.test(detail) ||
        /\bSEARCH roles USING\b.*\(name[<>]/.test(detail),
    );
}

const BINS = 2_048;
const binName = (i: number) => `bins-${i.toString(16).padStart(3, "0")}`;

describe("a publish round's statements on the roles table", () => {
  it("read the roles the round touches, through the partial indexes, never every role", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("role-table-plans"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      // An object never bootstrapped: its roles table is the test's to fill.
      freshRoles(
        sql,
        Array.from({ length: BINS }, (_, i) => binName(i)),
      );
      sql.exec("UPDATE roles SET version = 1, expires = '2031-01-01T00:00:00Z', length = 1, sha256 = 'aa'");
      sql.exec("DELETE FROM role_changes");
      // The snapshot's parts split once, as the first round after bootstrap does (every role is new to them).
      expect(await new SnapshotParts(sql).joined(async () => undefined)).not.toBeNull();

      const statements: Statement[] = [];
      const roles = new RoleTable(recording(sql, statements));
      const changed = [binName(7), binName(300), binName(1_999)];
      roles.markDirty([...changed, "snapshot", "timestamp"], roles.nextSeq());
      expect(roles.hasChanges()).toBe(true);
      roles.startRound(new Date("2030-01-01T00:00:00Z"));
      expect(roles.roundProgress()).toEqual({ staged: 0, pending: changed.length });
      expect(roles.hasClaimed()).toBe(true);
      const claimed = roles.claimed(64).map((role) => role.name);
      expect(claimed).toEqual(changed);
      const reserved = roles.reserveVersions(claimed);
      roles.recordStagedMany(
        claimed.map((name) => ({
          name,
          version: reserved.get(name)?.version ?? 0,
          expires: "2031-01-01T00:00:00Z",
          length: 10,
          sha256: "bb",
          seenSeq: reserved.get(name)?.seq ?? 0,
          packSlice: 0,
        })),
      );
      expect(roles.hasClaimed()).toBe(false);
      expect(roles.roundProgress()).toEqual({ staged: changed.length, pending: 0 });
      expect(roles.changedCount()).toBe(0);
      expect(roles.progress().roundActive).toBe(true);
      expect(roles.stagedFiles().map((f) => f.role)).toEqual(changed);
      const joined = await new SnapshotParts(recording(sql, statements)).joined(async () => undefined);
      // The members come as their UTF-8 bytes (snapshot-parts.ts).
      expect(fromUtf8(joined?.canonical as Uint8Array)).toContain(`"${binName(300)}.json":{"version":2}`);
      // Made current in parts (round-commit.ts): the first part, then the rest.
      expect(roles.stagedFiles(2).map((f) => f.role)).toEqual(changed.slice(0, 2));
      roles.startCommit();
      for (const through of [changed[1], changed[2]] as string[]) {
        new SupersededFiles(recording(sql, statements)).recordReplaced(Date.now(), through);
        roles.commitStaged(through);
        if (through === changed[1]) expect(roles.stagedFiles().map((f) => f.role)).toEqual(changed.slice(2));
      }
      roles.endRound();
      expect(roles.stagedFiles()).toEqual([]);
      expect(roles.progress()).toMatchObject({ roundActive: false });
      expect(roles.committing()).toBe(false);
      expect(roles.published(binName(300))?.version).toBe(2);

      const onRoles = statements.filter((s) => /\b(roles|role_changes|reserved_versions|bin_packs)\b/.test(s.query));
      expect(onRoles.length).toBeGreaterThan(12);
      // The reservations, staged files and the commit write reserved_versions, and roles only at the commit.
      const writes = onRoles.filter((s) => /^\s*(WITH\b[\s\S]*\)\s*)?(INSERT|UPDATE|DELETE)\b/.test(s.query));
      expect(writes.filter((s) => /^\s*UPDATE roles\b/.test(s.query))).toHaveLength(2);
      const scanning = onRoles
        .map((s) => ({ query: s.query.replace(/\s+/g, " "), scans: fullScans(sql, s) }))
        .filter((s) => s.scans.length > 0);
      expect(scanning).toEqual([]);
    });
  });
});

describe("a group of pushes marking its bins changed (TargetsIndex.touchEach)", () => {
  it("marks a clean bin, takes a claimed bin's new seq, and leaves a bin already waiting for a round as it is", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("role-table-touch"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      freshRoles(sql, [binName(1), binName(2), binName(3)]);
      // bins-001 clean, bins-002 waiting (changed by seq 5), bins-003 claimed by a round (seq 6).
      sql.exec("DELETE FROM role_changes WHERE name = ?", binName(1));
      sql.exec("UPDATE role_changes SET dirty = 1, seq = 5 WHERE name = ?", binName(2));
      sql.exec("UPDATE role_changes SET dirty = 2, seq = 6 WHERE name = ?", binName(3));
      const statements: Statement[] = [];
      new TargetsIndex(recording(sql, statements)).touchEach(
        new Map([
          [binName(1), 9],
          [binName(2), 9],
          [binName(3), 9],
        ]),
      );
      const rows = sql
        .exec<{ name: string; dirty: number; seq: number }>(
          "SELECT name, dirty, seq FROM role_changes WHERE name GLOB 'bins-*' ORDER BY name",
        )
        .toArray();
      expect(rows).toEqual([
        { name: binName(1), dirty: 1, seq: 9 },
        // The round that claims it reads its rows and its seq then; rewriting it would only cost a write.
        { name: binName(2), dirty: 1, seq: 5 },
        // Its new seq keeps it changed once the round under way stages it.
        { name: binName(3), dirty: 2, seq: 9 },
      ]);
      expect(statements).toHaveLength(1);
    });
  });
});
