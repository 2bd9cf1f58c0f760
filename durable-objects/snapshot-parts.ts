/**
 * The snapshot's `meta`, kept joined in parts: a round rejoins only the parts
 * holding the roles it staged, not every role of the repository.
 *
 * The snapshot lists every targets role (targets, every bin, every
 * delegation) with its version: `"name.json":{"version":N}`, in canonical key
 * order. Joining all of them reads and sorts every role each round, whatever
 * the round changed: at 16,384 bins and 100 targets/s, rounds of about 15
 * files, the bench's profile put that statement first, 19.4 % of the
 * isolate's busy time (docs/measured.md, "A round reads what it changed"). Here the
 * listed roles are split, in canonical key order, into parts of PART_ROLES
 * roles (`roles.part`), and each part's members are kept joined in
 * `snapshot_parts` (migration 23). A round rejoins the parts
 * of its staged roles, the only roles whose listed version it changes
 * (RoleTable.recordStaged, a row of `reserved_versions`; commitRound makes
 * the staged version the published one, which lists the same number), then
 * joins the parts.
 *
 * A listed role with no part yet (bootstrap's bins, a delegation's first
 * version, a repository from before the parts) makes the next round split
 * every listed role afresh: parts are ranges of the canonical order, and a
 * role can only join one at its place by renumbering those after it. Listed
 * roles are never unlisted (versions only grow; a removed delegation stays
 * listed), so a part never loses a role between two splits.
 *
 * Canonical JSON and JSON.stringify write a member alike when the name is
 * printable ASCII without `"` or `\`, and SQLite's byte order of such keys is
 * the canonical order, so one text (read as bytes) is both the signed and
 * the served form (the snapshot is served in canonical key order); a part
 * records whether all its names are such, and joined() declines otherwise:
 * the caller assembles the members one by one (RoleTable.currentVersions).
 */
import type { Joined } from "../src/tuf/assembled.ts";
import { LISTED_VERSION, ROLES_WITH_RESERVED, STAGED_ROW, STAGED_WITH_ROLES } from "./reserved-versions.ts";

/** Roles per part: about 4.5 KB of members for top-level bins, a page or two of SQLite rewritten when one of them changes. */
export const PART_ROLES = 128;

/**
 * Parts rejoined in one block (one statement), 2,048 roles: a round of a few
 * thousand files at 16,384 bins changes nearly every part, and rejoining all
 * 129 at once held the object for 20–47 ms in the profiles' longest
 * stretches (docs/measured.md, "The snapshot's parts rejoined in turns").
 */
export const REJOIN_PARTS = 16;

/**
 * In a statement on ROLES_WITH_RESERVED, roles the snapshot lists: every
 * targets role with a version (snapshot and timestamp are not in its `meta`).
 */
const LISTED = `roles.name NOT IN ('snapshot', 'timestamp') AND ${LISTED_VERSION} > 0`;
const MEMBER = `'"' || roles.name || '.json":{"version":' || ${LISTED_VERSION} || '}'`;
const PLAIN = `NOT (roles.name GLOB '*[^ -~]*' OR instr(roles.name, '"') > 0 OR instr(roles.name, '\\') > 0)`;
const JOIN = `group_concat(${MEMBER}, ',' ORDER BY roles.name || '.json')`;

export class SnapshotParts {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /**
   * The `meta` members of the snapshot that lists the roles' versions now
   * (staged ones included), comma-separated without the braces, as signed
   * and as served, in UTF-8; null if some role's name needs escaping.
   */
  async joined(next: () => Promise<void>): Promise<Joined | null> {
    if (this.#unparted()) this.#split();
    else await this.#rejoinStaged(next);
    // As bytes (the parts' UTF-8 text, joined): signJoined copies them into the file, and the ~540 KB at
    // 16,384 bins never become a string (assembled.ts, Joined).
    const row = this.#sql
      .exec<{ members: ArrayBuffer | null; plain: number }>(
        `SELECT CAST(group_concat(members, ',' ORDER BY part) AS BLOB) AS members, IFNULL(MIN(plain), 1) AS plain
         FROM snapshot_parts`,
      )
      .one();
    if (row.plain === 0) return null;
    const members = new Uint8Array(row.members ?? new ArrayBuffer(0));
    return { canonical: members, json: members };
  }

  /** Whether a listed role has no part yet (the partial index of roles without a part holds few rows). */
  #unparted(): boolean {
    return (
      this.#sql.exec(`SELECT 1 FROM ${ROLES_WITH_RESERVED} WHERE roles.part IS NULL AND ${LISTED} LIMIT 1`).toArray()
        .length > 0
    );
  }

  /** Splits every listed role into parts afresh, in canonical key order, and joins each part. */
  #split(): void {
    this.#sql.exec("UPDATE roles SET part = NULL WHERE part IS NOT NULL");
    this.#sql.exec(
      `UPDATE roles SET part = ranked.rank / ${PART_ROLES}
       FROM (SELECT roles.name AS name, row_number() OVER (ORDER BY roles.name || '.json') - 1 AS rank
             FROM ${ROLES_WITH_RESERVED} WHERE ${LISTED}) AS ranked
       WHERE roles.name = ranked.name`,
    );
    this.#sql.exec("DELETE FROM snapshot_parts");
    this.#sql.exec(
      `INSERT INTO snapshot_parts (part, members, plain)
       SELECT roles.part, ${JOIN}, MIN(${PLAIN}) FROM ${ROLES_WITH_RESERVED}
       WHERE roles.part IS NOT NULL AND ${LISTED} GROUP BY roles.part`,
    );
  }

  /**
   * Rejoins the parts that hold a staged role, REJOIN_PARTS at a time,
   * waiting for the object's next turn (`next`) between two. Only a round
   * stages, and its finish calls this, so what is staged stays as it is
   * meanwhile. The staged roles are read first (STAGED_WITH_ROLES), each
   * role's part then found by name; `+part` keeps SQLite from taking the parts' index instead,
   * whose condition `part IS NOT NULL` would otherwise match too and which
   * holds every listed role: the search `part>?` then read all of them each
   * round, whatever the round staged (test/worker/role-table-plans.test.ts).
   */
  async #rejoinStaged(next: () => Promise<void>): Promise<void> {
    const parts = this.#sql
      .exec<{ part: number }>(
        `SELECT DISTINCT roles.part AS part FROM ${STAGED_WITH_ROLES}
         WHERE ${STAGED_ROW} AND +roles.part IS NOT NULL ORDER BY 1`,
      )
      .toArray()
      .map((row) => row.part);
    for (let i = 0; i < parts.length; i += REJOIN_PARTS) {
      if (i > 0) await next();
      const some = parts.slice(i, i + REJOIN_PARTS);
      this.#sql.exec(
        `UPDATE snapshot_parts SET (members, plain) =
           (SELECT ${JOIN}, MIN(${PLAIN}) FROM ${ROLES_WITH_RESERVED}
            WHERE roles.part = snapshot_parts.part AND ${LISTED})
         WHERE part IN (${some.map(() => "?").join(", ")})`,
        ...some,
      );
    }
  }
}
