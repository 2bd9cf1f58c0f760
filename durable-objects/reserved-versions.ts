/**
 * `reserved_versions` (migration 29): the version reserved for a role and not
 * yet current, and once its file is stored, that file (staged). A round
 * reserves a role's version before anything is signed with it, records the
 * stored file here, and only its commit writes the role's row of `roles`:
 * once a round, not three times (docs/measured.md, "Reserved versions in a
 * table of their own"). Only the roles of the round under way have a row,
 * and a reservation a failed step or an offline draft left until the role's
 * next version is made current, so a round's statements here read few rows.
 * RoleTable (role-table.ts) keeps the rest of a role's state and calls
 * these; PackVersions reserves a round's pack version through RoleTable. All
 * methods are synchronous SQL.
 */
import { CLAIMED, SIGNED_IN_STEPS, seqOf } from "./role-changes.ts";
import type { RoleVersion } from "./role-table.ts";
import { sqlLimit } from "./stable-plans.ts";

/** Versions reserved for roles, by name, each with the change sequence the role was at. */
export type Reservations = Map<string, { version: number; seq: number }>;

/** A row whose file is stored (staged), not only reserved. */
const STAGED = "staged_version IS NOT NULL";

/**
 * Every role's row of `roles` with its row of `reserved_versions` (`r`), if
 * it has one. A statement on these names `roles.name`.
 */
export const ROLES_WITH_RESERVED = "roles LEFT JOIN reserved_versions AS r ON r.name = roles.name";

/**
 * In a statement on ROLES_WITH_RESERVED: the highest version the role had or
 * was reserved, which is never handed out again (a staged version was
 * reserved first, so `r.allocated` is at least `r.staged_version`; `roles`
 * keeps the highest of those made current, and of reservations made before
 * migration 29).
 */
const HIGHEST = "MAX(roles.allocated, roles.version, IFNULL(r.allocated, 0))";

/**
 * The staged roles, each with its row of `roles`: the rows of
 * `reserved_versions` with a file (`r`) read first (CROSS JOIN keeps that
 * order), each role's row then found by name, so a statement reads the
 * round's roles, not all of them. A statement on these says STAGED_ROW.
 */
export const STAGED_WITH_ROLES = "reserved_versions AS r CROSS JOIN roles ON roles.name = r.name";
export const STAGED_ROW = "r.staged_version IS NOT NULL";

/** In a statement on ROLES_WITH_RESERVED: the version the next snapshot lists (0: none yet). */
export const LISTED_VERSION = "IFNULL(r.staged_version, roles.version)";

/** A reservation of a version (`?1`) or of each role's next one, returned with the role's change sequence. */
const RESERVE_CONFLICT = `ON CONFLICT (name) DO UPDATE SET allocated = excluded.allocated
  RETURNING name, allocated, ${seqOf("reserved_versions.name")} AS seq`;

/** A staged file's row (`excluded`: the row an upsert would have inserted); its version was reserved first. */
const STAGE = `INSERT INTO reserved_versions (name, allocated, staged_version, staged_expires, staged_length,
  staged_sha256, staged_pack_slice)`;
const STAGE_CONFLICT = `ON CONFLICT (name) DO UPDATE SET allocated = MAX(allocated, excluded.allocated),
  staged_version = excluded.staged_version, staged_expires = excluded.staged_expires,
  staged_length = excluded.staged_length, staged_sha256 = excluded.staged_sha256,
  staged_pack_slice = excluded.staged_pack_slice`;

function reservations(rows: Iterable<{ name: string; allocated: number; seq: number }>): Reservations {
  const out: Reservations = new Map();
  for (const row of rows) out.set(row.name, { version: row.allocated, seq: row.seq });
  return out;
}

