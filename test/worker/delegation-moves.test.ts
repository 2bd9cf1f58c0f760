/**
 * A change of the delegation tree moves every target to the role that now
 * claims it. The targets are read a page at a time in path order
 * (Delegations.#reassign, REASSIGN_PAGE), never all at once: at 1,000,000
 * targets the whole table as objects in the heap outgrows the isolate's
 * 128 MB. Here the page is three rows, the repository holds ten targets, and
 * the change is made on the object's real SQLite with every statement
 * recorded: every read of `targets` is a page (a LIMIT, in path order from
 * the path index, with no sort of the whole table), and every target lands
 * where assign() says, across the pages' edges.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Delegations } from "../../durable-objects/delegations.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import { bootstrapped, recording, type Statement, targetEntry } from "./helpers.ts";

const PAGE = 3;

describe("a delegation change moves the targets a page at a time", () => {
  it("reads the targets in pages of the path index and moves each to the role that claims it", async () => {
    const repo = "dlg-pages";
    const { client } = await bootstrapped(repo, { bins: 16 });
    const paths = [
      "@acme/a-1.0.tgz",
      "@acme/b-1.0.tgz",
      "@acme/c-1.0.tgz",
      "@acme/d-1.0.tgz",
      "hello/a.txt",
      "hello/b.txt",
      "zeta/z.tgz",
      "@acme/zz-9.tgz",
      "alpha/1.tgz",
      "omega/2.tgz",
    ];
    await client.changeTargets({ add: await Promise.all(paths.map(targetEntry)) });

    await runInDurableObject(env.REPOSITORY.getByName(repo), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const statements: Statement[] = [];
      const delegations = new Delegations({
        sql: recording(sql, statements),
        transaction: (fn) => state.storage.transactionSync(fn),
        topBins: () => new HashBins(HashBins.bitLengthFor(16)),
        reassignPage: PAGE,
      });
      const added = delegations.add(
        { name: "acme", parent: "targets", paths: ["@acme/*"], signing: "online", terminating: false },
        1_000,
        Date.now(),
      );
      expect("touched" in added && added.touched).toContain("acme");

      const rows = sql
        .exec<{ path: string; bin: string }>("SELECT path, bin FROM targets ORDER BY path")
        .toArray()
        .filter((row) => paths.includes(row.path));
      expect(rows).toHaveLength(paths.length);
      for (const { path, bin } of rows) {
        expect(bin, path).toBe(path.startsWith("@acme/") ? "acme" : delegations.assign(path).bin);
        expect(bin, path).toMatch(path.startsWith("@acme/") ? /^acme$/ : /^bins-[0-9a-f]$/);
      }

      const reads = statements.filter((s) => /^\s*SELECT\b[\s\S]*\bFROM targets\b/.test(s.query));
      // The bootstrap's own targets (the log's verifier key) and the ten: at least four pages.
      expect(reads.length).toBeGreaterThanOrEqual(Math.ceil(paths.length / PAGE));
      for (const read of reads) {
        expect(read.query).toMatch(new RegExp(`ORDER BY path LIMIT ${PAGE}$`));
        const plan = sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${read.query}`, ...read.bindings)
          .toArray()
          .map((row) => row.detail);
        expect(plan.join("; ")).not.toMatch(/TEMP B-TREE|SCAN targets USING COVERING INDEX targets_by_bin/);
      }
    });
  });
});
