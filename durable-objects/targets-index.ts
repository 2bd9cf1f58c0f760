/**
 * The targets index in SQLite. Each change marks the bins it touches changed
 * (role_changes: role-table.ts) so the next publish re-signs those bins and
 * no others.
 * Each row keeps its entry serialised (canonical and served JSON, see
 * src/tuf/assembled.ts; once when they are the same text, as for every
 * plain target, and not at all when SQLite writes it from the row's path,
 * hashes and length: ENTRY_CANONICAL), made once when the row is written
 * (target-rows.ts): signing a bin joins its rows' entries instead of
 * re-serialising them.
 */
import type { TargetEntry } from "../src/repository-api.ts";
import { type TargetFile, targetFile } from "../src/tuf/targets.ts";
import { dictionary } from "../src/lib/dictionary.ts";
import { type Joined, joinMembers, type Member } from "../src/tuf/assembled.ts";
import { jsonArray, jsonRuns } from "./json-rows.ts";
import { insertRows } from "./plain-inserts.ts";
import { RoleChanges } from "./role-changes.ts";
import { ENTRY_CANONICAL } from "./derived-entry.ts";
import { PATH_WITNESS, type PathWitness, scannedInOrder } from "./scan-order.ts";
import { type EntryRow, entryOf, fromRow, type StoredTarget, stored, type TargetRow } from "./target-rows.ts";

export type { StoredTarget } from "./target-rows.ts";

/** The columns of a target's row, in the order upsertMany inserts them. */
const TARGET_COLUMNS = ["path", "bin", "length", "hashes", "custom", "entry_canonical", "entry_json"] as const;

