/**
 * The targets index in SQLite. Each change marks the bins it touches dirty
 * (roles.dirty) so the next publish re-signs those bins and no others.
 */
import type { TargetEntry } from "../src/repository-api.ts";
import type { Hashes, TargetFile } from "../src/tuf/targets.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { fromUtf8 } from "../src/lib/bytes.ts";
import { dictionary } from "../src/lib/dictionary.ts";

export interface StoredTarget extends TargetEntry {
  bin: string;
}

interface TargetRow extends Record<string, SqlStorageValue> {
  path: string;
  bin: string;
  length: number;
  hashes: string;
  custom: string | null;
}

/** Hashes in a fixed order, sha256 first: clients prefix target file names with the first one. */
function orderedHashes(hashes: Hashes): Hashes {
  const out: Hashes = {};
  if (hashes.sha256) out.sha256 = hashes.sha256;
  if (hashes.sha512) out.sha512 = hashes.sha512;
  return out;
}

function fromRow(row: TargetRow): StoredTarget {
  const target: StoredTarget = { path: row.path, bin: row.bin, length: row.length, hashes: JSON.parse(row.hashes) };
  if (row.custom !== null) target.custom = JSON.parse(row.custom);
  return target;
}

export class TargetsIndex {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  upsert(target: TargetEntry & { bin: string }, seq: number): void {
    this.#sql.exec(
      `INSERT INTO targets (path, bin, length, hashes, custom) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET length = excluded.length, hashes = excluded.hashes, custom = excluded.custom`,
      target.path,
      target.bin,
      target.length,
      JSON.stringify(orderedHashes(target.hashes)),
      target.custom === undefined ? null : JSON.stringify(target.custom),
    );
    this.#touch(target.bin, seq);
  }

  /** Removes a target; returns false if it was not there. */
  remove(path: string, seq: number): boolean {
    const row = this.#sql.exec<{ bin: string }>("DELETE FROM targets WHERE path = ? RETURNING bin", path).toArray()[0];
    if (!row) return false;
    this.#touch(row.bin, seq);
    return true;
  }

  /** Whether `target` is listed exactly so already (length, hashes, custom): adding it again changes nothing. */
  holds(target: TargetEntry): boolean {
    const stored = this.get(target.path);
    if (!stored || stored.length !== target.length) return false;
    const same = (a: unknown, b: unknown) =>
      fromUtf8(canonicalBytes(a ?? null)) === fromUtf8(canonicalBytes(b ?? null));
    return same(orderedHashes(stored.hashes), orderedHashes(target.hashes)) && same(stored.custom, target.custom);
  }

  get(path: string): StoredTarget | null {
    const row = this.#sql.exec<TargetRow>("SELECT * FROM targets WHERE path = ?", path).toArray()[0];
    return row ? fromRow(row) : null;
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM targets").one().n;
  }

  /** The `targets` map of one bin, read from its rows through the (bin, path) index. */
  binTargets(bin: string): Record<string, TargetFile> {
    const out = dictionary<TargetFile>();
    for (const row of this.#sql.exec<TargetRow>("SELECT * FROM targets WHERE bin = ? ORDER BY path", bin)) {
      const { path, length, hashes, custom } = fromRow(row);
      out[path] = custom === undefined ? { length, hashes } : { length, hashes, custom };
    }
    return out;
  }

  #touch(bin: string, seq: number): void {
    this.#sql.exec("UPDATE roles SET dirty = MAX(dirty, 1), seq = ? WHERE name = ?", seq, bin);
  }
}
