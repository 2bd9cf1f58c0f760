/**
 * Upkeep: what a repository does on its own, at each alarm and each cron
 * tick, each share bounded: forget old deliveries, settle quarantine, sweep
 * abandoned uploads, open the ceremonies that are due, mark the roles that
 * come due for re-signing and publish them (in invocations of bounded work:
 * group-commit.ts), delete replaced files past their retention, prune the
 * log's entries whose tiles are in R2, and rewrite what health reads. The
 * publish run's end re-arms the alarm (scheduler.ts).
 */
import type { RepositoryParts } from "./repository-parts.ts";
import { OFFLINE_EXPIRY_WARNING_MS } from "./status.ts";

/** Runs one upkeep; returns the roles it marked for re-signing. */
export async function upkeep(p: RepositoryParts): Promise<{ resigned: string[] }> {
  const settings = p.settings;
  if (!settings) return { resigned: [] };
  const now = new Date();
  await p.inDirectory(); // repositories created before the directory existed are added by the cron
  p.pushes.deliveries.prune(now.getTime());
  await p.settleQuarantine();
  await p.staged.sweep(now.getTime());
  await p.scheduler.openDueCeremonies(settings, now);
  let resigned: string[] = [];
  p.transaction(() => {
    resigned = p.freshness.markDue(settings, now, p.publisher.roles.nextSeq());
  });
  // Re-signing does not wait for an import's end (import-hold.ts): its round carries the stored batches too.
  if (resigned.length > 0) p.importHold.release();
  p.metrics.resigned(resigned);
  p.offlineStatus.remindExpiring(now.getTime(), OFFLINE_EXPIRY_WARNING_MS);
  await p.documents.step();
  await p.commits.resume();
  // Files of versions replaced longer ago than the retention (superseded-files.ts): a bounded share each time.
  await p.superseded.collectLogged(p.name, p.bucket, now.getTime(), settings.retainSuperseded);
  // The log's entries whose tiles are in R2 and that rounds have not pruned yet (an idle repository, or
  // one whose log was written before pruning): a bounded share each tick (log-history.ts).
  p.tlog.prune();
  // What health reads follows each tick, e.g. a signing key found not to unseal since a restart.
  await p.site.publishStatus();
  return { resigned };
}
