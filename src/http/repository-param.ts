/**
 * The `:repo` path parameter, and the way to a repository's Durable Object.
 * Unauthenticated routes reach an object only through `existingRepository`,
 * which first asks the directory of repositories (src/storage/repository-directory.ts)
 * through the edge cache: a name that is not there is answered 404 without
 * creating an object. Admin routes (authenticated) use `repositoryStub`.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { REPOSITORY_NAME } from "../schemas/repository-name.ts";
import { inDirectory, markerKey } from "../storage/repository-directory.ts";
import { repositoryStub } from "../repository-stub.ts";
import { cacheKey } from "../storage/edge-cache.ts";
import { shortCacheSeconds } from "./edge-cache.ts";
import { ProblemError } from "./problem.ts";

export const repositoryParam: MiddlewareHandler<AppEnv> = async (c, next) => {
  const repo = c.req.param("repo") ?? "";
  if (!REPOSITORY_NAME.test(repo)) {
    throw new ProblemError(404, {
      code: "invalid_repository",
      detail: "a repository name is 1-63 lower-case letters, digits and inner hyphens",
    });
  }
  c.set("repo", repo);
  await next();
};

/** Repositories this isolate has seen exist; they are never deleted, so they are not looked up again. */
const knownRepositories = new Set<string>();
const KNOWN_REPOSITORIES_MAX = 10_000;

function remember(repo: string, exists: boolean): boolean {
  if (!exists) return false;
  if (knownRepositories.size >= KNOWN_REPOSITORIES_MAX) knownRepositories.clear();
  knownRepositories.add(repo);
  return true;
}

/**
 * Whether the repository exists, from this isolate's memory, this location's edge cache or R2.
 * Repositories are never deleted, so a "yes" is kept for a day; a "no" only
 * for the short cache period (a repository created elsewhere is seen then).
 */
export async function repositoryExists(c: Context<AppEnv>, repo: string): Promise<boolean> {
  if (knownRepositories.has(repo)) return true;
  const key = cacheKey(markerKey(repo));
  const cached = await caches.default.match(key);
  if (cached) return remember(repo, cached.headers.get("X-Repository-Exists") === "1");
  const exists = remember(repo, await inDirectory(c.env.BUCKET, repo));
  const maxAge = exists ? 86_400 : shortCacheSeconds(c.env);
  const answer = new Response(null, {
    headers: { "X-Repository-Exists": exists ? "1" : "0", "Cache-Control": `public, max-age=${maxAge}` },
  });
  c.executionCtx.waitUntil(caches.default.put(key, answer));
  return exists;
}

/** Forgets a cached "no" once an admin call created the repository (in this location). */
export async function forgetAbsence(repo: string): Promise<void> {
  await caches.default.delete(cacheKey(markerKey(repo)));
}

/** 404 unless the request's repository exists. */
export async function requireRepository(c: Context<AppEnv>): Promise<void> {
  const repo = c.get("repo");
  if (!(await repositoryExists(c, repo))) {
    throw new ProblemError(404, { code: "unknown_repository", detail: `there is no repository "${repo}"` });
  }
}

/**
 * The repository's Durable Object, for an unauthenticated request: 404 if the
 * repository does not exist. Its stub comes inside an object, so that it is
 * never awaited on its own: a call on it goes out with the lookup, as the
 * admin routes' calls on `repositoryStub(...)` do. Where `getByName` is
 * itself a call (the bench's split layout reaches the object's process
 * through a gateway entrypoint, scripts/bench/topology.ts), the stub awaited
 * alone cost each push a round trip of its own to the object's busy process,
 * outside the Worker's timed wait for the object.
 */
export async function existingRepository(
  c: Context<AppEnv>,
): Promise<{ readonly stub: ReturnType<typeof repositoryStub> }> {
  await requireRepository(c);
  return { stub: repositoryStub(c.env, c.get("repo")) };
}
