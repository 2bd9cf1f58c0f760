/**
 * The `state` table: numbers by key (change sequences, where a round stands,
 * the version of its packs). A key never written reads as 0.
 */

export function readState(sql: SqlStorage, key: string): number {
  return sql.exec<{ value: number }>("SELECT value FROM state WHERE key = ?", key).toArray()[0]?.value ?? 0;
}

export function writeState(sql: SqlStorage, key: string, value: number): void {
  sql.exec(
    "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}
