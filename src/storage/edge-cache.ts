/**
 * The edge cache (Cache API) as storage: one entry per R2 key. The routes
 * serve through it (src/http/edge-cache.ts); the repository's Durable Object
 * purges what it replaces.
 */

/** Cache keys are URLs; one per R2 key, whatever the request's host, query or method. */
export function cacheKey(r2Key: string): Request {
  return new Request(`https://tuf-edge.internal/${encodeURI(r2Key)}`);
}

/**
 * Drops a mutable file (timestamp.json) from this location's edge cache once
 * a new version is stored, so clients near the writer see it at once; other
 * locations see it when their copy's short freshness runs out.
 */
export async function purgeCached(r2Key: string): Promise<void> {
  await caches.default.delete(cacheKey(r2Key));
}
