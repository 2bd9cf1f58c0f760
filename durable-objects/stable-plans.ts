/**
 * Statements that keep their cached plan from one run to the next.
 *
 * workerd caches a prepared statement per SQL text, and after every run it
 * clears the statement's bindings (`sqlite3_clear_bindings`). SQLite expires
 * a statement on that call if its plan looked at the value bound to one of
 * its parameters, so such a statement is parsed and planned again on every
 * run. SQLite (3.54.1 in the workerd of this writing, 1.20261117) looks at a
 * bound value:
 *
 * - in `LIMIT ?` and `OFFSET ?`;
 * - in `column = ?` (or `IS ?`) when it estimates a loop that does not use
 *   that term, which it does only for a join or a statement that asks for an
 *   order: ORDER BY, GROUP BY, DISTINCT, or a lone MIN or MAX;
 * - in `LIKE ?` and `GLOB ?`, and in a term shaped like a partial index's
 *   WHERE with a constant where the term has `?` (`dirty > ?` against
 *   `WHERE dirty > 0`).
 *
 * What tuf-edge writes instead:
 *
 * - a LIMIT's count in the statement's text (`sqlLimit`);
 * - `column = +?` in a join or a statement that asks for an order: the
 *   unary plus hides the parameter from the estimate, and the term still
 *   uses an index on `column` (the plus on the value side, not the
 *   column's);
 * - single-table lookups instead of a join, where that is as simple.
 *
 * Measured with gdb on the object's workerd (`scripts/bench/reprepares.sh`):
 * before, every push prepared its delivery lookup again, and every page
 * document of a target's history its history query (docs/measured.md,
 * "Statements prepared again"). test/e2e/layers.test.ts refuses a bound LIMIT
 * or OFFSET, and a bare `= ?` in a statement that asks for an order; the
 * script shows whatever else a run prepares again.
 */

/** A LIMIT clause with its count written into the statement's text. */
export function sqlLimit(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`a LIMIT is a non-negative integer, not ${count}`);
  }
  return `LIMIT ${count}`;
}