export class TargetsIndex {
  readonly #sql: SqlStorage;
  /** Where the bins a change touches are marked changed. */
  readonly #changes: RoleChanges;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#changes = new RoleChanges(sql);
  }

  /**
   * Lists or replaces a target and marks its bin changed; with `touched`, the
   * bin is only added to it and the caller marks the set with touch() once
   * (a push of many targets in few bins marks each bin once, not per target).
   */
  upsert(target: TargetEntry & { bin: string }, seq: number, touched?: Set<string>): void {
    const { hashes, custom, canonical, json } = stored(target);
    const listed = this.#sql.exec("SELECT 1 FROM targets WHERE path = ?", target.path).toArray().length > 0;
    if (!listed) this.#countAdded(1);
    this.#sql.exec(
      `INSERT INTO targets (path, bin, length, hashes, custom, entry_canonical, entry_json) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET length = excluded.length, hashes = excluded.hashes, custom = excluded.custom,
         entry_canonical = excluded.entry_canonical, entry_json = excluded.entry_json`,
      target.path,
      target.bin,
      target.length,
      hashes,
      custom,
      canonical,
      json,
    );
    if (touched) touched.add(target.bin);
    else this.touch([target.bin], seq);
  }

  /**
   * Of `targets` (added in this order, each path once), those not already
   * listed exactly so (length, hashes, custom: adding one again changes
   * nothing), each upserted as upsert() does; their bins are added to
   * `touched` (the caller marks them with touch()). Returns the targets
   * written. Their listed entries are read a run of paths at a time, as JSON
   * (json-rows.ts); new rows are inserted many to a statement without a
   * statement journal (plain-inserts.ts), in the same order; a listed row
   * that changes goes through upsert() on its own (a re-added target whose
   * custom changed: rare).
   */
  upsertMany<T extends TargetEntry & { bin: string }>(targets: readonly T[], touched: Set<string>): T[] {
    const listed = this.#listedEntries(targets.map((t) => t.path));
    const written: T[] = [];
    const added: SqlStorageValue[][] = [];
    for (const target of targets) {
      const row = stored(target);
      const was = listed.get(target.path);
      if (was === row.entry.canonical) continue;
      if (was === undefined) {
        added.push([target.path, target.bin, target.length, row.hashes, row.custom, row.canonical, row.json]);
        touched.add(target.bin);
      } else this.upsert(target, 0, touched);
      written.push(target);
    }
    insertRows(this.#sql, "targets", TARGET_COLUMNS, added);
    this.#countAdded(added.length);
    return written;
  }

  /** The canonical entries of those of `paths` that are listed, by path: a run of paths per statement (json-rows.ts). */
  #listedEntries(paths: readonly string[]): Map<string, string> {
    const listed = new Map<string, string>();
    for (const run of jsonRuns(paths, (path) => [path])) {
      const rows = run.rows
        ? this.#sql.exec<EntryRow>(
            `SELECT path, ${ENTRY_CANONICAL} AS entry_canonical, entry_json FROM targets WHERE path IN (SELECT value ->> 0 FROM json_each(?))`,
            jsonArray(run.rows),
          )
        : this.#sql.exec<EntryRow>(
            `SELECT path, ${ENTRY_CANONICAL} AS entry_canonical, entry_json FROM targets WHERE path = ?`,
            run.items[0] ?? "",
          );
      for (const row of rows.toArray()) listed.set(row.path, row.entry_canonical ?? this.#fill(row).canonical);
    }
    return listed;
  }

  /** Adds `n` newly listed targets to the count (migration 19; removals are counted by a trigger). */
  #countAdded(n: number): void {
    if (n > 0) this.#sql.exec("UPDATE state SET value = value + ? WHERE key = 'targets_count'", n);
  }

  /** Removes a target; returns false if it was not there. `touched` as for upsert(). */
  remove(path: string, seq: number, touched?: Set<string>): boolean {
    const row = this.#sql.exec<{ bin: string }>("DELETE FROM targets WHERE path = ? RETURNING bin", path).toArray()[0];
    if (!row) return false;
    if (touched) touched.add(row.bin);
    else this.touch([row.bin], seq);
    return true;
  }

  /**
   * Marks bins changed by change `seq` (RoleChanges.markEach: one statement
   * for any number of them). A bin already waiting for a round is left as it
   * is: the round that claims it reads its rows and its seq then. A clean bin,
   * or one a round has claimed (whose new seq keeps it changed after that
   * round stages it), takes `seq`. An import's batches touch most bins again
   * and again (about 7,500 of 16,384 per batch of 10,000 targets).
   */
  touch(bins: Iterable<string>, seq: number): void {
    this.#changes.markEach(new Map([...bins].map((bin) => [bin, seq])));
  }

  /**
   * Marks each of `bins` changed by its own change (bin → seq), as touch()
   * does (a group of pushes marks its bins once: group-rows.ts). Under a
   * stream of pushes at 16,384 bins, many of a group's bins are already
   * waiting for a round, and are left as they are.
   */
  touchEach(bins: ReadonlyMap<string, number>): void {
    this.#changes.markEach(bins);
  }

  get(path: string): StoredTarget | null {
    const row = this.#sql.exec<TargetRow>("SELECT * FROM targets WHERE path = ?", path).toArray()[0];
    return row ? fromRow(row) : null;
  }

  /** The number of targets (kept as rows are added and by a trigger as they are removed, migrations 17 and 19: no scan of the index). */
  count(): number {
    return this.#sql.exec<{ value: number }>("SELECT value FROM state WHERE key = 'targets_count'").one().value;
  }

  /** The `targets` map of one bin, read from its rows through the bin index (schema migration 20), sorted by path. */
  binTargets(bin: string): Record<string, TargetFile> {
    const out = dictionary<TargetFile>();
    for (const row of this.#sql.exec<TargetRow>("SELECT * FROM targets WHERE bin = +? ORDER BY path", bin)) {
      const { path, length, hashes, custom } = fromRow(row);
      out[path] = targetFile(length, hashes, custom);
    }
    return out;
  }

  /**
   * The entries of each of `bins`' `targets` map, in path order, read through
   * the bin index in one query (the names go as one JSON array, so
   * any number of them): joined, they are the map (src/tuf/assembled.ts).
   * A bin with no rows gets an empty list.
   */
  binEntriesOf(bins: readonly string[]): Map<string, Member[]> {
    const out = new Map<string, Member[]>(bins.map((bin) => [bin, []]));
    if (bins.length === 0) return out;
    const rows = this.#sql.exec<EntryRow & { bin: string }>(
      `SELECT bin, path, ${ENTRY_CANONICAL} AS entry_canonical, entry_json FROM targets WHERE bin IN (SELECT value FROM json_each(?))
       ORDER BY bin, path`,
      JSON.stringify(bins),
    );
    for (const row of rows) {
      out
        .get(row.bin)
        ?.push(
          row.entry_canonical !== null && row.entry_json !== null
            ? entryOf(row.path, row.entry_canonical, row.entry_json)
            : this.#fill(row),
        );
    }
    return out;
  }

  /**
   * Each of `bins`' `targets` map joined as signJoined takes it (any number
   * of names, as one JSON array: a publish reads a turn's bins, up to a
   * pack's 128, in these queries), by SQLite: one row per bin instead of one
   * per target, in path order (proven from the scan, not sorted:
   * #joinedByBin), which is then both the canonical order and the order
   * JSON.stringify lists the map in.
   * - A bin whose rows are all served as signed (entry_json "", stored()):
   *   one join of canonical entries (ENTRY_CANONICAL), which is also the
   *   served text.
   * - A bin with other rows whose paths are printable ASCII and not array
   *   indices, each entry kept (rows written before stored() kept ""):
   *   a join of each form.
   * - Any other bin: from its members (binEntriesOf, joinMembers).
   * The same text every way (test/worker/assembled-bins.test.ts).
   */
  binsJoined(bins: readonly string[]): Map<string, Joined> {
    const out = new Map<string, Joined>(bins.map((bin) => [bin, { canonical: "", json: "" }]));
    if (bins.length === 0) return out;
    const mixed: string[] = [];
    for (const row of this.#joinedByBin<{ other: number; canonical: string }>(
      (order) => `SUM(entry_json IS NOT '') AS other, group_concat(${ENTRY_CANONICAL}, ','${order}) AS canonical`,
      bins,
    )) {
      if (row.other > 0) mixed.push(row.bin);
      else out.set(row.bin, { canonical: row.canonical, json: row.canonical });
    }
    if (mixed.length === 0) return out;
    const others: string[] = [];
    for (const row of this.#joinedByBin<{ other: number; canonical: string; json: string }>(
      (
        order,
      ) => `SUM(entry_canonical IS NULL OR entry_json IS NULL OR path GLOB '*[^ -~]*' OR path NOT GLOB '*[^0-9]*') AS other,
         group_concat(${ENTRY_CANONICAL}, ','${order}) AS canonical,
         group_concat(iif(entry_json = '', ${ENTRY_CANONICAL}, entry_json), ','${order}) AS json`,
      mixed,
    )) {
      if (row.other > 0) others.push(row.bin);
      else out.set(row.bin, { canonical: row.canonical, json: row.json });
    }
    for (const [bin, members] of this.binEntriesOf(others)) out.set(bin, joinMembers(members));
    return out;
  }

  /**
   * One row per bin of `bins` that has rows, of `columns(order)`: aggregates
   * whose `group_concat`s take `order` (an `ORDER BY` or nothing) and must
   * see the bin's rows in path order. They are read first as the bin index
   * yields them, with PATH_WITNESS beside them (no sort: scan-order.ts); a
   * bin the witness does not prove is read again with `ORDER BY path`.
   */
  #joinedByBin<R extends Record<string, SqlStorageValue>>(
    columns: (order: string) => string,
    bins: readonly string[],
  ): Array<R & { bin: string }> {
    const statement = (select: string) =>
      `SELECT bin, ${select} FROM targets WHERE bin IN (SELECT value FROM json_each(?)) GROUP BY bin`;
    const out: Array<R & { bin: string }> = [];
    const unproven: string[] = [];
    for (const row of this.#sql.exec<R & { bin: string } & PathWitness>(
      statement(`${columns("")}, ${PATH_WITNESS}`),
      JSON.stringify(bins),
    )) {
      if (scannedInOrder(row)) out.push(row);
      else unproven.push(row.bin);
    }
    if (unproven.length === 0) return out;
    return out.concat(
      this.#sql.exec<R & { bin: string }>(statement(columns(" ORDER BY path")), JSON.stringify(unproven)).toArray(),
    );
  }

  /** Serialises the entry of a row written before entries were kept, and keeps it. */
  #fill(row: EntryRow): Member {
    const target = this.get(row.path);
    if (!target) throw new Error(`target ${row.path} vanished while its entry was read`);
    const { entry, canonical, json } = stored(target);
    this.#sql.exec("UPDATE targets SET entry_canonical = ?, entry_json = ? WHERE path = ?", canonical, json, row.path);
    return entry;
  }
}