export class ReservedVersions {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /**
   * Reserves the next version of each of `names` that has a row in `roles`,
   * in one statement (at most 32 names, within SQLite's bound-parameter
   * limit), with the change sequence each was at.
   */
  reserveNext(names: readonly string[]): Reservations {
    if (names.length === 0) return new Map();
    // A lone name is looked up as `= +?`, which keeps the statement's plan from one run to the next (stable-plans.ts).
    const which = names.length === 1 ? "= +?" : `IN (${names.map(() => "?").join(", ")})`;
    return reservations(
      this.#sql.exec<{ name: string; allocated: number; seq: number }>(
        `INSERT INTO reserved_versions (name, allocated)
           SELECT roles.name, ${HIGHEST} + 1 FROM ${ROLES_WITH_RESERVED} WHERE roles.name ${which}
         ${RESERVE_CONFLICT}`,
        ...names,
      ),
    );
  }

  /** The highest version any of `names` had or was reserved (0 for none). */
  highest(names: readonly string[]): number {
    return (
      this.#sql
        .exec<{ v: number | null }>(
          `SELECT MAX(${HIGHEST}) AS v FROM ${ROLES_WITH_RESERVED} WHERE roles.name IN (SELECT value FROM json_each(?))`,
          JSON.stringify(names),
        )
        .one().v ?? 0
    );
  }

  /**
   * Reserves `version` for each of `names` whose highest version is below it,
   * in one statement for any number of names (one JSON array): the others
   * are left out of the answer.
   */
  reserveAt(names: readonly string[], version: number): Reservations {
    if (names.length === 0) return new Map();
    return reservations(
      this.#sql.exec<{ name: string; allocated: number; seq: number }>(
        `INSERT INTO reserved_versions (name, allocated)
           SELECT roles.name, ?1 FROM ${ROLES_WITH_RESERVED}
           WHERE roles.name IN (SELECT value FROM json_each(?2)) AND ${HIGHEST} < ?1
         ${RESERVE_CONFLICT}`,
        version,
        JSON.stringify(names),
      ),
    );
  }

  /** Stages `file` for each of `names` in one statement, all at its version, in `packSlice`. */
  stageShared(names: readonly string[], file: RoleVersion, packSlice: number): void {
    this.#sql.exec(
      `${STAGE} SELECT value, ?1, ?1, ?2, ?3, ?4, ?5 FROM json_each(?6) WHERE true ${STAGE_CONFLICT}`,
      file.version,
      file.expires,
      file.length,
      file.sha256,
      packSlice,
      JSON.stringify(names),
    );
  }

  /** Stages role `name`'s file, of its own (`packSlice` null) or in a pack; a role without a row in `roles` is left alone. */
  stage(name: string, file: RoleVersion, packSlice: number | null): void {
    this.#sql.exec(
      `${STAGE} SELECT name, ?1, ?1, ?2, ?3, ?4, ?5 FROM roles WHERE name = ?6 ${STAGE_CONFLICT}`,
      file.version,
      file.expires,
      file.length,
      file.sha256,
      packSlice,
      name,
    );
  }

  /**
   * stage() for a run of files in one statement: `rows`, a JSON array of
   * [name, version, expires, length, sha256, _, packSlice] (json-rows.ts).
   */
  stageRun(rows: string): void {
    this.#sql.exec(
      `WITH staged (name, version, expires, length, sha256, slice) AS (
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 6 FROM json_each(?))
       ${STAGE} SELECT name, version, version, expires, length, sha256, slice FROM staged
         WHERE name IN (SELECT name FROM roles)
       ${STAGE_CONFLICT}`,
      rows,
    );
  }

  /** The first `limit` staged files in name order (all of them without one). */
  staged(limit?: number): Array<{ role: string; version: number; sha256: string; length: number }> {
    return this.#sql
      .exec<{ role: string; version: number; sha256: string; length: number }>(
        `SELECT name AS role, staged_version AS version, staged_sha256 AS sha256, staged_length AS length
         FROM reserved_versions WHERE ${STAGED} ORDER BY name${limit === undefined ? "" : ` ${sqlLimit(limit)}`}`,
      )
      .toArray();
  }

  /** Staged files of roles other than snapshot and timestamp that the round under way no longer claims. */
  stagedCount(): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM reserved_versions AS r WHERE ${STAGED} AND ${SIGNED_IN_STEPS}
           AND NOT EXISTS (SELECT 1 FROM role_changes AS c WHERE c.name = r.name AND c.${CLAIMED})`,
      )
      .one().n;
  }

  /**
   * Makes current the staged files of the roles whose names sort at or
   * before `through`: each one's row of `roles` takes its file and the
   * highest version reserved for it, and its row here goes (a reservation
   * without a file stays).
   */
  commit(through: string): void {
    this.#sql.exec(
      `UPDATE roles SET version = r.staged_version, expires = r.staged_expires, length = r.staged_length,
         sha256 = r.staged_sha256, pack_slice = r.staged_pack_slice, allocated = MAX(roles.allocated, r.allocated)
       FROM reserved_versions AS r WHERE r.name = roles.name AND r.${STAGED} AND r.name <= ?`,
      through,
    );
    this.#sql.exec(`DELETE FROM reserved_versions WHERE ${STAGED} AND name <= ?`, through);
  }
}
