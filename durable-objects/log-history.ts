/**
 * The log's entries in the object's SQLite, kept only as long as the object
 * needs their bytes; what it needs of them for good, the history of each
 * path, is kept apart and small.
 *
 * Every change the repository publishes is a log entry (transparency-log.ts),
 * and a busy registry appends thousands a second: each target pushed, and
 * each bin, snapshot and timestamp a round signs. Kept whole (the entry's
 * bytes, a row of `log_entries` and about two rows of `log_nodes`), an entry
 * costs about 300 bytes of SQLite, so the log would fill the object's 10 GB
 * in hours at 2,000 targets/s and in months at a registry's daily rate.
 *
 * An entry about a target has a row in `log_history` from its append on:
 * its index, path and type, which answer "the latest entry about this path"
 * (proofs by path) and a target's page. (Rows of `log_entries` appended
 * before that table existed carry their path themselves, in the index
 * `log_entries_by_path`; each source holds an entry at most once, and the
 * queries below read both.)
 *
 * Once an entry's level-0 tile and entry bundle are in R2 (full tiles stored
 * ahead of a checkpoint, or published with one), R2 holds everything a
 * client or a proof needs of it. Pruning then, a contiguous range of entries
 * at a time, from the oldest:
 *
 *   - deletes their rows of `log_entries`: whole pages are freed, reused by
 *     the entries appended next, and no index changes but for rows that still
 *     carry a path, which move it into `log_history` first;
 *   - deletes the tree's nodes below tile level 1 (tree levels 0–7) under
 *     them: the tiles in R2 hold them, and the right edge of the tree (the
 *     accumulator's peaks) and the partial tiles never lie in a pruned range.
 *
 * Nodes from tree level 8 up (one for every 256 entries) stay: the tiles of
 * levels 1 and above are built from them. The newest RETAINED_ENTRIES entries
 * always stay, so the status page's recent changes and proofs of the newest
 * entries are read from SQLite, and pruning moves in whole tiles.
 */
import { TILE_HEIGHT, TILE_WIDTH } from "../src/log/tiles.ts";
import type { RecentChange } from "../src/pages/site-status.ts";
import { insertRows } from "./plain-inserts.ts";
import { sqlLimit } from "./stable-plans.ts";

/** Entries always kept whole at the log's end (whole tiles: a multiple of TILE_WIDTH). */
export const RETAINED_ENTRIES = 65_536;

/**
 * Entries pruned by one call at most (rows that still carry their path
 * count more: MOVED_WEIGHT): one block of SQLite work, about 2 µs
 * an entry (a range of rows deleted; the import profile of
 * `npm run bench -- --only bulk --bins 16384 --import 100000 --profile`).
 * A round prunes once after its timestamp and an import batch once after
 * its tiles, so pruning keeps up with a batch's 10,000 entries and the
 * entries of the rounds between batches; each refresh (the cron's tick)
 * prunes once too, so a backlog (a log written before pruning) drains
 * however quiet the repository.
 */
export const PRUNE_ENTRIES = 16_384;

/** Entries pruned per statement: four level-0 tiles. */
const PRUNE_CHUNK = 4 * TILE_WIDTH;

/**
 * What a row that still carries its path (appended before `log_history`
 * existed) costs beyond a plain one, in plain rows, against PRUNE_ENTRIES:
 * its move into the history and the removal of its entry in
 * `log_entries_by_path` are random writes into two indexes, where a plain
 * row goes with its page. An estimate from two runs: `npm run bench --
 * --only bulk --bins 16384 --import 100000 --baseline ed97fff` on 9667ae9,
 * whose pruning moved every entry's path, imported 1.6 s slower than
 * ed97fff (12.6 against 11.0 s), where a profile of 95bcb2c (the history
 * written at append) puts its pruning at 0.15 s: about ten times the cost,
 * so a call over such rows prunes about a tenth as many.
 */
const MOVED_WEIGHT = 9;

const PRUNED = "log-pruned-below";

/** One entry of a path's history: its index in the log and its type ("target.add", …). */
export interface HistoryEntry {
  index: number;
  type: string;
}

export class LogHistory {
  readonly #sql: SqlStorage;
  readonly #kv: SyncKvStorage;
  readonly #retained: number;

  /** `retained`: entries kept whole at the log's end (RETAINED_ENTRIES; tests use fewer). */
  constructor(sql: SqlStorage, kv: SyncKvStorage, retained = RETAINED_ENTRIES) {
    if (!Number.isSafeInteger(retained) || retained < TILE_WIDTH || retained % TILE_WIDTH !== 0)
      throw new Error(`the entries retained must be a positive multiple of ${TILE_WIDTH}, not ${retained}`);
    this.#sql = sql;
    this.#kv = kv;
    this.#retained = retained;
  }

  /** Records entries about paths as they are appended (transparency-log.ts), in the same transaction. */
  record(entries: ReadonlyArray<{ index: number; path: string; type: string }>): void {
    insertRows(
      this.#sql,
      "log_history",
      ["idx", "path", "type"],
      entries.map((e) => [e.index, e.path, e.type]),
    );
  }

