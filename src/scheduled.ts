/**
 * The cron trigger: a safety net that wakes every repository, whatever its
 * own alarm says. Each repository re-signs what is due and re-arms its alarm.
 * Repositories are found by listing the bucket's top-level prefixes (every
 * bootstrapped repository has published files there).
 */
import { repositoryStub } from "./repository-stub.ts";
import { sigstoreTrustStub } from "./sigstore-trust-stub.ts";
import { listRepositories } from "./storage/repository-directory.ts";

/** Repositories woken at once. */
const CONCURRENCY = 16;

export async function wakeRepositories(env: Env): Promise<{ woken: number; failed: string[] }> {
  const repos = await listRepositories(env.BUCKET);
  const failed: string[] = [];
  for (let i = 0; i < repos.length; i += CONCURRENCY) {
    const batch = repos.slice(i, i + CONCURRENCY);
    const results = await Promise.allSettled(batch.map((repo) => repositoryStub(env, repo).refresh()));
    for (const [j, repo] of batch.entries()) {
      if (results[j]?.status === "rejected") failed.push(repo);
    }
  }
  if (failed.length) console.error(`cron: refresh failed for ${failed.length} repositories: ${failed.join(", ")}`);
  return { woken: repos.length, failed };
}

/** Keeps the Sigstore trusted root fresh through TUF (the object refreshes only when due). */
export async function refreshSigstoreTrust(env: Env): Promise<void> {
  const report = await sigstoreTrustStub(env).refresh();
  if (!report.ok && !report.skipped) console.error(`cron: Sigstore trust refresh failed: ${report.error?.detail}`);
}
