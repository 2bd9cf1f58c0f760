/**
 * The directory of existing repositories, kept in R2 beside what each
 * repository publishes: one marker object per repository,
 *   <repo>/repository.json   {"repository", "createdAt"}
 * written by the repository's Durable Object when the repository comes into
 * being (its online key is generated, on an authenticated admin call) and
 * never removed. The Worker reads it (through the edge cache) before it
 * addresses a Durable Object for an unauthenticated request, so a request
 * naming a repository that does not exist creates no object and no storage.
 *
 * The list of repositories (an R2 list, a class A operation) is what the
 * public `/health` reads; it is kept in the edge cache for the short cache
 * lifetime, so that health checks, however frequent, cost at most one list per
 * location per lifetime. A new repository purges the list where it is created.
 */
import { cacheKey } from "./edge-cache.ts";

/** The edge-cache entry holding the list of repositories. */
const LISTING = cacheKey("-/repositories.json");
export function markerKey(repo: string): string {
  return `${repo}/repository.json`;
}

/** Whether `repo` exists (one R2 metadata read). */
export async function inDirectory(bucket: R2Bucket, repo: string): Promise<boolean> {
  return (await bucket.head(markerKey(repo))) !== null;
}

/** Adds `repo` (idempotent: an existing marker keeps its creation time). */
export async function addToDirectory(bucket: R2Bucket, repo: string, now: Date): Promise<void> {
  if (await inDirectory(bucket, repo)) return;
  await bucket.put(markerKey(repo), JSON.stringify({ repository: repo, createdAt: now.toISOString() }), {
    httpMetadata: { contentType: "application/json" },
  });
  await caches.default.delete(LISTING);
}

/** Every repository with something published: the bucket's top-level prefixes. */
export async function listRepositories(bucket: R2Bucket): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ delimiter: "/", limit: 1000, ...(cursor ? { cursor } : {}) });
    names.push(...page.delimitedPrefixes.map((p) => p.slice(0, -1)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return names;
}

/** listRepositories through the edge cache: at most `maxAgeSeconds` old, purged when a repository is added here. */
export async function cachedRepositories(bucket: R2Bucket, maxAgeSeconds: number): Promise<string[]> {
  const cached = await caches.default.match(LISTING);
  if (cached) return cached.json<string[]>();
  const names = await listRepositories(bucket);
  if (maxAgeSeconds > 0) {
    await caches.default.put(
      LISTING,
      Response.json(names, { headers: { "Cache-Control": `max-age=${maxAgeSeconds}` } }),
    );
  }
  return names;
}
