/**
 * The bench's upgrade step (scripts/bench/upgrade.ts) against the real Worker:
 * this code started on a baseline's repository is timed; a repository whose
 * schema is newer than this code (a `--code` older than `--baseline`) is
 * reported as the refused downgrade it is, not as the section's failure.
 */
import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../durable-objects/schema.ts";
import { AdminClient } from "../../scripts/lib/admin-client.ts";
import { timeUpgrade, upgradeTable } from "../../scripts/bench/upgrade.ts";
import { bootstrapped, migratedAhead } from "./helpers.ts";

const client = (repo: string) =>
  new AdminClient({
    baseUrl: "https://tuf.example",
    repo,
    token: env.ADMIN_TOKEN,
    fetch: (input, init) => SELF.fetch(input, init),
  });

describe("the bench's upgrade step", () => {
  it("times the first request and the one after on a schema this code knows", async () => {
    await bootstrapped("bench-upgrade-known");
    const upgraded = await timeUpgrade(client("bench-upgrade-known"), 0);
    expect(upgraded).toMatchObject({ targets: 0, firstMs: expect.any(Number), secondMs: expect.any(Number) });
    const table = upgradeTable(upgraded, { now: "this", before: "base" });
    expect(table.rows).toHaveLength(2);
    expect(table.title).not.toContain("refused");
    // A repository that does not hold what the baseline imported is still an error.
    await expect(timeUpgrade(client("bench-upgrade-known"), 5)).rejects.toThrow("status lists 0 targets, not 5");
  });

  it("reports a newer schema's repository as a refused downgrade, with the Worker's answer", async () => {
    await bootstrapped("bench-upgrade-ahead");
    const ahead = await migratedAhead("bench-upgrade-ahead");
    const upgraded = await timeUpgrade(client("bench-upgrade-ahead"), 0);
    expect(upgraded).toEqual({
      targets: 0,
      refused: expect.stringContaining(
        `at schema migration ${ahead}, and this version of tuf-edge knows ${MIGRATIONS.length}`,
      ),
    });
    const table = upgradeTable(upgraded, { now: "86485d4", before: "a2a538f" });
    expect(table.title).toContain("refused");
    expect(table.rows).toEqual([["GET …/admin/status, the first request: 503 schema_ahead", null]]);
    expect(table.notes?.join(" ")).toContain("This code (86485d4) is older than the baseline (a2a538f)");
  });
});
