/**
 * The `roles` table: per online role, the published version and a lower
 * bound of the versions ever reserved. The version reserved for a role and
 * the file staged at it by the round under way are a row of
 * `reserved_versions` (migration 29, reserved-versions.ts), so a round
 * writes a role's row of `roles` once, when its version becomes current.
 * Which roles are changed since their last version, or claimed by the round
 * under way, is `role_changes` (migration 28, role-changes.ts). RoleTable is
 * the one interface to the three. All methods are synchronous SQL: a caller
 * that does not await between two of them sees a consistent state.
 */
import { jsonArray, jsonRuns } from "./json-rows.ts";
import { OFFLINE_ROLE_NAMES } from "./offline-roles.ts";
import { LISTED_VERSION, ROLES_WITH_RESERVED, type Reservations, ReservedVersions } from "./reserved-versions.ts";
import { CLAIMED, type ClaimedRole, RoleChanges, SIGNED_IN_STEPS, seqOf } from "./role-changes.ts";
import { readState, writeState } from "./state-values.ts";
import { sqlLimit } from "./stable-plans.ts";

export interface RoleVersion {
  version: number;
  expires: string;
  length: number;
  sha256: string;
}

/**
 * Where a version's file is, in the `pack_slice` columns: NULL for a file of
 * its own (`metadata/<version>.<role>.json`), a slice for a top-level bin in
 * its pack (`packs/<version>/<slice>`), or SHARED_FILE for a file many roles
 * are read from (bootstrap's empty bin), which is never superseded
 * (superseded-files.ts).
 */
export const SHARED_FILE = -1;

interface RoleRow extends Record<string, SqlStorageValue> {
  name: string;
  version: number;
  expires: string | null;
  length: number | null;
  sha256: string | null;
}

/**
 * Roles rebuilt by every round. Marking one of them changed asks for a round
 * even when no bin changed (to refresh their expiry or store a new root).
 */
export const ROUND_ROLES = ["snapshot", "timestamp"];

/** Where publishing stands (RoleTable.progress). */
export interface Progress {
  publishedSeq: number;
  roundSeq: number;
  roundActive: boolean;
  hasChanges: boolean;
}

/** The columns of PROGRESS_COLUMNS. */
export interface ProgressRow extends Record<string, SqlStorageValue> {
  published_seq: number;
  round_seq: number;
  round_active: number;
  has_changes: number;
}

const stateValue = (key: string) => `IFNULL((SELECT value FROM state WHERE key = '${key}'), 0)`;

/**
 * Result columns that read where publishing stands, for a statement that
 * reads something else beside it (a task poll reads its task in the same
 * statement: tasks.ts); progressOf() reads them back.
 */
export const PROGRESS_COLUMNS = `${stateValue("published_seq")} AS published_seq, ${stateValue("round_seq")} AS round_seq,
  ${stateValue("round_active")} AS round_active, EXISTS (SELECT 1 FROM role_changes) AS has_changes`;

export function progressOf(row: ProgressRow): Progress {
  return {
    publishedSeq: row.published_seq,
    roundSeq: row.round_seq,
    roundActive: row.round_active === 1,
    hasChanges: row.has_changes === 1,
  };
}

