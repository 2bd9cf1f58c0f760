/**
 * Uploads on their way in. Bytes are servable only once this object accepted
 * them, so an upload goes:
 *   1. authorized: the path may take this digest; it is reserved for the
 *      upload (no other change can take the path with other bytes meanwhile);
 *   2. staged: the Worker streams the bytes to `<repo>/staging/<id>` (never
 *      served; R2 checks length and SHA-256);
 *   3. accepted: this object copies them to their content address (R2 has no
 *      rename), then applies the change and drops the reservation in one
 *      transaction, before any timestamp can list the target.
 * A refused upload leaves nothing: its staged bytes are deleted (and bytes
 * already copied, unless something accepted references them). An abandoned
 * one (the Worker never came back) is swept with the same rule once
 * its reservation is older than STAGED_UPLOAD_TTL_MS.
 */
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { toHex } from "../src/lib/bytes.ts";
import type { StagedUpload } from "../src/repository-api.ts";

/** How long an upload may take from authorization to acceptance before it counts as abandoned. */
export const STAGED_UPLOAD_TTL_MS = 6 * 3_600_000;

interface StagedRow extends Record<string, SqlStorageValue> {
  id: string;
  path: string;
  sha256: string;
  length: number;
  created_at: number;
}

export class StagedUploads {
  readonly #sql: SqlStorage;
  readonly #bucket: RepositoryBucket;

  constructor(sql: SqlStorage, bucket: RepositoryBucket) {
    this.#sql = sql;
    this.#bucket = bucket;
  }

  /** Why `path` may not be added with `sha256` now (an upload of other bytes holds it), or null. */
  /** Whether any upload is staged (lets a batch skip the per-path conflict look-ups). */
  any(): boolean {
    return this.#sql.exec("SELECT 1 FROM staged_uploads LIMIT 1").toArray().length > 0;
  }

  conflict(path: string, sha256: string | undefined): string | null {
    const other = this.#sql
      .exec<{ sha256: string }>(
        "SELECT sha256 FROM staged_uploads WHERE path = ? AND sha256 IS NOT ? LIMIT 1",
        path,
        sha256 ?? null,
      )
      .toArray()[0];
    return other ? `an upload of this path with sha256 ${other.sha256} is in progress` : null;
  }

  /** Reserves `path` for an upload of these bytes (the caller checked the change first, in the same synchronous block). */
  reserve(path: string, length: number, sha256: string, now: number): StagedUpload {
    const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
    this.#sql.exec(
      "INSERT INTO staged_uploads (id, path, sha256, length, created_at) VALUES (?, ?, ?, ?, ?)",
      id,
      path,
      sha256,
      length,
      now,
    );
    return { id, path, length, sha256 };
  }

  get(id: string): StagedUpload | null {
    const row = this.#sql.exec<StagedRow>("SELECT * FROM staged_uploads WHERE id = ?", id).toArray()[0];
    return row ? { id: row.id, path: row.path, length: row.length, sha256: row.sha256 } : null;
  }

  /** Copies the staged bytes to their content address; false if none are staged. */
  promote(upload: StagedUpload): Promise<boolean> {
    return this.#bucket.promoteStaged(upload.id, upload.path, upload.sha256);
  }

  /** The upload was accepted (inside the transaction that applied it). */
  accepted(id: string): void {
    this.#sql.exec("DELETE FROM staged_uploads WHERE id = ?", id);
  }

  /**
   * The upload was refused or abandoned: deletes its staged bytes, and the
   * copy at its content address unless an accepted target or another upload
   * in progress has those bytes.
   */
  async discard(upload: StagedUpload): Promise<void> {
    this.#sql.exec("DELETE FROM staged_uploads WHERE id = ?", upload.id);
    const referenced =
      this.#sql
        .exec(
          `SELECT 1 FROM staged_uploads WHERE path = ?1 AND sha256 = ?2
           UNION ALL SELECT 1 FROM published_digests WHERE path = ?1 AND sha256 = ?2
           UNION ALL SELECT 1 FROM targets WHERE path = ?1 AND json_extract(hashes, '$.sha256') = ?2
           LIMIT 1`,
          upload.path,
          upload.sha256,
        )
        .toArray().length > 0;
    await this.#bucket.deleteStaged(upload.id);
    if (!referenced) await this.#bucket.deleteTarget(upload.path, upload.sha256);
  }

  /** Discards uploads authorized more than STAGED_UPLOAD_TTL_MS ago; returns how many. */
  async sweep(now: number): Promise<number> {
    const stale = this.#sql
      .exec<StagedRow>("SELECT * FROM staged_uploads WHERE created_at < ? LIMIT 100", now - STAGED_UPLOAD_TTL_MS)
      .toArray();
    for (const row of stale) await this.discard({ id: row.id, path: row.path, length: row.length, sha256: row.sha256 });
    return stale.length;
  }
}
