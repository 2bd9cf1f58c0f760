/**
 * Moving the targets a change of the delegation tree reaches
 * (delegation-reach.ts) to the role that claims them now, inside the
 * change's transaction (Delegations.#change): counted first, so a change
 * that would read too many is refused before anything is written; then read
 * a page at a time in path order, each placed by the new tree. A target no
 * role can hold, a held quarantined entry that would move into an offline
 * role's namespace, or a path an offline role's owners list or wait to sign
 * that would leave it refuses the whole change (Refused: the transaction
 * rolls back).
 */
import { fromUtf8 } from "../src/lib/bytes.ts";
import { failure } from "../src/repository-api.ts";
import { EVERY_TARGET, type Scan } from "./delegation-reach.ts";
import type { Assignment } from "./delegation-tree.ts";
import { OFFLINE_ROLE_NAMES, offlineNamespace } from "./offline-roles.ts";
import { Refused } from "./refused.ts";

/**
 * Targets a change of the tree reads at a time as it moves them: the rows
 * are read a page at a time in path order, so a repository of any size
 * never has its targets in the heap at once (128 MB per isolate), only a
 * page of them and the roles they touch.
 */
export const REASSIGN_PAGE = 4_096;

/**
 * The most targets one change of the tree reads. Each is placed in
 * JavaScript (its path's SHA-256, the walk down the tree) within the
 * change's one request: 1,020,000 took 7.4–9.1 s until published on the
 * development machine (docs/measured.md, "Delegation changes read what
 * they can move"), so this many stay within the 30 s of CPU a request
 * gets (wrangler.toml). A change that would read more is refused before
 * anything is written, rather than reset by the platform half-way. (The
 * paths SQLite only tests against a pattern's GLOB are not counted: the
 * whole change with such a pass over 1,020,000 paths took 0.4 s.)
 */
export const REASSIGN_MAX = 2_000_000;

/** What the tree after the change says of a path, and what offline owners have signed. */
export interface MoveRules {
  /** Where a path is listed now (Delegations.assigner). */
  assign: (path: string) => Assignment;
  /** The newest version an offline role's owners signed, or null. */
  offlineFile: (role: string) => { version: number; bytes: Uint8Array } | null;
}

export class DelegationMoves {
  readonly #sql: SqlStorage;
  readonly #page: number;
  /** The most targets one change reads (REASSIGN_MAX; smaller in tests). */
  readonly max: number;

  constructor(deps: { sql: SqlStorage; page?: number; max?: number }) {
    const { sql, page = REASSIGN_PAGE, max = REASSIGN_MAX } = deps;
    for (const [name, value] of [
      ["page", page],
      ["max", max],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer, not ${value}`);
    }
    this.#sql = sql;
    this.#page = page;
    this.max = max;
  }

  /** How many rows the scans read (a row in two scans counted twice, as it is read twice). */
  count(reach: Scan[]): number {
    const count = (where: string, bindings: string[]) =>
      this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM targets WHERE ${where}`, ...bindings).one().n;
    let rows = 0;
    for (const scan of reach) {
      if (scan !== EVERY_TARGET) {
        rows += count(scan.where, scan.bindings);
        continue;
      }
      // The count the triggers keep (migration 17), not a scan of the table.
      const kept = this.#sql
        .exec<{ value: number }>("SELECT value FROM state WHERE key = 'targets_count'")
        .toArray()
        .at(0);
      rows += kept ? kept.value : count("1", []);
    }
    return rows;
  }

  /**
   * Moves the targets in `reach` whose role changed; returns the roles they left and joined. Throws Refused if one
   * cannot be placed. Each scan's rows are read a page at a time in path order, each page after the last path of
   * the one before: a move changes a row's bin, never its path, so no row is read twice or skipped (scans may
   * overlap: a row read again is already where it belongs).
   */
  move(reach: Scan[], rules: MoveRules): Set<string> {
    const { assign } = rules;
    const touched = new Set<string>();
    const place = (path: string, from: string): string | null => {
      const to = assign(path);
      if (to.unclaimable)
        throw new Refused(failure(409, "ambiguous_delegation", `target "${path}": ${to.unclaimable}`));
      if (to.bin === from) return null;
      if (to.offline) throw new Refused(offlineNamespace(to.offline, path));
      touched.add(from).add(to.bin);
      return to.bin;
    };
    type Row = { path: string; bin: string };
    for (const { where, bindings } of reach) {
      const page = `SELECT path, bin FROM targets WHERE (${where}) AND path > ? ORDER BY path LIMIT ${this.#page}`;
      for (let after = ""; ; ) {
        const rows: Row[] = this.#sql.exec<Row>(page, ...bindings, after).toArray();
        for (const { path, bin } of rows) {
          const to = place(path, bin);
          if (to) this.#sql.exec("UPDATE targets SET bin = ? WHERE path = ?", to, path);
        }
        const last: Row | undefined = rows.at(-1);
        if (!last || rows.length < this.#page) break;
        after = last.path;
      }
    }
    const held = this.#sql
      .exec<{ path: string; target: string }>("SELECT path, target FROM quarantine WHERE state = 'held'")
      .toArray();
    for (const { path, target } of held) {
      const entry = JSON.parse(target) as { bin: string };
      const to = place(path, entry.bin);
      if (to)
        this.#sql.exec("UPDATE quarantine SET target = ? WHERE path = ?", JSON.stringify({ ...entry, bin: to }), path);
    }
    this.#keepOfflineNamespaces(rules);
    return touched;
  }

  /**
   * Refuses a change that would take out of an offline role's namespace a
   * change accepted for its owners (offline-queue.ts: it stays there until
   * they sign it) or a path their newest version lists (only they can
   * re-sign it without that path).
   */
  #keepOfflineNamespaces({ assign, offlineFile }: MoveRules): void {
    const waiting = this.#sql
      .exec<{ role: string; path: string }>(
        "SELECT DISTINCT role, json_extract(event, '$.path') AS path FROM offline_pending",
      )
      .toArray();
    for (const { role, path } of waiting) {
      if (assign(path).offline === role) continue;
      throw new Refused(
        failure(
          409,
          "pending_changes",
          `target "${path}" waits for the owners of "${role}" to sign it: this change would take it out of their namespace; have them sign the draft first`,
        ),
      );
    }
    for (const { name: role } of this.#sql.exec<{ name: string }>(OFFLINE_ROLE_NAMES).toArray()) {
      const file = offlineFile(role);
      const listed = file ? (JSON.parse(fromUtf8(file.bytes)) as { signed: { targets: object } }).signed.targets : {};
      for (const path of Object.keys(listed)) {
        if (assign(path).offline === role) continue;
        throw new Refused(
          failure(
            409,
            "offline_namespace",
            `target "${path}" is listed by version ${file?.version} of "${role}", which its owners sign offline: this change would take it out of their namespace, and their next version could not list it; have them remove it first (a targets.remove waits for their next version)`,
          ),
        );
      }
    }
  }
}
