/**
 * A role's reserved version and the file staged at it live in
 * `reserved_versions`, a row each, not in its row of `roles` (migration 29,
 * durable-objects/role-table.ts): a round writes a role's row of `roles`
 * once, when its version becomes current. On the object's real SQLite: a
 * version is never handed out twice, whether it was staged, made current or
 * only reserved by a step that failed; a reservation without a file outlives
 * the commit of the others; and migration 29 carries the staged files of a
 * repository written before it.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { RoleTable } from "../../durable-objects/role-table.ts";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { freshRoles } from "./helpers.ts";

const file = (version: number) => ({ version, expires: "2031-01-01T00:00:00Z", length: 10, sha256: "aa" });

const reserved = (sql: SqlStorage) =>
  sql
    .exec<{ name: string; allocated: number; staged_version: number | null }>(
      "SELECT name, allocated, staged_version FROM reserved_versions ORDER BY name",
    )
    .toArray();

describe("reserved_versions", () => {
  it("hands out each version once: reserved, staged, made current, or reserved by a step that failed", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("reserved-versions-states"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = freshRoles(sql, ["bins-0", "bins-1"]);
      roles.startRound(new Date("2030-01-01T00:00:00Z"));
      const first = roles.reserveVersions(["bins-0", "bins-1"]);
      expect([...first].map(([name, r]) => [name, r.version])).toEqual([
        ["bins-0", 1],
        ["bins-1", 1],
      ]);
      // bins-0's file is stored; bins-1's step fails after reserving, and is retried at a new version.
      roles.recordStaged("bins-0", file(1), 0);
      expect(roles.reserveVersions(["bins-1"]).get("bins-1")?.version).toBe(2);
      // Nothing of the round is in roles until its commit.
      expect(
        sql.exec("SELECT name, version, allocated FROM roles WHERE name GLOB 'bins-*' ORDER BY name").toArray(),
      ).toEqual([
        { name: "bins-0", version: 0, allocated: 0 },
        { name: "bins-1", version: 0, allocated: 0 },
      ]);
      expect(reserved(sql)).toEqual([
        { name: "bins-0", allocated: 1, staged_version: 1 },
        { name: "bins-1", allocated: 2, staged_version: null },
      ]);
      expect([...roles.currentVersions()]).toEqual([["bins-0", 1]]);

      roles.startCommit();
      roles.commitStaged("\u{10FFFF}");
      roles.endRound();
      expect(roles.published("bins-0")).toEqual(file(1));
      expect(roles.published("bins-1")).toBeNull();
      // bins-1's reservation without a file stays: its next version is past it.
      expect(reserved(sql)).toEqual([{ name: "bins-1", allocated: 2, staged_version: null }]);
      expect(roles.reserveVersion("bins-1")).toBe(3);
      expect(roles.reserveVersion("bins-0")).toBe(2);
    });
  });

  it("makes current the highest version reserved with the file, so a version reserved after staging is not reused", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("reserved-versions-highest"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const roles = freshRoles(sql, ["targets"]);
      roles.recordStaged("targets", file(roles.reserveVersion("targets")), 0);
      // An offline draft reserves targets' next version while version 1 waits for its round (protected-targets.ts).
      expect(roles.reserveVersion("targets")).toBe(2);
      roles.commitStaged("\u{10FFFF}");
      expect(roles.published("targets")?.version).toBe(1);
      expect(sql.exec("SELECT allocated FROM roles WHERE name = 'targets'").one().allocated).toBe(2);
      expect(reserved(sql)).toEqual([]);
      expect(roles.reserveVersion("targets")).toBe(3);
    });
  });

  it("migration 29 moves the staged files out of roles, and drops their columns", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("reserved-versions-migration"), (_i: Repository, state) => {
      const { sql } = state.storage;
      // The roles table as migrations 1 to 28 left it: staged files in its rows.
      sql.exec("DROP TABLE reserved_versions");
      sql.exec("DELETE FROM roles");
      for (const column of ["version INTEGER", "expires TEXT", "length INTEGER", "sha256 TEXT", "pack_slice INTEGER"])
        sql.exec(`ALTER TABLE roles ADD COLUMN staged_${column}`);
      sql.exec("CREATE INDEX roles_staged ON roles (name) WHERE staged_version IS NOT NULL");
      sql.exec(
        `INSERT INTO roles (name, version, expires, length, sha256, allocated, staged_version, staged_expires,
           staged_length, staged_sha256, staged_pack_slice) VALUES
           ('bins-0', 1, '2030-01-01T00:00:00Z', 5, 'aa', 3, 3, '2031-01-01T00:00:00Z', 7, 'bb', 2),
           ('bins-1', 1, '2030-01-01T00:00:00Z', 5, 'aa', 4, NULL, NULL, NULL, NULL, NULL),
           ('bins-2', 2, '2030-01-01T00:00:00Z', 5, 'aa', 2, NULL, NULL, NULL, NULL, NULL)`,
      );

      sql.exec(MIGRATIONS[28] as string);

      expect(
        sql
          .exec(
            `SELECT name, allocated, staged_version, staged_expires, staged_length, staged_sha256, staged_pack_slice
             FROM reserved_versions`,
          )
          .toArray(),
      ).toEqual([
        {
          name: "bins-0",
          allocated: 3,
          staged_version: 3,
          staged_expires: "2031-01-01T00:00:00Z",
          staged_length: 7,
          staged_sha256: "bb",
          staged_pack_slice: 2,
        },
      ]);
      const columns = sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('roles')")
        .toArray()
        .map((c) => c.name);
      expect(columns.filter((c) => c.startsWith("staged_"))).toEqual([]);
      expect(sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'roles_staged'").toArray()).toEqual([]);
      const roles = new RoleTable(sql);
      expect(roles.stagedFiles()).toEqual([{ role: "bins-0", version: 3, sha256: "bb", length: 7 }]);
      // bins-1's version 4, reserved before the migration and never staged, is still spent.
      expect(roles.reserveVersion("bins-1")).toBe(5);
      expect(roles.reserveVersion("bins-0")).toBe(4);
    });
  });
});
