/** A repository's status, as operators, the health endpoint and the CLI see it. */
import type { RepositoryStatus } from "../src/repository-api.ts";
import type { CeremonyBook } from "./ceremony-book.ts";
import type { Delegations } from "./delegations.ts";
import type { Freshness } from "./freshness.ts";
import type { OfflineQueue } from "./offline-queue.ts";
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
  delegations: Pick<Delegations, "offlineExpiries">;
  /** Changes waiting for offline roles' owners, and their drafts' progress. */
  offlineQueue: Pick<OfflineQueue, "reminders">;
  lastFailure: { at: string; detail: string } | null;
  alarm: number | null;
  publishingBlocked: RepositoryStatus["publishingBlocked"];
}

const ONLINE = ["targets", "snapshot", "timestamp"];

/** How long before an offline role expires status warns its owners (the service cannot re-sign it). */
export const OFFLINE_EXPIRY_WARNING_MS = 7 * 86_400_000;

export function repositoryStatus(s: StatusSources): RepositoryStatus {
  const { settings, roles, freshness, lastFailure } = s;
  const root = s.roots.latest();
  const withNextResign = (role: "targets" | "snapshot" | "timestamp" | "bins", expires: string) =>
    settings ? { nextResign: freshness.nextResign(settings, role, expires) } : {};
  const role = (name: "targets" | "snapshot" | "timestamp") => {
    const r = roles.published(name);
    return r ? { version: r.version, expires: r.expires, ...withNextResign(name, r.expires) } : null;
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
      `ceremony ${open.id} (${open.kind} to root v${open.rootVersion}) is open: it needs root key signatures before ${new Date(open.expiresAt).toISOString()}`,
    );
  for (const offline of s.delegations.offlineExpiries()) {
    if (Date.parse(offline.expires) - Date.now() > OFFLINE_EXPIRY_WARNING_MS) break;
    warnings.push(
      `delegation ${offline.name} version ${offline.version} expires at ${offline.expires}: its owners sign and submit version ${offline.version + 1}`,
    );
  }
  warnings.push(...s.offlineQueue.reminders());
  if (lastFailure) warnings.push(`last publish failed at ${lastFailure.at}: ${lastFailure.detail}`);
  return {
    repository: s.name,
    bootstrapped: settings !== null,
    onlineKeyId: s.vault.find("active")?.keyid ?? null,
    targetsCount: settings ? s.targets.count() : 0,
    bins: settings?.bins ?? 0,
    roles: {
      root: root ?? null,
      targets: role("targets"),
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
    lastFailure,
    publishingBlocked: s.publishingBlocked,
    warnings,
  };
}
