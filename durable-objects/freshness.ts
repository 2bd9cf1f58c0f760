/**
 * Keeping online metadata fresh. Each role is re-signed `refreshMargin`
 * seconds before it expires; the repository's alarm is set for the earliest
 * such deadline, and the cron trigger wakes every repository as a safety net.
 *
 * Bin expiries are staggered by bin index over half their validity, so that
 * 16,384 bins signed together (after a key rotation, or when the bins'
 * shared version 1 from bootstrap comes due, all at once that one time)
 * come due a few at a time afterwards; a pass marks at most
 * `binsPerInvocation` of them. A pass also takes the bins that would come due
 * within the next quarter margin, so that one alarm serves a batch of bins
 * rather than each bin waking the repository on its own.
 */
import { formatExpires } from "../src/tuf/metadata.ts";
import { OFFLINE_ROLE_NAMES } from "./offline-roles.ts";
import { ROUND_ROLES, type RoleTable } from "./role-table.ts";
import { refreshMargin, type Settings } from "./settings.ts";
import { sqlLimit } from "./stable-plans.ts";

/** The expiry of bin `index` of `count`, signed at `now`. */
export function binExpiry(now: Date, validitySeconds: number, index: number, count: number): string {
  const spread = Math.floor((index * (validitySeconds / 2)) / count);
  return formatExpires(new Date(now.getTime() + (validitySeconds - spread) * 1000));
}

const iso = (ms: number) => formatExpires(new Date(ms));

/** Roles their owners sign offline (delegations.ts, their bins too): the service cannot re-sign them, so they are never due here. */
const OFFLINE_ROLES = OFFLINE_ROLE_NAMES;

/** Whether top-level targets is signed offline (protected-targets.ts): then the service never re-signs it either. */
const TARGETS_OFFLINE = "SELECT 1 FROM offline_roles WHERE name = 'targets'";

export class Freshness {
  readonly #sql: SqlStorage;
  readonly #roles: RoleTable;

  constructor(sql: SqlStorage, roles: RoleTable) {
    this.#sql = sql;
    this.#roles = roles;
  }

  /**
   * Marks the roles that are due for re-signing as changed, and returns them
   * (with "timestamp" when only a new timestamp and snapshot are due).
   * Timestamp and snapshot are re-signed by any round.
   */
  markDue(settings: Settings, now: Date, seq: number): string[] {
    const at = (role: "timestamp" | "snapshot" | "targets" | "bins") => {
      const margin = refreshMargin(settings, role);
      const batching = role === "bins" || role === "targets" ? margin / 4 : 0;
      return iso(now.getTime() + (margin + batching) * 1000);
    };
    const due = this.#sql
      .exec<{ name: string }>(
        `SELECT name FROM roles
         WHERE version > 0 AND name NOT IN ('targets', 'snapshot', 'timestamp')
           AND NOT EXISTS (SELECT 1 FROM reserved_versions AS r WHERE r.name = roles.name AND r.staged_version IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM role_changes AS c WHERE c.name = roles.name)
           AND name NOT IN (${OFFLINE_ROLES}) AND expires <= ?
         ORDER BY expires ${sqlLimit(settings.binsPerInvocation)}`,
        at("bins"),
      )
      .toArray()
      .map((r) => r.name);
    const targets = this.#targetsOnline() ? this.#roles.published("targets") : null;
    if (targets && targets.expires <= at("targets")) due.push("targets");
    const timestamp = this.#roles.published("timestamp");
    const snapshot = this.#roles.published("snapshot");
    const roundDue =
      due.length > 0 ||
      (timestamp !== null && timestamp.expires <= at("timestamp")) ||
      (snapshot !== null && snapshot.expires <= at("snapshot"));
    if (!roundDue) return [];
    this.#roles.markDirty([...due, ...ROUND_ROLES], seq);
    return due.length > 0 ? due : ["timestamp"];
  }

  /** When the next role comes due (ms since the epoch), or null if nothing is published. */
  nextDeadline(settings: Settings): number | null {
    const margin = (role: "timestamp" | "snapshot" | "targets" | "bins") => refreshMargin(settings, role) * 1000;
    const candidates: number[] = [];
    for (const role of ["timestamp", "snapshot", "targets"] as const) {
      if (role === "targets" && !this.#targetsOnline()) continue;
      const published = this.#roles.published(role);
      if (published) candidates.push(Date.parse(published.expires) - margin(role));
    }
    const firstBin = this.#sql
      .exec<{ expires: string }>(
        `SELECT expires FROM roles WHERE version > 0 AND name NOT IN ('targets', 'snapshot', 'timestamp')
           AND name NOT IN (${OFFLINE_ROLES}) ORDER BY expires LIMIT 1`,
      )
      .toArray()[0];
    if (firstBin) candidates.push(Date.parse(firstBin.expires) - margin("bins"));
    return candidates.length ? Math.min(...candidates) : null;
  }

  #targetsOnline(): boolean {
    return this.#sql.exec(TARGETS_OFFLINE).toArray().length === 0;
  }

  /** Per role: when it will be re-signed (for status and health). */
  nextResign(settings: Settings, role: "timestamp" | "snapshot" | "targets" | "bins", expires: string): string {
    return iso(Date.parse(expires) - refreshMargin(settings, role) * 1000);
  }
}