export class RoleTable {
  readonly #sql: SqlStorage;
  /** Which roles are changed or claimed (role-changes.ts). */
  readonly #changes: RoleChanges;
  /** The versions reserved and the files staged (reserved-versions.ts). */
  readonly #reserved: ReservedVersions;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#changes = new RoleChanges(sql);
    this.#reserved = new ReservedVersions(sql);
  }

  /** Creates the rows for a fresh repository: snapshot and timestamp, and `names`, changed. */
  create(names: readonly string[]): void {
    for (const name of [...ROUND_ROLES, ...names]) {
      this.#sql.exec("INSERT INTO roles (name) VALUES (?)", name);
      if (!ROUND_ROLES.includes(name)) this.#changes.mark(name, 0);
    }
  }

  /** Creates the row of a new role (a delegation), changed by `seq`; a role that has one already is left as it is. */
  add(name: string, seq: number): void {
    if (this.#sql.exec("SELECT 1 FROM roles WHERE name = ?", name).toArray().length > 0) return;
    this.#sql.exec("INSERT INTO roles (name) VALUES (?)", name);
    this.#changes.mark(name, seq);
  }

  /**
   * Creates rows for roles whose first version is stored already (bootstrap's
   * empty bin, one file for every top-level bin): staged, not changed, so the
   * next round lists them in its snapshot, logs them and makes them current
   * without signing or storing anything for them. Two statements for all.
   */
  createStaged(names: readonly string[], file: RoleVersion): void {
    this.#sql.exec(
      "INSERT INTO roles (name, allocated) SELECT value, ? FROM json_each(?)",
      file.version,
      JSON.stringify(names),
    );
    this.#reserved.stageShared(names, file, SHARED_FILE);
  }

  /** Marks roles changed (e.g. to re-sign them with a new key or expiry). */
  markDirty(names: readonly string[], seq: number): void {
    for (const name of names) this.#changes.mark(name, seq);
  }

  hasChanges(): boolean {
    return this.#changes.any();
  }

  hasClaimed(): boolean {
    return this.#changes.anyClaimed();
  }

  roundActive(): boolean {
    return this.#state("round_active") === 1;
  }

  /** The change sequence up to which the last completed round published. */
  publishedSeq(): number {
    return this.#state("published_seq");
  }

  /** The change sequence up to which the round under way publishes. */
  roundSeq(): number {
    return this.#state("round_seq");
  }

  /** Where publishing stands: publishedSeq(), roundSeq(), roundActive() and hasChanges() in one statement. */
  progress(): Progress {
    return progressOf(this.#sql.exec<ProgressRow>(`SELECT ${PROGRESS_COLUMNS}`).one());
  }

  /** The next change sequence number (monotonic across restarts). */
  nextSeq(): number {
    const seq = this.#state("change_seq") + 1;
    this.#setState("change_seq", seq);
    return seq;
  }

  /**
   * Claims every changed role for a new round and remembers which changes it
   * carries, and the time the round signs at (every expiry in it counts from
   * then, so a round resumed in a later invocation signs what it would have).
   */
  startRound(now: Date): void {
    this.#changes.claimAll();
    this.#setState("round_seq", this.#state("change_seq"));
    this.#setState("round_started_at", now.getTime());
    this.#setState("round_active", 1);
  }

  /** The time the round under way signs at (null for a round started before rounds recorded it). */
  roundTime(): Date | null {
    const at = this.#state("round_started_at");
    return at > 0 ? new Date(at) : null;
  }

  /** The round under way: roles signed and stored so far, and roles it still has to sign (snapshot and timestamp aside). */
  roundProgress(): { staged: number; pending: number } {
    const pending = this.#sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM role_changes WHERE ${CLAIMED} AND ${SIGNED_IN_STEPS}`)
      .one().n;
    return { staged: this.#reserved.stagedCount(), pending };
  }

  /** Roles marked changed and not yet published (snapshot and timestamp aside). */
  changedCount(): number {
    return this.#changes.count();
  }

  /**
   * The next `limit` roles the round under way signs, in name order, with
   * their published files' lengths (PackVersions.claimedBatch rounds them
   * to whole step packs of bins).
   */
  claimed(limit: number): ClaimedRole[] {
    return this.#changes.claimed(limit);
  }

  /** The change that last touched role `name` while it is changed or claimed (0 if neither). */
  seq(name: string): number {
    return this.#sql.exec<{ seq: number }>(`SELECT ${seqOf("roles.name")} AS seq FROM roles WHERE name = ?`, name).one()
      .seq;
  }

  /** Reserves the next version of a role, durably, before anything is signed with it. */
  reserveVersion(name: string): number {
    const reserved = this.#reserved.reserveNext([name]).get(name);
    if (!reserved) throw new Error(`role ${name} has no row to reserve a version for`);
    return reserved.version;
  }

  /**
   * Reserves the next version of each of `names` in one statement (at most
   * 32 names, within SQLite's bound-parameter limit), with the change
   * sequence each was at: what the rows read in the same synchronous block reflect.
   */
  reserveVersions(names: readonly string[]): Reservations {
    return this.#reserved.reserveNext(names);
  }

  /** The highest version any of `names` had or was reserved (0 for none): a pack version is above it (pack-versions.ts). */
  highestVersion(names: readonly string[]): number {
    return this.#reserved.highest(names);
  }

  /**
   * Reserves `version` for each of `names` that has had or was reserved
   * none as high, with the change sequence each was at (PackVersions.reserve);
   * the others are left out of the answer.
   */
  reserveVersionsAt(names: readonly string[], version: number): Reservations {
    return this.#reserved.reserveAt(names, version);
  }

  /**
   * recordStaged for many files: a run of them per statement, as JSON
   * (json-rows.ts; role names, expiries and digests are printable ASCII), so
   * a pack of 128 bins is recorded in one statement. `packSlice`: the slice
   * of the pack a top-level bin's file is in (none: a file of its own).
   */
  recordStagedMany(files: ReadonlyArray<RoleVersion & { name: string; seenSeq: number; packSlice?: number }>): void {
    const cells = (f: RoleVersion & { name: string; seenSeq: number; packSlice?: number }) => [
      f.name,
      f.version,
      f.expires,
      f.length,
      f.sha256,
      f.seenSeq,
      f.packSlice ?? null,
    ];
    for (const run of jsonRuns(files, cells)) {
      if (!run.rows) {
        for (const f of run.items) this.recordStaged(f.name, f, f.seenSeq, f.packSlice ?? null);
        continue;
      }
      const rows = jsonArray(run.rows);
      this.#reserved.stageRun(rows);
      this.#changes.settle(rows);
    }
  }

  /**
   * Records a stored file (of its own, or in the pack of slice `packSlice`)
   * at the version reserved for it (a role without a row in `roles` is left
   * alone). If the role changed again after its rows were read (its seq
   * moved), it stays changed for the next round.
   */
  recordStaged(name: string, staged: RoleVersion, seenSeq: number, packSlice: number | null = null): void {
    this.#reserved.stage(name, staged, packSlice);
    this.#changes.settleOne(name, seenSeq);
  }

  /**
   * Every targets role (targets and bins) with the version the next snapshot lists; a role added while
   * a round runs (a delegation) has no version yet and waits for the next round. In the order of the
   * snapshot's keys (`name.json`), the order the snapshot lists them in (snapshot-parts.ts joins the
   * same members in SQLite when no name needs escaping).
   */
  *currentVersions(): Generator<[string, number]> {
    const rows = this.#sql.exec<{ name: string; v: number }>(
      `SELECT roles.name AS name, ${LISTED_VERSION} AS v FROM ${ROLES_WITH_RESERVED}
       WHERE roles.name NOT IN ('snapshot', 'timestamp') AND ${LISTED_VERSION} > 0 ORDER BY roles.name || '.json'`,
    );
    for (const row of rows) yield [row.name, row.v];
  }

  /**
   * Files the round under way stored, for the transparency log: the first
   * `limit` staged roles in name order (all of them without one).
   */
  stagedFiles(limit?: number): Array<{ role: string; version: number; sha256: string; length: number }> {
    return this.#reserved.staged(limit);
  }

  /**
   * Marks the round under way as committing: its timestamp is stored, and
   * what remains is to make its staged versions current (round-commit.ts).
   * Call it in the synchronous block that records the timestamp as staged.
   */
  startCommit(): void {
    this.#setState("round_committing", 1);
  }

  /** Whether the round under way has stored its timestamp and is making its versions current. */
  committing(): boolean {
    return this.#state("round_committing") === 1;
  }

  /**
   * Makes current the staged versions of every role whose name sorts at or
   * before `through` (a part of a committing round: its first staged roles
   * in name order, the last of them `through`): each one's row of `roles`
   * takes its staged file and the highest version reserved for it, and its
   * row of `reserved_versions` goes (a reservation without a file stays).
   */
  commitStaged(through: string): void {
    this.#reserved.commit(through);
  }

  /** Ends the round under way once every staged version is current: the changes it carried are published. */
  endRound(): void {
    this.#setState("published_seq", this.#state("round_seq"));
    this.#setState("round_active", 0);
    this.#setState("round_committing", 0);
  }

  published(name: string): RoleVersion | null {
    const row = this.#sql.exec<RoleRow>("SELECT * FROM roles WHERE name = ? AND version > 0", name).toArray()[0];
    if (!row) return null;
    if (row.expires === null || row.length === null || row.sha256 === null) {
      throw new Error(`role ${name} v${row.version} is published without its expiry, length or digest`);
    }
    return { version: row.version, expires: row.expires, length: row.length, sha256: row.sha256 };
  }

  /** Published roles the service signs, whose expiry is earliest first (for health and re-signing). */
  earliestExpiries(limit: number): Array<{ name: string; version: number; expires: string }> {
    return this.#sql
      .exec<{ name: string; version: number; expires: string }>(
        `SELECT name, version, expires FROM roles WHERE version > 0
           AND name NOT IN (${OFFLINE_ROLE_NAMES}) ORDER BY expires ${sqlLimit(limit)}`,
      )
      .toArray();
  }

  #state(key: string): number {
    return readState(this.#sql, key);
  }

  #setState(key: string, value: number): void {
    writeState(this.#sql, key, value);
  }
}
