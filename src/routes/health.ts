/**
 * Health: whether each repository's served timestamp is valid and how long
 * until it expires, read from what clients download (R2, via the edge cache).
 *   GET /health         every repository in the bucket
 *   GET /{repo}/health  one repository
 * 200 when every timestamp is valid, 503 otherwise.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

export interface RepositoryHealth {
  repository: string;
  status: "ok" | "expired" | "not_published";
  timestamp?: { version: number; expires: string; secondsLeft: number };
}

async function repositoryHealth(env: Env, repo: string, now: number): Promise<RepositoryHealth> {
  const object = await new RepositoryBucket(env.BUCKET, repo).getMetadata("timestamp.json");
  if (!object) return { repository: repo, status: "not_published" };
  const { signed } = (await object.json()) as { signed: { version: number; expires: string } };
  const secondsLeft = Math.floor((Date.parse(signed.expires) - now) / 1000);
  return {
    repository: repo,
    status: secondsLeft > 0 ? "ok" : "expired",
    timestamp: { version: signed.version, expires: signed.expires, secondsLeft },
  };
}

function respond(c: Context<AppEnv>, repositories: RepositoryHealth[]) {
  const ok = repositories.every((r) => r.status === "ok");
  c.header("Cache-Control", "no-store");
  return c.json({ status: ok ? "ok" : "degraded", repositories }, ok ? 200 : 503);
}

export const serviceHealth = new Hono<AppEnv>().get("/", async (c) => {
  const listing = await c.env.BUCKET.list({ delimiter: "/", limit: 1000 });
  const repos = listing.delimitedPrefixes.map((p) => p.slice(0, -1));
  const now = Date.now();
  return respond(c, await Promise.all(repos.map((r) => repositoryHealth(c.env, r, now))));
});

export const repoHealth = new Hono<AppEnv>().get("/", async (c) =>
  respond(c, [await repositoryHealth(c.env, c.get("repo"), Date.now())]),
);
