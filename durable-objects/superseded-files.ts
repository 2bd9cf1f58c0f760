/**
 * Superseded files: the R2 objects of metadata versions no current version
 * needs any more, deleted once they have been superseded for the
 * repository's `retainSuperseded` seconds.
 *
 * Every round stores a new snapshot (about 0.5 MB at 16,384 bins) and new
 * versions of the roles it changed, under consistent-snapshot names that are
 * never overwritten (TUF 1.0.31 §6.2). Kept for good, a busy repository's
 * bucket grows by gigabytes a day with files nothing reads: a client that
 * fetched a timestamp reads the snapshot it names and the roles that
 * snapshot lists within one update. The retention covers that update, the
 * edge cache's copies of `timestamp.json` (SHORT_CACHE_SECONDS) and any
 * client or mirror that is slow, and is one day by default.
 *
 * What is recorded, in each synchronous block that makes a part of a round's
 * versions current (round-commit.ts, RoleTable.commitStaged), for each role
 * of the part that the round replaced:
 *   - a role in a file of its own (targets, snapshot, delegated roles,
 *     offline roles, bins stored before packs): `metadata/<old>.<role>.json`;
 *   - a top-level bin in a pack (src/storage/bin-pack.ts): one bin fewer in
 *     its pack `packs/<old>/<slice>`, and the pack itself once none of its
 *     bins is current. Packs are counted from the round that published them
 *     (`bin_packs`), so a pack stored before this bookkeeping, or by a step
 *     whose round published other versions instead, is never counted and
 *     never deleted.
 * Never recorded: `timestamp.json` (one key, overwritten), root versions
 * (TUF §6.2: every released root stays, so that an outdated client can
 * walk the chain from its own), the empty bin every
 * bin's version 1 is read from, targets, log tiles, attestations and the
 * pages' documents.
 *
 * Deleting is bounded: at most COLLECT_BATCHES R2 calls of up to
 * R2_DELETE_LIMIT keys per call of collect(), from the alarm and the minute's
 * cron tick. A key is deleted before its row is removed, so a call that dies
 * half-way deletes it again next time (deleting a missing key is no error).
 */
import { R2_DELETE_LIMIT, type RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { logEvent } from "../src/structured-log.ts";
import { STAGED_ROW, STAGED_WITH_ROLES } from "./reserved-versions.ts";
import { sqlLimit } from "./stable-plans.ts";

/** R2 delete calls one collect() makes at most. */
const COLLECT_BATCHES = 8;

/** Roles whose replaced version is never deleted, as an SQL list. */
const KEPT_ROLES = "'timestamp', 'root'";

export class SupersededFiles {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /**
   * Records what the round under way replaces in its staged roles whose
   * names sort at or before `through` (a part of its staged roles: the
   * first in name order): call it in the synchronous block that makes their
   * versions current, just before RoleTable.commitStaged, while each one's
   * row of `roles` still holds its published version and its row of
   * `reserved_versions` the staged one. A pack whose bins span two parts is
   * counted by both.
   */
  recordReplaced(now: number, through: string): void {
    const inPart = `${STAGED_ROW} AND r.name <= ?`;
    // The staged roles of the part, each with its published row.
    const staged = STAGED_WITH_ROLES;
    // The packs the round publishes: one row each, counting its bins that become current.
    this.#sql.exec(
      `INSERT INTO bin_packs (version, slice, live)
         SELECT staged_version, staged_pack_slice, COUNT(*) FROM reserved_versions AS r
         WHERE ${inPart} AND staged_pack_slice >= 0
         GROUP BY staged_version, staged_pack_slice
       ON CONFLICT (version, slice) DO UPDATE SET live = live + excluded.live`,
      through,
    );
    // The packs the replaced versions were read from: one bin fewer each.
    this.#sql.exec(
      `UPDATE bin_packs SET live = live - replaced.n
       FROM (SELECT roles.version, roles.pack_slice AS slice, COUNT(*) AS n FROM ${staged}
             WHERE ${inPart} AND roles.pack_slice >= 0 AND roles.version > 0
             GROUP BY roles.version, roles.pack_slice) AS replaced
       WHERE bin_packs.version = replaced.version AND bin_packs.slice = replaced.slice`,
      through,
    );
    this.#sql.exec(
      `INSERT OR IGNORE INTO superseded_files (key, since)
         SELECT 'packs/' || version || '/' || slice, ? FROM bin_packs WHERE live <= 0`,
      now,
    );
    this.#sql.exec("DELETE FROM bin_packs WHERE live <= 0");
    // Replaced versions in files of their own.
    this.#sql.exec(
      `INSERT OR IGNORE INTO superseded_files (key, since)
         SELECT 'metadata/' || roles.version || '.' || roles.name || '.json', ? FROM ${staged}
         WHERE ${inPart} AND roles.pack_slice IS NULL AND roles.version > 0
           AND r.staged_version <> roles.version AND roles.name NOT IN (${KEPT_ROLES})`,
      now,
      through,
    );
  }

  /**
   * When the longest-waiting file was replaced (ms), or null if none waits:
   * one that waits well past the retention means deleting fails or falls
   * behind (status.ts warns).
   */
  oldest(): number | null {
    return (
      this.#sql.exec<{ since: number }>("SELECT since FROM superseded_files ORDER BY since LIMIT 1").toArray()[0]
        ?.since ?? null
    );
  }

  /** Files recorded and not deleted yet (due or not). */
  waiting(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM superseded_files").one().n;
  }

  /**
   * Deletes the files superseded `retainSeconds` or more before `now`, in at
   * most COLLECT_BATCHES calls; 0 keeps every file. Returns how many it
   * deleted.
   */
  async collect(bucket: RepositoryBucket, now: number, retainSeconds: number): Promise<number> {
    if (retainSeconds <= 0) return 0;
    const before = now - retainSeconds * 1000;
    let deleted = 0;
    for (let batch = 0; batch < COLLECT_BATCHES; batch++) {
      const keys = this.#sql
        .exec<{ key: string }>(
          `SELECT key FROM superseded_files WHERE since <= ? ORDER BY since, key ${sqlLimit(R2_DELETE_LIMIT)}`,
          before,
        )
        .toArray()
        .map((row) => row.key);
      if (keys.length === 0) break;
      await bucket.deleteFiles(keys);
      this.#sql.exec(
        "DELETE FROM superseded_files WHERE key IN (SELECT value FROM json_each(?))",
        JSON.stringify(keys),
      );
      deleted += keys.length;
      if (keys.length < R2_DELETE_LIMIT) break;
    }
    return deleted;
  }

  /**
   * collect() for the alarm and the cron: what it deleted, or why it failed,
   * goes to the log. A failed delete loses nothing (its rows stay for the
   * next call), so it is not thrown: it must not fail the refresh around it.
   */
  async collectLogged(repository: string, bucket: RepositoryBucket, now: number, retainSeconds: number): Promise<void> {
    try {
      const files = await this.collect(bucket, now, retainSeconds);
      if (files > 0) logEvent("superseded.deleted", { repository, files });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      logEvent("superseded.delete_failed", { repository, detail }, "warn");
    }
  }
}
