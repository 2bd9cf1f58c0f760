/**
 * The roles changed or claimed live in `role_changes`, a row each, not in
 * their rows of `roles` (migration 28, durable-objects/role-changes.ts). On
 * the object's real SQLite: a round's marks go through their states as they
 * did in `roles.dirty` (changed, claimed, staged and clean, or changed again
 * while the round signed it), a mark is never made for a role that has no
 * row, and migration 28 carries the marks of a repository written before it.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleChanges } from "../../durable-objects/role-changes.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { freshRoles } from "./helpers.ts";

const marks = (sql: SqlStorage) =>
  sql
    .exec<{ name: string; dirty: number; seq: number }>("SELECT name, dirty, seq FROM role_changes ORDER BY name")
    .toArray();

const staged = (name: string, version: number, seenSeq: number) => ({
  name,
  version,
  expires: "2031-01-01T00:00:00Z",
  length: 10,
  sha256: "aa",
  seenSeq,
});

describe("role_changes", () => {
  it("follows a role from changed to claimed to staged, and keeps one changed meanwhile for the next round", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("role-changes-states"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = freshRoles(sql, ["bins-0", "bins-1", "bins-2"]);
      const changes = new RoleChanges(sql);
      // A fresh repository's roles are changed (seq 0); snapshot and timestamp are not.
      expect(marks(sql)).toEqual([
        { name: "bins-0", dirty: 1, seq: 0 },
        { name: "bins-1", dirty: 1, seq: 0 },
        { name: "bins-2", dirty: 1, seq: 0 },
      ]);
      roles.startRound(new Date("2030-01-01T00:00:00Z"));
      expect(roles.claimed(10).map((r) => r.name)).toEqual(["bins-0", "bins-1", "bins-2"]);
      const reserved = roles.reserveVersions(["bins-0", "bins-1", "bins-2"]);
      expect([...reserved.values()].map((r) => r.seq)).toEqual([0, 0, 0]);
      // A push changes bins-1 while the round signs it, and bins-2 is changed by a touch.
      roles.markDirty(["bins-1"], 7);
      changes.markEach(
        new Map([
          ["bins-2", 8],
          ["bins-unknown", 8],
        ]),
      );
      expect(marks(sql)).toEqual([
        { name: "bins-0", dirty: 2, seq: 0 },
        { name: "bins-1", dirty: 2, seq: 7 },
        { name: "bins-2", dirty: 2, seq: 8 },
      ]);
      roles.recordStagedMany([staged("bins-0", 1, 0), staged("bins-1", 1, 0)]);
      roles.recordStaged("bins-2", staged("bins-2", 1, 0), 0);
      // bins-0 is done; the others changed after their rows were read, and wait for the next round.
      expect(marks(sql)).toEqual([
        { name: "bins-1", dirty: 1, seq: 7 },
        { name: "bins-2", dirty: 1, seq: 8 },
      ]);
      expect(roles.roundProgress()).toEqual({ staged: 3, pending: 0 });
      expect(roles.hasClaimed()).toBe(false);
      expect(roles.changedCount()).toBe(2);
      roles.commitStaged("\u{10FFFF}");
      roles.endRound();
      expect(roles.progress()).toMatchObject({ roundActive: false, hasChanges: true });
      // A touch leaves a role that waits for a round as it is (its seq is read when a round claims it).
      changes.markEach(new Map([["bins-1", 9]]));
      expect(roles.seq("bins-1")).toBe(7);
      expect(roles.seq("bins-0")).toBe(0);
      // A new role is created changed; one that exists keeps its state.
      roles.add("bins-3", 10);
      roles.add("bins-0", 11);
      expect(marks(sql).map((m) => m.name)).toEqual(["bins-1", "bins-2", "bins-3"]);
    });
  });

  it("migration 28 moves the marks out of roles, and drops their columns", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("role-changes-migration"), (_i: Repository, state) => {
      const { sql } = state.storage;
      // The roles table as migrations 1 to 27 left it: marks in its rows.
      sql.exec("DROP TABLE role_changes");
      sql.exec("DELETE FROM roles");
      sql.exec("ALTER TABLE roles ADD COLUMN dirty INTEGER NOT NULL DEFAULT 0");
      sql.exec("ALTER TABLE roles ADD COLUMN seq INTEGER NOT NULL DEFAULT 0");
      sql.exec("CREATE INDEX roles_changed ON roles (dirty, name) WHERE dirty > 0");
      for (const [name, dirty, seq] of [
        ["snapshot", 0, 3],
        ["timestamp", 1, 4],
        ["bins-0", 0, 5],
        ["bins-1", 1, 6],
        ["bins-2", 2, 7],
      ] as const)
        sql.exec("INSERT INTO roles (name, version, dirty, seq) VALUES (?, 1, ?, ?)", name, dirty, seq);

      sql.exec(MIGRATIONS[27] as string);

      expect(marks(sql)).toEqual([
        { name: "bins-1", dirty: 1, seq: 6 },
        { name: "bins-2", dirty: 2, seq: 7 },
        { name: "timestamp", dirty: 1, seq: 4 },
      ]);
      const columns = sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('roles')")
        .toArray()
        .map((c) => c.name);
      expect(columns).not.toContain("dirty");
      expect(columns).not.toContain("seq");
      expect(sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'roles_changed'").toArray()).toEqual([]);
      expect(new RoleTable(sql).claimed(10).map((r) => r.name)).toEqual(["bins-2"]);
    });
  });
});
