/**
 * Health: whether each repository's served timestamp is valid and how long
 * until it expires (read from what clients download), with, per role, the
 * version, expiry and next scheduled re-sign, and any warning (root expiring,
 * a failed publish that is being retried). A repository whose signing keys
 * cannot be unsealed (the key-encryption key was replaced) is "blocked", with
 * the cause in `publishingBlocked`: nothing new can be published there.
 *   GET /health         every repository in the bucket
 *   GET /{repo}/health  one repository (404 if it does not exist)
 * 200 when every timestamp is valid and nothing is blocked (status "ok" or "warning"), 503 otherwise.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireRepository } from "../http/repository-param.ts";
import { repositoryStub } from "../repository-stub.ts";
import type { RepositoryStatus } from "../repository-api.ts";
import { listRepositories } from "../storage/repository-directory.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

export interface RepositoryHealth {
  repository: string;
  status: "ok" | "warning" | "blocked" | "expired" | "not_published";
  timestamp?: { version: number; expires: string; secondsLeft: number };
  roles?: RepositoryStatus["roles"];
  warnings?: string[];
  publishingBlocked?: RepositoryStatus["publishingBlocked"];
}

async function repositoryHealth(env: Env, repo: string, now: number): Promise<RepositoryHealth> {
  const object = await new RepositoryBucket(env.BUCKET, repo).getMetadata("timestamp.json");
  if (!object) return { repository: repo, status: "not_published" };
  const { signed } = (await object.json()) as { signed: { version: number; expires: string } };
  const secondsLeft = Math.floor((Date.parse(signed.expires) - now) / 1000);
  const { roles, warnings, publishingBlocked } = await repositoryStub(env, repo).status();
  return {
    repository: repo,
    status: secondsLeft <= 0 ? "expired" : publishingBlocked ? "blocked" : warnings.length > 0 ? "warning" : "ok",
    timestamp: { version: signed.version, expires: signed.expires, secondsLeft },
    roles,
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
  const repos = await listRepositories(c.env.BUCKET);
  return respond(c, await Promise.all(repos.map((r) => repositoryHealth(c.env, r, now))));
});

export const repoHealth = new Hono<AppEnv>().get("/", async (c) => {
  await requireRepository(c);
  return respond(c, [await repositoryHealth(c.env, c.get("repo"), Date.now())]);
});
