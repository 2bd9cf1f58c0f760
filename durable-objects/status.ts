/** A repository's status, as operators, the health endpoint and the CLI see it. */
import type { RepositoryStatus } from "../src/repository-api.ts";
import type { CeremonyBook } from "./ceremony-book.ts";
import type { Freshness } from "./freshness.ts";
import type { OfflineRoles } from "./offline-roles.ts";
import { type OfflineStatus, targetsExpiring } from "./offline-status.ts";
import type { KeyVault } from "./key-vault.ts";
import type { RoleTable } from "./role-table.ts";
import type { RootHistory } from "./root-history.ts";
import type { Settings } from "./settings.ts";
import type { TargetsIndex } from "./targets-index.ts";

export interface StatusSources {
  name: string;
  roots: RootHistory;
  settings: Settings | null;
  roles: RoleTable;
  freshness: Freshness;
  targets: TargetsIndex;
  vault: KeyVault;
  ceremonies: CeremonyBook;
  offlineRoles: Pick<OfflineRoles, "expiries">;
  /** Changes waiting for offline roles' owners, and their drafts' progress. */
  offlineStatus: Pick<OfflineStatus, "reminders">;
  lastFailure: { at: string; detail: string } | null;
  alarm: number | null;
  /** When a deferred import's stored batches are published at the latest (import-hold.ts), or null. */
  importHoldUntil: number | null;
  publishingBlocked: RepositoryStatus["publishingBlocked"];
  /** When the longest-waiting replaced file was replaced (superseded-files.ts), or null. */
  oldestSuperseded: number | null;
}

/** How long past its retention a replaced file may wait for deletion before status warns. */
const SUPERSEDED_LATE_MS = 3_600_000;

const ONLINE = ["targets", "snapshot", "timestamp"];

/** How long before an offline role expires status warns its owners (the service cannot re-sign it). */
export const OFFLINE_EXPIRY_WARNING_MS = 7 * 86_400_000;

export function repositoryStatus(s: StatusSources): RepositoryStatus {
  const { settings, roles, freshness, lastFailure } = s;
  const root = s.roots.latest();
  const withNextResign = (role: "targets" | "snapshot" | "timestamp" | "bins", expires: string) =>
    settings ? { nextResign: freshness.nextResign(settings, role, expires) } : {};
  // Top-level targets signed offline (protected-delegations mode) is never re-signed by the service.
  const role = (name: "targets" | "snapshot" | "timestamp", offline = false) => {
    const r = roles.published(name);
    return r ? { version: r.version, expires: r.expires, ...(offline ? {} : withNextResign(name, r.expires)) } : null;
  };
  const firstBin = roles.earliestExpiries(ONLINE.length + 1).find((r) => !ONLINE.includes(r.name));
  const open = s.ceremonies.current();
  const warnings: string[] = [];
  if (s.publishingBlocked) warnings.push(`${s.publishingBlocked.detail} (${s.publishingBlocked.code})`);
  if (root && settings && Date.parse(root.expires) - Date.now() <= settings.rootRefreshLead * 1000) {
    warnings.push(`root ${root.version} expires at ${root.expires}: sign the open root ceremony`);
  }
  if (open)
    warnings.push(
      open.draft
        ? `ceremony ${open.id} (${open.kind} to root v${open.rootVersion}) is open: it needs root key signatures before ${new Date(open.expiresAt).toISOString()}`
        : `ceremony ${open.id} (${open.kind} to targets v${open.targetsDraft?.version}) is open: it needs the targets key holders' signatures before ${new Date(open.expiresAt).toISOString()}`,
    );
  const offlineExpiries = s.offlineRoles.expiries();
  for (const offline of offlineExpiries) {
    if (Date.parse(offline.expires) - Date.now() > OFFLINE_EXPIRY_WARNING_MS) break;
    warnings.push(
      offline.name === "targets"
        ? targetsExpiring(offline)
        : `delegation ${offline.name} version ${offline.version} expires at ${offline.expires}: its owners sign and submit version ${offline.version + 1}`,
    );
  }
  warnings.push(...s.offlineStatus.reminders());
  const targetsOffline = offlineExpiries.some((r) => r.name === "targets");
  if (lastFailure) warnings.push(`last publish failed at ${lastFailure.at}: ${lastFailure.detail}`);
  const oldest = s.oldestSuperseded;
  if (settings && settings.retainSuperseded > 0 && oldest !== null) {
    const due = oldest + settings.retainSuperseded * 1000;
    if (Date.now() - due > SUPERSEDED_LATE_MS)
      warnings.push(
        `replaced metadata files due for deletion since ${new Date(due).toISOString()} are still in R2: deleting them fails or falls behind (superseded.delete_failed in the logs; tuf_edge_superseded_files)`,
      );
  }
  return {
    repository: s.name,
    bootstrapped: settings !== null,
    onlineKeyId: s.vault.find("active")?.keyid ?? null,
    targetsCount: settings ? s.targets.count() : 0,
    bins: settings?.bins ?? 0,
    roles: {
      // Its version and expiry: the file itself is served from R2 (RootHistory.latest also reads its bytes).
      root: root ? { version: root.version, expires: root.expires } : null,
      targets: role("targets", targetsOffline),
      snapshot: role("snapshot"),
      timestamp: role("timestamp"),
      bins: firstBin ? { ...firstBin, ...withNextResign("bins", firstBin.expires) } : null,
    },
    pendingChanges: roles.hasChanges() || roles.roundActive(),
    openCeremony: open
      ? {
          id: open.id,
          kind: open.kind,
          rootVersion: open.rootVersion,
          expiresAt: new Date(open.expiresAt).toISOString(),
        }
      : null,
    nextAlarm: s.alarm === null ? null : new Date(s.alarm).toISOString(),
    importHoldUntil: s.importHoldUntil === null ? null : new Date(s.importHoldUntil).toISOString(),
    lastFailure,
    publishingBlocked: s.publishingBlocked,
    warnings,
  };
}
