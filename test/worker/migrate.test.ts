/**
 * Migrations run once each, in the object's constructor (durable-objects/
 * migrate.ts). Storage that a newer version migrated further than this one
 * knows is refused before anything runs: migrate() throws SchemaAheadError
 * and changes nothing, and a request to such a repository is answered 503
 * with code "schema_ahead", naming both migration numbers, until a version
 * that knows them is deployed again.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate, SchemaAheadError } from "../../durable-objects/migrate.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { bootstrapped, migratedAhead } from "./helpers.ts";

describe("migrate", () => {
  it("refuses storage a newer version migrated further, and changes nothing", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("schema-ahead"), (_i: Repository, state) => {
      const { sql } = state.storage;
      const ahead = MIGRATIONS.length + 1;
      sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, 0)", ahead);
      const rows = () => sql.exec<{ id: number }>("SELECT id FROM _migrations ORDER BY id").toArray();
      const before = rows();
      expect(() => migrate(sql)).toThrow(SchemaAheadError);
      expect(() => migrate(sql)).toThrow(
        `at schema migration ${ahead}, and this version of tuf-edge knows ${MIGRATIONS.length}`,
      );
      expect(rows()).toEqual(before);
      // Known migrations only: nothing to refuse, nothing to run again.
      sql.exec("DELETE FROM _migrations WHERE id = ?", ahead);
      expect(() => migrate(sql)).not.toThrow();
      expect(rows()).toHaveLength(MIGRATIONS.length);
    });
  });

  it("a repository a newer version migrated answers 503 schema_ahead, every time, and its storage stays as it was", async () => {
    await bootstrapped("schema-ahead-repo");
    // The object is reset, as a deploy resets it: its next request constructs it again.
    const ahead = await migratedAhead("schema-ahead-repo");
    for (let i = 0; i < 2; i++) {
      const response = await SELF.fetch("https://tuf.example/schema-ahead-repo/admin/status", {
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      const problem = await response.json<{ code: string; detail: string }>();
      expect(problem.code).toBe("schema_ahead");
      expect(problem.detail).toContain(
        `at schema migration ${ahead}, and this version of tuf-edge knows ${MIGRATIONS.length}`,
      );
    }
  });
});
