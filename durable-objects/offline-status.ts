/**
 * What the service tells about offline roles and their owners
 * (docs/operators.md §12): each offline delegation's changes waiting, drafts
 * and earliest expiry in the delegations' list (annotate), a status warning
 * per role whose owners have changes to sign (reminders), and, once per role
 * version, an audit-log notice that a role its owners sign is about to
 * expire (remindExpiring): the service cannot re-sign it.
 */
import { dictionary } from "../src/lib/dictionary.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Draft, OfflineDrafts } from "./offline-drafts.ts";
import type { OfflineQueue } from "./offline-queue.ts";
import type { OfflineRoles } from "./offline-roles.ts";

export interface OfflineStatusDeps {
  sql: SqlStorage;
  /** Remembers which role versions' expiry the audit log already announced. */
  kv: SyncKvStorage;
  audit: AuditLog;
  roles: Pick<OfflineRoles, "owners" | "current" | "expiries" | "rolesOf">;
  queue: Pick<OfflineQueue, "pendingCount">;
  drafts: Pick<OfflineDrafts, "pinned">;
}

export class OfflineStatus {
  readonly #deps: OfflineStatusDeps;

  constructor(deps: OfflineStatusDeps) {
    this.#deps = deps;
  }

  /** Per offline role with pending changes or a draft: how many changes, since when, and the draft's progress. */
  #summaries(): Array<{ role: string; pending: number; since: number | null; draft: Draft | null }> {
    const roles = this.#deps.sql
      .exec<{ role: string }>("SELECT role FROM offline_pending UNION SELECT role FROM offline_drafts ORDER BY role")
      .toArray();
    return roles.map(({ role }) => {
      const { n, since } = this.#deps.sql
        .exec<{ n: number; since: number | null }>(
          "SELECT COUNT(*) AS n, MIN(at) AS since FROM offline_pending WHERE role = ?",
          role,
        )
        .one();
      return { role, pending: n, since, draft: this.#deps.drafts.pinned(role) };
    });
  }

  /** What status shows the owners of each offline role: changes waiting for their signatures, and the draft's progress. */
  reminders(): string[] {
    const lines: string[] = [];
    for (const s of this.#summaries()) {
      const owners = this.#deps.roles.owners(s.role);
      if (!owners || (s.pending === 0 && !s.draft?.signatures.length)) continue;
      const next = this.#deps.roles.current(s.role) + 1;
      const since = s.since === null ? "" : ` since ${new Date(s.since).toISOString()}`;
      const signed = s.draft ? `, ${s.draft.signatures.length} of ${owners.threshold} signatures collected` : "";
      lines.push(
        `delegation ${s.role}: ${s.pending} change(s) wait for its owners${since}: fetch the draft of version ${next} (tuf-edge delegation draft ${delegationOf(s.role)}), sign it and submit the signatures${signed}`,
      );
    }
    return lines;
  }

  /**
   * Tells the owners, through the audit log, once per role version, that an
   * offline role expires within `windowMs` (the service cannot re-sign it;
   * status and health carry the same warning while it lasts).
   */
  remindExpiring(now: number, windowMs: number): void {
    for (const e of this.#deps.roles.expiries()) {
      if (Date.parse(e.expires) - now > windowMs) break;
      const key = `offline-expiry-announced:${e.name}`;
      if (this.#deps.kv.get(key) === e.version) continue;
      this.#deps.audit.record(
        "delegation-expiring",
        e.name === "targets"
          ? targetsExpiring(e)
          : `${e.name} version ${e.version} expires at ${e.expires}: its owners sign and submit version ${e.version + 1} (tuf-edge delegation draft ${delegationOf(e.name)}${this.#inBins(e.name) ? " --renew" : ""}; with nothing pending, the draft re-signs the same targets)`,
      );
      this.#deps.kv.put(key, e.version);
    }
  }

  /** Whether `role` is an offline delegation with bins, or one of its bins (their drafts are made with --renew when nothing is pending). */
  #inBins(role: string): boolean {
    return role.includes(".") || this.#deps.roles.rolesOf(role)?.succinct !== undefined;
  }

  /** Adds, to each offline delegation's view, its published expiry, pending changes and draft. */
  annotate<T extends { name: string; signing: string }>(views: T[]): T[] {
    const expiries = dictionary<string>();
    for (const e of this.#deps.roles.expiries()) expiries[e.name] = e.expires;
    const summary = (draft: Draft) => ({
      version: draft.version,
      sha256: draft.sha256,
      signatures: draft.signatures.map((s) => s.keyid),
      frozen: draft.signatures.length > 0,
    });
    return views.map((v) => {
      if (v.signing !== "offline") return v;
      const draft = this.#deps.drafts.pinned(v.name);
      // A delegation with bins (offline-bins.ts): each bin's draft, and the earliest expiry among its roles.
      const bins = (this.#deps.roles.rolesOf(v.name)?.roles ?? []).slice(1);
      const binDrafts = bins.flatMap((role) => {
        const pinned = this.#deps.drafts.pinned(role);
        return pinned ? [{ role, ...summary(pinned) }] : [];
      });
      const expires = [v.name, ...bins].flatMap((role) => (expiries[role] ? [expiries[role]] : [])).sort()[0];
      return {
        ...v,
        ...(expires ? { expires } : {}),
        pending: this.#deps.queue.pendingCount(v.name),
        ...(draft ? { draft: summary(draft) } : {}),
        ...(bins.length > 0 ? { binDrafts } : {}),
      };
    });
  }
}

/** The notice that top-level `targets`, signed offline in protected-delegations mode (protected-targets.ts), expires soon. */
export function targetsExpiring(targets: { version: number; expires: string }): string {
  return `targets version ${targets.version} expires at ${targets.expires}: it is signed offline, so its key holders sign a targets-refresh ceremony (tuf-edge delegation refresh)`;
}

/** The delegation a role belongs to: itself, or the delegation whose bin it is (`<name>.bins-XX`). */
function delegationOf(role: string): string {
  return role.split(".")[0] as string;
}
