/**
 * The chain of accepted root versions (table `roots`), and the one owner of
 * that table. A root is added in the transaction that accepts it (bootstrap,
 * or a ceremony that met both thresholds) with the exact bytes its signers
 * signed; the next publish round copies every root not yet in R2 to
 * `N.root.json` before it publishes a timestamp signed under it.
 */
import { fromUtf8 } from "../src/lib/bytes.ts";

export interface RootRow {
  version: number;
  /** The signed envelope, byte for byte as served. */
  bytes: Uint8Array<ArrayBuffer>;
  expires: string;
}

export class RootHistory {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Records an accepted root (call inside the transaction that accepts it). */
  add(version: number, bytes: Uint8Array, expires: string, publishedAt: number): void {
    this.#sql.exec(
      "INSERT INTO roots (version, bytes, expires, published_at) VALUES (?, ?, ?, ?)",
      version,
      bytes.slice().buffer,
      expires,
      publishedAt,
    );
  }

  /** The newest root, or null before bootstrap. */
  latest(): RootRow | null {
    const row = this.#sql
      .exec<{ version: number; bytes: ArrayBuffer; expires: string }>(
        "SELECT version, bytes, expires FROM roots ORDER BY version DESC LIMIT 1",
      )
      .toArray()[0];
    return row ? { version: row.version, bytes: new Uint8Array(row.bytes), expires: row.expires } : null;
  }

  /** Root `version`'s signed bytes (it must exist). */
  bytes(version: number): Uint8Array<ArrayBuffer> {
    const row = this.#sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM roots WHERE version = ?", version).one();
    return new Uint8Array(row.bytes);
  }

  /** Root `version`'s `signed` part, parsed from its stored bytes. */
  signed(version: number): unknown {
    return (JSON.parse(fromUtf8(this.bytes(version))) as { signed: unknown }).signed;
  }

  /** Roots not yet copied to R2, oldest first. */
  unstored(): Array<{ version: number; bytes: Uint8Array<ArrayBuffer> }> {
    return this.#sql
      .exec<{ version: number; bytes: ArrayBuffer }>(
        "SELECT version, bytes FROM roots WHERE stored = 0 ORDER BY version",
      )
      .toArray()
      .map(({ version, bytes }) => ({ version, bytes: new Uint8Array(bytes) }));
  }

  /** The newest root version in R2, or null before the first is stored. */
  newestStored(): number | null {
    return this.#sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM roots WHERE stored = 1").one().v ?? null;
  }

  /** Root `version` is in R2 as `N.root.json`. */
  markStored(version: number): void {
    this.#sql.exec("UPDATE roots SET stored = 1 WHERE version = ?", version);
  }
}
