/**
 * The edge cache (Cache API) as storage: one entry per R2 key. The routes
 * serve through it (src/http/edge-cache.ts); the repository's Durable Object
 * purges what it replaces.
 *
 * In front of it, each isolate keeps its own copies of small hot files
 * (timestamp.json, the current root, small versioned files, public
 * documents), so most requests for them skip the Cache API lookup. A copy is
 * kept at most as long as the edge cache entry it stands for may be: until
 * the time it was read from R2 plus the file's max-age (forever for
 * immutable files, within a byte budget, least recently used dropped first).
 * A purge drops the copy of the isolate it runs in; other isolates' copies
 * expire within the file's max-age, as other locations' cache entries do.
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
  hotCopies.drop(r2Key);
  await caches.default.delete(cacheKey(r2Key));
}

/** The largest file an isolate keeps a copy of. */
export const HOT_COPY_MAX_BYTES = 64 * 1024;

/** A small file's response as this isolate keeps it. */
export interface HotCopy {
  bytes: Uint8Array<ArrayBuffer>;
  headers: ReadonlyArray<readonly [string, string]>;
  /** Epoch ms after which the copy is not served (Infinity for immutable files). */
  until: number;
  /** For timestamp.json: the newest root stored when it was published (src/http/edge-cache.ts). */
  rootVersion: number | null;
}

/** This isolate's copies of small hot files, by R2 key, in least-recently-used order. */
class HotCopies {
  readonly #copies = new Map<string, HotCopy>();
  #bytes = 0;

  /** The copy of `r2Key` if it is still fresh at `now`. */
  get(r2Key: string, now: number): HotCopy | null {
    const copy = this.#copies.get(r2Key);
    if (!copy) return null;
    this.#copies.delete(r2Key);
    if (copy.until <= now) {
      this.#bytes -= copy.bytes.byteLength;
      return null;
    }
    this.#copies.set(r2Key, copy); // most recently used last
    return copy;
  }

  /** Keeps `copy`, dropping the least recently used copies beyond `budget` bytes. */
  keep(r2Key: string, copy: HotCopy, budget: number): void {
    this.drop(r2Key);
    if (copy.bytes.byteLength > Math.min(budget, HOT_COPY_MAX_BYTES)) return;
    this.#copies.set(r2Key, copy);
    this.#bytes += copy.bytes.byteLength;
    for (const [key, old] of this.#copies) {
      if (this.#bytes <= budget) break;
      this.#copies.delete(key);
      this.#bytes -= old.bytes.byteLength;
    }
  }

  drop(r2Key: string): void {
    const copy = this.#copies.get(r2Key);
    if (!copy) return;
    this.#copies.delete(r2Key);
    this.#bytes -= copy.bytes.byteLength;
  }

  /** Bytes held (for tests and metrics). */
  size(): { files: number; bytes: number } {
    return { files: this.#copies.size, bytes: this.#bytes };
  }
}

export const hotCopies = new HotCopies();
