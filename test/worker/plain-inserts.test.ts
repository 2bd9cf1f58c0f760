/**
 * Inserts without a statement journal (durable-objects/plain-inserts.ts):
 * rows go in, in order, as many to a statement as SQLite's bound parameters
 * allow, with the values bound as given; a row a constraint refuses is not
 * passed over in silence.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { insertRows, SkippedRowsError } from "../../durable-objects/plain-inserts.ts";
import type { Repository } from "../../durable-objects/repository.ts";

describe("insertRows", () => {
  it("inserts every row, in order, across statements, with the values bound exactly", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("plain-inserts-order"), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      sql.exec(
        "CREATE TABLE rows_in (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, n INTEGER, note TEXT)",
      );
      // 3 columns: 33 rows a statement, so 70 rows take three; the odd values are those JSON would not carry exactly.
      const rows = Array.from({ length: 70 }, (_, i) => [
        `row ${i}${i === 5 ? " \\ud800 lone" : ""}${i === 6 ? "\\u0000\\n" : ""}`,
        i === 7 ? 2 ** 53 + 2 : i,
        i % 2 ? null : `note ${i}`,
      ]);
      insertRows(sql, "rows_in", ["name", "n", "note"], rows);
      const back = sql
        .exec<{ name: string; n: number; note: string | null }>("SELECT name, n, note FROM rows_in ORDER BY seq")
        .toArray()
        .map((r) => [r.name, r.n, r.note]);
      expect(back).toEqual(rows);
      // Nothing to insert: no statement, no error.
      insertRows(sql, "rows_in", ["name", "n", "note"], []);
      expect(sql.exec<{ c: number }>("SELECT COUNT(*) AS c FROM rows_in").one().c).toBe(70);
    });
  });

  it("a row that breaks a key throws SkippedRowsError, and the transaction around it takes back every row", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("plain-inserts-skipped"), async (_i: Repository, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
      insertRows(sql, "keyed", ["k", "v"], [["a", "first"]]);
      const attempt = () =>
        state.storage.transactionSync(() =>
          insertRows(
            sql,
            "keyed",
            ["k", "v"],
            [
              ["b", "new"],
              ["a", "again"],
              ["c", "new"],
            ],
          ),
        );
      expect(attempt).toThrow(SkippedRowsError);
      expect(attempt).toThrow(/1 of 3 rows for keyed break a constraint/);
      expect(sql.exec<{ k: string; v: string }>("SELECT k, v FROM keyed ORDER BY k").toArray()).toEqual([
        { k: "a", v: "first" },
      ]);
      // A NULL where the column refuses one is passed over by OR IGNORE, and so found too.
      expect(() => insertRows(sql, "keyed", ["k", "v"], [["d", null]])).toThrow(SkippedRowsError);
    });
  });
});