  /** Entries below this index are pruned: their bytes and low nodes are only in R2. */
  prunedBelow(): number {
    return this.#kv.get<number>(PRUNED) ?? 0;
  }

  /**
   * Prunes the oldest entries whose level-0 tiles are all stored below
   * `stored` (a tree size whose full tiles and entry bundles are in R2),
   * never any of the newest retained entries of a log of `size`: PRUNE_CHUNK
   * entries a statement, until `limit` is spent (a plain row counts 1, a row
   * that carries its path 1 + MOVED_WEIGHT). Returns how many it pruned.
   */
  prune(stored: number, size: number, limit = PRUNE_ENTRIES): number {
    const from = this.prunedBelow();
    const end = Math.floor(Math.min(stored, size - this.#retained) / TILE_WIDTH) * TILE_WIDTH;
    let to = from;
    let spent = 0;
    while (to < end && spent < limit) {
      const next = Math.min(end, to + PRUNE_CHUNK);
      // A row that still carries its path costs its move into the history and its index entry's removal.
      const moved = this.#sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM log_entries WHERE idx >= ? AND idx < ? AND path IS NOT NULL",
          to,
          next,
        )
        .one().n;
      if (moved > 0)
        this.#sql.exec(
          `INSERT INTO log_history (idx, path, type)
           SELECT idx, path, CAST(entry AS TEXT) ->> '$.type' FROM log_entries
           WHERE idx >= ? AND idx < ? AND path IS NOT NULL`,
          to,
          next,
        );
      this.#sql.exec("DELETE FROM log_entries WHERE idx >= ? AND idx < ?", to, next);
      for (let level = 0; level < TILE_HEIGHT; level++) {
        this.#sql.exec(
          "DELETE FROM log_nodes WHERE level = ? AND idx >= ? AND idx < ?",
          level,
          to >> level,
          next >> level,
        );
      }
      spent += next - to + MOVED_WEIGHT * moved;
      to = next;
    }
    if (to > from) this.#kv.put(PRUNED, to);
    return to - from;
  }

  /** The index of the latest entry about `path` below `size`, or null. */
  latestIndexFor(path: string, size: number): number | null {
    const row = this.#sql
      .exec<{ idx: number | null }>(
        `SELECT MAX(idx) AS idx FROM (
           SELECT MAX(idx) AS idx FROM log_entries WHERE path = +? AND idx < ?
           UNION ALL SELECT MAX(idx) FROM log_history WHERE path = +? AND idx < ?)`,
        path,
        size,
        path,
        size,
      )
      .one();
    return row.idx;
  }

  /** The latest `limit` entries about `path` below `size`, oldest first. */
  entriesFor(path: string, size: number, limit: number): HistoryEntry[] {
    // `path = +?`: with ORDER BY, a bare `?` would have this statement prepared again on every run (stable-plans.ts).
    return this.#sql
      .exec<{ idx: number; type: string }>(
        `SELECT idx, type FROM log_history WHERE path = +? AND idx < ?
         UNION ALL SELECT idx, CAST(entry AS TEXT) ->> '$.type' FROM log_entries WHERE path = +? AND idx < ?
         ORDER BY idx DESC ${sqlLimit(limit)}`,
        path,
        size,
        path,
        size,
      )
      .toArray()
      .map((r) => ({ index: r.idx, type: r.type }))
      .reverse();
  }

  /** The paths of the entries in [from, to), each once. */
  pathsIn(from: number, to: number): string[] {
    return this.#sql
      .exec<{ path: string }>(
        `SELECT path FROM log_entries WHERE idx >= ? AND idx < ? AND path IS NOT NULL
         UNION SELECT path FROM log_history WHERE idx >= ? AND idx < ?`,
        from,
        to,
        from,
        to,
      )
      .toArray()
      .map((r) => r.path);
  }

  /**
   * The latest `limit` entries in [max(from, pruned), to) that are not
   * metadata publications, newest first, with the type, path and version
   * SQLite reads from each entry's JSON (pruned ones are not read). A round
   * logs a `metadata.publish` entry per file it publishes, hundreds a round
   * at 2,000 targets/s; read into JavaScript only to be skipped, each made
   * an ArrayBuffer, a string and an object on the object's thread every
   * round (status.json's recent changes, site-documents.ts).
   */
  recentChanges(from: number, to: number, limit: number): RecentChange[] {
    return this.#sql
      .exec<{ idx: number; type: string; path: SqlStorageValue; version: SqlStorageValue }>(
        `SELECT idx, type, CAST(entry AS TEXT) ->> '$.path' AS path, CAST(entry AS TEXT) ->> '$.version' AS version
         FROM (SELECT idx, entry, CAST(entry AS TEXT) ->> '$.type' AS type FROM log_entries WHERE idx < ? AND idx >= ?)
         WHERE type <> 'metadata.publish' ORDER BY idx DESC ${sqlLimit(limit)}`,
        to,
        from,
      )
      .toArray()
      .map((r) => ({
        index: r.idx,
        type: String(r.type),
        ...(typeof r.path === "string" ? { path: r.path } : {}),
        ...(typeof r.version === "number" ? { version: r.version } : {}),
      }));
  }
}
