/**
 * Brings a repository's SQLite up to the schema (schema.ts): each migration
 * runs once, inside the constructor's blockConcurrencyWhile, and is recorded
 * in `_migrations`. Storage that a newer version migrated further than this
 * version knows is refused, untouched (SchemaAheadError).
 */
import { MIGRATIONS } from "./schema.ts";

/**
 * The repository's storage has migrations this version does not know: a
 * newer tuf-edge migrated it (and this one was deployed over it), so this
 * version would misread its tables. Nothing runs; every request to the
 * repository fails until a version that knows them is deployed again.
 */
export class SchemaAheadError extends Error {
  /** The newest migration the storage records. */
  readonly stored: number;
  /** The migrations this version knows. */
  readonly known: number;

  constructor(stored: number, known: number) {
    super(
      `this repository's storage is at schema migration ${stored}, and this version of tuf-edge knows ${known}: a newer version migrated it; deploy that version or a later one (a version cannot be rolled back over its migrations)`,
    );
    this.name = "SchemaAheadError";
    this.stored = stored;
    this.known = known;
  }
}

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  // By id, so that each migration runs exactly once whatever else is recorded.
  const applied = new Set(
    sql
      .exec<{ id: number }>("SELECT id FROM _migrations")
      .toArray()
      .map((r) => r.id),
  );
  const newest = Math.max(0, ...applied);
  if (newest > MIGRATIONS.length) throw new SchemaAheadError(newest, MIGRATIONS.length);
  for (const [i, migration] of MIGRATIONS.entries()) {
    if (applied.has(i + 1)) continue;
    sql.exec(migration);
    sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, ?)", i + 1, Date.now());
  }
}
