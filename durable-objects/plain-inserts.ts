/**
 * Inserts of many rows that SQLite writes without a statement journal.
 *
 * Inside a transaction, a statement that writes several rows and could stop
 * half-way first copies each page it changes to a statement journal, so that
 * it can undo itself alone: 4 KB a page, written to a temporary file once a
 * statement's copies pass 64 KB. SQLite expects a stop from a constraint that
 * aborts (NOT NULL, a primary key, UNIQUE) and from rows read through
 * json_each, even under OR IGNORE. A run of `INSERT OR IGNORE ... VALUES`
 * with bound parameters cannot stop half-way: nothing is copied. In Node's
 * SQLite (the same pager), a row written the json_each way took 34.0 KB of
 * writes and 67.8 µs, and this way 20.9 KB and 50.7 µs (`npm run
 * bench:journals`; docs/measured.md, "Writes without a statement journal").
 *
 * A row that OR IGNORE passes over (one that breaks a constraint: a key
 * already there) is not silent: RETURNING gives one row back per row
 * written, and fewer than given throws SkippedRowsError, so the caller's
 * transaction or savepoint rolls back, as a failed plain INSERT's would.
 */

/** Bound parameters SQLite takes per statement here. */
const MAX_PARAMETERS = 100;

/** Rows an insert into `table` passed over: a constraint they break (the rows before were written; roll back). */
export class SkippedRowsError extends Error {
  readonly table: string;
  constructor(table: string, given: number, written: number) {
    super(`${given - written} of ${given} rows for ${table} break a constraint (a key already there?)`);
    this.name = "SkippedRowsError";
    this.table = table;
  }
}

/**
 * Inserts `rows` (each one value per column of `columns`, in that order)
 * into `table`, in order, as many rows per statement as MAX_PARAMETERS
 * allows. Throws SkippedRowsError if a row is not written.
 */
export function insertRows(
  sql: SqlStorage,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlStorageValue[])[],
): void {
  const perStatement = Math.floor(MAX_PARAMETERS / columns.length);
  const row = `(${columns.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const written = sql
      .exec(
        `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => row).join(", ")} RETURNING 1`,
        ...chunk.flat(),
      )
      .toArray().length;
    if (written !== chunk.length) throw new SkippedRowsError(table, chunk.length, written);
  }
}
