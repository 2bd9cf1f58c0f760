/**
 * `role_changes` (migration 28): the roles changed since their last version
 * or claimed by the round under way (`dirty` 1 or 2), each with the change
 * (`seq`) that last touched it. A role without a row is not changed. Only
 * these roles have a row, a few pages in all, so marking the bins a group of
 * pushes changed, or claiming a round's, writes those pages and not a page
 * of `roles` per bin (docs/measured.md, "Marks in a table of their own").
 * RoleTable (role-table.ts) keeps the rest of a role's state and calls these.
 * All methods are synchronous SQL.
 */
import { jsonArray, jsonRuns } from "./json-rows.ts";
import { sqlLimit } from "./stable-plans.ts";

/** A role the round under way claimed, and the length of its published file (0: none yet). */
export interface ClaimedRole {
  name: string;
  length: number;
}

/** Claimed by the round under way (a row of role_changes; role_changes_by_mark finds them in name order). */
export const CLAIMED = "dirty = 2";
/** Not a role every round rebuilds (snapshot and timestamp). */
export const SIGNED_IN_STEPS = "name NOT IN ('snapshot', 'timestamp')";
/**
 * In a statement on a table of roles (`roles`, `reserved_versions`), the seq
 * in role_changes of the role named by column `name` (0 when it has none):
 * what a round reads with a role's rows, and compares when it records the
 * role's file staged.
 */
export const seqOf = (name: string) => `IFNULL((SELECT seq FROM role_changes AS c WHERE c.name = ${name}), 0)`;

/**
 * Marks one role changed by change `seq` (a role without a row in roles is
 * left alone): a role already changed keeps its mark and takes the new seq; a
 * claimed one stays claimed, and its new seq keeps it changed after the
 * round stages it (settle).
 */
const MARK_ONE = `INSERT INTO role_changes (name, dirty, seq) SELECT name, 1, ? FROM roles WHERE name = ?
  ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`;

export class RoleChanges {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Marks role `name` changed by change `seq`, as MARK_ONE says. */
  mark(name: string, seq: number): void {
    this.#sql.exec(MARK_ONE, seq, name);
  }

  /**
   * Marks each role changed by its own change (name → seq) as mark() does,
   * but leaves a role already changed as it is (no page written for it): the
   * round that claims it reads its rows and its seq then. A run of them per
   * statement, as JSON (json-rows.ts), a name JSON does not carry exactly on
   * its own. Roles already changed are passed over before the insert, not by
   * its conflict clause: an import's batches touch most bins again and
   * again, and a conflict costs twice the lookup.
   */
  markEach(changes: ReadonlyMap<string, number>): void {
    for (const run of jsonRuns([...changes], ([name, seq]) => [name, seq])) {
      if (run.rows)
        this.#sql.exec(
          `INSERT INTO role_changes (name, dirty, seq)
           SELECT roles.name, 1, changed.value ->> 1 FROM json_each(?) AS changed JOIN roles ON roles.name = changed.value ->> 0
           WHERE NOT EXISTS (SELECT 1 FROM role_changes AS m WHERE m.name = roles.name AND m.dirty = 1)
           ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE dirty <> 1`,
          jsonArray(run.rows),
        );
      else for (const [name, seq] of run.items) this.#sql.exec(`${MARK_ONE} WHERE dirty <> 1`, seq, name);
    }
  }

  /** Whether any role is changed or claimed (snapshot and timestamp included). */
  any(): boolean {
    return this.#sql.exec("SELECT 1 FROM role_changes LIMIT 1").toArray().length > 0;
  }

  /** Whether the round under way has roles left to sign (snapshot and timestamp aside). */
  anyClaimed(): boolean {
    return (
      this.#sql.exec(`SELECT 1 FROM role_changes WHERE ${CLAIMED} AND ${SIGNED_IN_STEPS} LIMIT 1`).toArray().length > 0
    );
  }

  /** A new round claims every changed role. */
  claimAll(): void {
    this.#sql.exec("UPDATE role_changes SET dirty = 2 WHERE dirty = 1");
  }

  /**
   * The next `limit` claimed roles, in name order (snapshot and timestamp
   * aside), each with the length of its published file (0 for one with
   * none): what a step cuts its packs of bins by (pack-versions.ts).
   */
  claimed(limit: number): ClaimedRole[] {
    return this.#sql
      .exec<{ name: string; length: number }>(
        `SELECT name, IFNULL((SELECT length FROM roles WHERE roles.name = role_changes.name), 0) AS length
         FROM role_changes WHERE ${CLAIMED} AND ${SIGNED_IN_STEPS} ORDER BY name ${sqlLimit(limit)}`,
      )
      .toArray();
  }

  /** Roles changed or claimed (snapshot and timestamp aside). */
  count(): number {
    return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM role_changes WHERE ${SIGNED_IN_STEPS}`).one().n;
  }

  /**
   * The marks of roles whose files are staged, given as JSON rows with the
   * name first and the seq their rows were read at sixth: a role no change
   * touched since is no longer changed (its row leaves role_changes); one
   * that changed again meanwhile stays changed for the next round.
   */
  settle(rows: string): void {
    this.#sql.exec(
      "DELETE FROM role_changes WHERE (name, seq) IN (SELECT value ->> 0, value ->> 5 FROM json_each(?))",
      rows,
    );
    this.#sql.exec(
      `UPDATE role_changes SET dirty = 1 WHERE ${CLAIMED} AND name IN (SELECT value ->> 0 FROM json_each(?))`,
      rows,
    );
  }

  /** settle() for one role, with bound parameters (a name JSON does not carry exactly). */
  settleOne(name: string, seenSeq: number): void {
    this.#sql.exec("DELETE FROM role_changes WHERE name = ? AND seq = ?", name, seenSeq);
    this.#sql.exec(`UPDATE role_changes SET dirty = 1 WHERE ${CLAIMED} AND name = ?`, name);
  }
}
