/**
 * Health: whether each repository's served timestamp is valid and how long
 * until it expires (read from what clients download), with, per role, the
 * version, expiry and next scheduled re-sign, and any warning (root expiring,
 * a failed publish that is being retried). A repository whose signing keys
 * cannot be unsealed (the key-encryption key was replaced) is "blocked", with
 * the cause in `publishingBlocked`: nothing new can be published there.
 *   GET /health         every repository in the bucket
 *   GET /{repo}/health  one repository (404 if it does not exist)
 * The service's list of repositories is read through the edge cache too (at
 * most SHORT_CACHE_SECONDS old; a repository created here appears at once).
 * 200 when every timestamp is valid and nothing is blocked (status "ok" or "warning"), 503 otherwise.
 * No Durable Object is asked: each repository's answer is computed now from
 * two documents it published, read through the edge cache (at most
 * SHORT_CACHE_SECONDS old): timestamp.json (version, expiry, time left) and
 * site/status.json (roles, warnings, whether publishing is blocked; the
 * object rewrites it when it changed after each publish run and each minute's
 * cron tick, and on an operator's status call that finds publishing blocked
 * or unblocked).
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireRepository } from "../http/repository-param.ts";
import { Published } from "../pages/published.ts";
import { SITE_STATUS, type SiteStatus } from "../pages/site-status.ts";
import type { RepositoryStatus } from "../repository-api.ts";
import { shortCacheSeconds } from "../http/edge-cache.ts";
import { cachedRepositories } from "../storage/repository-directory.ts";

export interface RepositoryHealth {
  repository: string;
  status: "ok" | "warning" | "blocked" | "expired" | "not_published";
  timestamp?: { version: number; expires: string; secondsLeft: number };
  roles?: RepositoryStatus["roles"];
  warnings?: string[];
  publishingBlocked?: RepositoryStatus["publishingBlocked"];
}

async function repositoryHealth(c: Context<AppEnv>, repo: string, now: number): Promise<RepositoryHealth> {
  const published = new Published(c, repo);
  const [timestamp, site] = await Promise.all([
    published.json<{ signed: { version: number; expires: string } }>(published.metadata("timestamp.json")),
    published.json<SiteStatus>(published.site(SITE_STATUS)),
  ]);
  if (!timestamp) return { repository: repo, status: "not_published" };
  const { signed } = timestamp;
  const secondsLeft = Math.floor((Date.parse(signed.expires) - now) / 1000);
  const warnings = site?.warnings ?? [];
  const publishingBlocked = site?.publishingBlocked ?? null;
  return {
    repository: repo,
    status: secondsLeft <= 0 ? "expired" : publishingBlocked ? "blocked" : warnings.length > 0 ? "warning" : "ok",
    timestamp: { version: signed.version, expires: signed.expires, secondsLeft },
    ...(site ? { roles: site.roles } : {}),
    warnings,
    publishingBlocked,
  };
}

function respond(c: Context<AppEnv>, repositories: RepositoryHealth[]) {
  const ok = repositories.every((r) => r.status === "ok" || r.status === "warning");
  c.header("Cache-Control", "no-store");
  return c.json({ status: ok ? "ok" : "degraded", repositories }, ok ? 200 : 503);
}

export const serviceHealth = new Hono<AppEnv>().get("/", async (c) => {
  const now = Date.now();
  const repos = await cachedRepositories(c.env.BUCKET, shortCacheSeconds(c.env));
  return respond(c, await Promise.all(repos.map((r) => repositoryHealth(c, r, now))));
});

export const repoHealth = new Hono<AppEnv>().get("/", async (c) => {
  await requireRepository(c);
  return respond(c, [await repositoryHealth(c, c.get("repo"), Date.now())]);
});
