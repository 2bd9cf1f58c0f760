/**
 * A publish round's statements on the `roles` table read the roles it
 * touches, not all of them: at 16,384 bins a statement that scans the table
 * reads 16,386 rows, several times a round (issue 17: publishing that scales
 * with what changed). Every statement a round's RoleTable calls make is
 * recorded, on the object's real SQLite, and its query plan (EXPLAIN QUERY
 * PLAN, which runs nothing) may only scan the partial indexes of changed and
 * staged roles (migration 22). The snapshot's `meta`, which lists every role,
 * is the one statement of a round that reads them all, and is not made here.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";

interface Statement {
  query: string;
  bindings: unknown[];
}

/** `sql` with every exec() recorded; the statements still run on it. */
function recording(sql: SqlStorage, statements: Statement[]): SqlStorage {
  return new Proxy(sql, {
    get(target, property) {
      if (property === "exec")
        return (query: string, ...bindings: unknown[]) => {
          statements.push({ query, bindings });
          return target.exec(query, ...bindings);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The plan's lines that read the whole roles table (a scan of anything but a partial index). */
function fullScans(sql: SqlStorage, { query, bindings }: Statement): string[] {
  return sql
    .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...bindings)
    .toArray()
    .map((row) => row.detail)
    .filter((detail) => /\bSCAN roles\b/.test(detail) && !/INDEX roles_(changed|staged)\b/.test(detail));
}

const BINS = 2_048;
const binName = (i: number) => `bins-${i.toString(16).padStart(3, "0")}`;

describe("a publish round's statements on the roles table", () => {
  it("read the roles the round touches, through the partial indexes, never every role", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("role-table-plans"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      // An object never bootstrapped: its roles table is the test's to fill.
      sql.exec("DELETE FROM roles");
      new RoleTable(sql).create(Array.from({ length: BINS }, (_, i) => binName(i)));
      sql.exec("UPDATE roles SET dirty = 0, version = 1, expires = '2031-01-01T00:00:00Z', length = 1, sha256 = 'aa'");

      const statements: Statement[] = [];
      const roles = new RoleTable(recording(sql, statements));
      const changed = [binName(7), binName(300), binName(1_999)];
      roles.markDirty([...changed, "snapshot", "timestamp"], roles.nextSeq());
      expect(roles.hasChanges()).toBe(true);
      roles.startRound(new Date("2030-01-01T00:00:00Z"));
      expect(roles.roundProgress()).toEqual({ staged: 0, pending: changed.length });
      expect(roles.hasClaimed()).toBe(true);
      const claimed = roles.claimed(64);
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
        })),
      );
      expect(roles.hasClaimed()).toBe(false);
      expect(roles.roundProgress()).toEqual({ staged: changed.length, pending: 0 });
      expect(roles.changedCount()).toBe(0);
      expect(roles.progress().roundActive).toBe(true);
      expect(roles.stagedFiles().map((f) => f.role)).toEqual(changed);
      roles.commitRound();
      expect(roles.stagedFiles()).toEqual([]);
      expect(roles.published(binName(300))?.version).toBe(2);

      const onRoles = statements.filter((s) => /\broles\b/.test(s.query));
      expect(onRoles.length).toBeGreaterThan(12);
      const scanning = onRoles
        .map((s) => ({ query: s.query.replace(/\s+/g, " "), scans: fullScans(sql, s) }))
        .filter((s) => s.scans.length > 0);
      expect(scanning).toEqual([]);
    });
  });
});
