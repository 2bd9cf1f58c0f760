/**
 * A round reads each bin it signs from the bin index alone (migration 26):
 * the index holds a bin's paths and entries in path order, so reading a bin
 * is one run of the index, not a page of the table for each of its rows
 * (rows sit in the table in the order they were written). Every statement
 * TargetsIndex runs to join bins is recorded on the object's real SQLite,
 * and its query plan (EXPLAIN QUERY PLAN, which runs nothing) may read
 * `targets` only as a covering index. The joined text is checked against
 * the members joined one by one, for plain rows, rows served in another
 * form, and paths that take the slow way (non-ASCII, array indices).
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { TargetsIndex } from "../../durable-objects/targets-index.ts";
import { joinMembers } from "../../src/tuf/assembled.ts";
import { recording, type Statement } from "./helpers.ts";

/** The plan's lines that read `targets` other than through the bin index as a covering index. */
function tableReads(sql: SqlStorage, statement: Statement): string[] {
  return plan(sql, statement).filter(
    (detail) => /\btargets\b/.test(detail) && !/USING COVERING INDEX targets_by_bin\b/.test(detail),
  );
}

/** Every line of the statement's query plan. */
function plan(sql: SqlStorage, { query, bindings }: Statement): string[] {
  return sql
    .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, ...bindings)
    .toArray()
    .map((row) => row.detail);
}

const sha = (i: number) => i.toString(16).padStart(64, "0");

describe("a bin's entries, as a round joins them", () => {
  it("come from the bin index alone, in path order, whatever the rows hold", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("bin-reads"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const index = new TargetsIndex(sql);
      const bins = ["bins-a", "bins-b", "bins-c", "bins-d"];
      const targets = [
        // bins-a: plain rows only, written out of path order.
        { bin: "bins-a", path: "pkg/z-1.0.tgz", length: 1, hashes: { sha256: sha(1) } },
        { bin: "bins-a", path: "pkg/a-1.0.tgz", length: 2, hashes: { sha256: sha(2) } },
        // bins-b: a row whose served form differs from its canonical one (a custom field's key order).
        { bin: "bins-b", path: "pkg/m-1.0.tgz", length: 3, hashes: { sha256: sha(3) } },
        { bin: "bins-b", path: "pkg/b-1.0.tgz", length: 4, hashes: { sha256: sha(4) }, custom: { z: 1, a: 2 } },
        // bins-c: paths that are joined member by member (non-ASCII, an array index).
        { bin: "bins-c", path: "Ünïcödé/ß.tgz", length: 5, hashes: { sha256: sha(5) } },
        { bin: "bins-c", path: "42", length: 6, hashes: { sha256: sha(6) } },
        // bins-d: no rows.
      ];
      index.upsertMany(targets, new Set());

      const statements: Statement[] = [];
      const joined = new TargetsIndex(recording(sql, statements)).binsJoined(bins);
      const members = index.binEntriesOf(bins);
      for (const bin of bins) expect(joined.get(bin), bin).toEqual(joinMembers(members.get(bin) ?? []));
      expect(joined.get("bins-a")?.canonical).toMatch(/^"pkg\/a-1\.0\.tgz":.*,"pkg\/z-1\.0\.tgz":/);
      expect(joined.get("bins-d")).toEqual({ canonical: "", json: "" });

      // Each way of joining ran: plain, both forms, member by member.
      const onTargets = statements.filter((s) => /\btargets\b/.test(s.query));
      expect(onTargets).toHaveLength(3);
      const reading = onTargets
        .map((s) => ({ query: s.query.replace(/\s+/g, " "), reads: tableReads(sql, s) }))
        .filter((s) => s.reads.length > 0);
      expect(reading).toEqual([]);
      // The index yields each bin's rows in path order; nothing sorts them again (scan-order.ts).
      expect(onTargets.flatMap((s) => plan(sql, s)).filter((line) => /TEMP B-TREE/.test(line))).toEqual([]);
    });
  });

  it("are read again in path order where the scan's order is not proven", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("bin-reads-unproven"), async (_i: Repository, state) => {
      const { sql } = state.storage;
      const index = new TargetsIndex(sql);
      const bins = ["bins-a", "bins-b", "bins-c"];
      // Request schemas refuse a control character in a path; the index itself does not. A newline
      // is the witness's separator, so bins-a's witness splits into more pieces than it has rows.
      index.upsertMany(
        [
          { bin: "bins-a", path: "pkg/z-1.0.tgz", length: 1, hashes: { sha256: sha(1) } },
          { bin: "bins-a", path: "pkg/line\nbreak.tgz", length: 2, hashes: { sha256: sha(2) } },
          { bin: "bins-a", path: "pkg/a-1.0.tgz", length: 3, hashes: { sha256: sha(3) } },
          { bin: "bins-b", path: "pkg/y-1.0.tgz", length: 4, hashes: { sha256: sha(4) } },
          { bin: "bins-b", path: "pkg/b-1.0.tgz", length: 5, hashes: { sha256: sha(5) } },
          { bin: "bins-c", path: "pkg/m-1.0.tgz", length: 6, hashes: { sha256: sha(6) }, custom: { z: 1, a: 2 } },
          { bin: "bins-c", path: "pkg/c\n-1.0.tgz", length: 7, hashes: { sha256: sha(7) }, custom: { z: 1, a: 2 } },
        ],
        new Set(),
      );
      const statements: Statement[] = [];
      const joined = new TargetsIndex(recording(sql, statements)).binsJoined(bins);
      const members = index.binEntriesOf(bins);
      for (const bin of bins) expect(joined.get(bin), bin).toEqual(joinMembers(members.get(bin) ?? []));
      expect(joined.get("bins-a")?.canonical).toMatch(
        /^"pkg\/a-1\.0\.tgz":.*,"pkg\/line\nbreak\.tgz":.*,"pkg\/z-1\.0\.tgz":/s,
      );
      // Each join read once unsorted, then the bins its witness did not prove again, sorted, and only they.
      // A newline is served escaped, not as signed: bins-a and bins-c both go on to the second join.
      const sorted = statements.filter((s) => /ORDER BY path\) AS canonical/.test(s.query));
      expect(sorted.map((s) => JSON.parse(s.bindings[0] as string))).toEqual([
        ["bins-a", "bins-c"],
        ["bins-a", "bins-c"],
      ]);
    });
  });
});
