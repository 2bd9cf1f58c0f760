/**
 * Brings a repository's SQLite up to the schema (schema.ts): each migration
 * runs once, inside the constructor's blockConcurrencyWhile, and is recorded
 * in `_migrations`.
 */
import { MIGRATIONS } from "./schema.ts";

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  // By id, so that each migration runs exactly once whatever else is recorded.
  const applied = new Set(
    sql
      .exec<{ id: number }>("SELECT id FROM _migrations")
      .toArray()
      .map((r) => r.id),
  );
  for (const [i, migration] of MIGRATIONS.entries()) {
    if (applied.has(i + 1)) continue;
    sql.exec(migration);
    sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, ?)", i + 1, Date.now());
  }
}
