/**
 * Serving R2 objects through the edge cache. Each response carries the
 * caching its file needs (immutable for versioned names, short for
 * timestamp.json), a strong ETag (the SHA-256 of the bytes), and answers
 * If-None-Match with 304. The Cache API sits in front of R2 so that a hot
 * file is read from R2 once per freshness period per location, not per request;
 * and in front of the Cache API, each isolate's copies of small hot files
 * (src/storage/edge-cache.ts), each kept at most for its own freshness, so that
 * most requests for them cost no lookup at all.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { sha256Hex } from "../lib/digest.ts";
import { utf8 } from "../lib/bytes.ts";
import { cacheKey, HOT_COPY_MAX_BYTES, hotCopies } from "../storage/edge-cache.ts";
import type { StoredObject } from "../storage/stored-object.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";

export function shortLived(seconds: number): string {
  return `public, max-age=${seconds}`;
}

export function shortCacheSeconds(env: Env): number {
  const n = Number.parseInt(env.SHORT_CACHE_SECONDS, 10);
  return Number.isFinite(n) && n >= 0 ? n : 10;
}

/** Bytes of small hot files an isolate keeps (HOT_COPY_BYTES; 0 turns the copies off). */
export function hotCopyBudget(env: Env): number {
  const n = Number.parseInt(env.HOT_COPY_BYTES, 10);
  return Number.isFinite(n) && n >= 0 ? n : 8 * 1024 * 1024;
}

/**
 * On edge-cache entries only, never sent to clients: when their bytes were read
 * from R2 (epoch ms), so that an isolate's copy of an entry expires with it.
 */
const STORED_AT = "x-tuf-edge-stored-at";

/** How long after `storedAt` a response with `cacheControl` may be served; null when unknown. */
function freshUntil(cacheControl: string, storedAt: number | null): number | null {
  if (cacheControl.includes("immutable")) return Number.POSITIVE_INFINITY;
  const maxAge = /max-age=(\d+)/.exec(cacheControl)?.[1];
  return maxAge === undefined || storedAt === null ? null : storedAt + Number(maxAge) * 1000;
}

/**
 * How long an isolate keeps its copy of a mutable file (timestamp.json, public
 * documents) at most, however fresh the edge-cache entry it came from. After a
 * publish the writer's location purges its cache entry, but it cannot reach
 * other isolates' copies: until those expire, two requests of one client may
 * get a new timestamp and then an older one, and TUF clients refuse a
 * timestamp older than the one they trust (spec §5.4.3, a rollback). This
 * bounds that disagreement to a second, while a hot file still costs one
 * cache lookup per isolate per second.
 */
export const MUTABLE_HOT_COPY_MS = 1_000;

interface ServeOptions {
  r2Key: string;
  cacheControl: string;
  /** The response's media type (default: the one stored with the object). */
  contentType?: string;
  /** Reads the object when the edge cache misses. */
  load: () => Promise<StoredObject | null>;
}

/** The object's response, or null when it does not exist; 304 for a matching If-None-Match. */
export async function serveCached(c: Context<AppEnv>, options: ServeOptions): Promise<Response | null> {
  const response = await cachedFile(c, options);
  return response && (notModified(c, response) ?? response);
}

/**
 * On edge-cache entries of timestamp.json only, never sent to clients: the
 * newest root version that was stored when that timestamp was (R2 custom
 * metadata "root-version", written by the publisher). See src/routes/metadata.ts.
 */
const ROOT_VERSION = "x-tuf-edge-root-version";
const INTERNAL_HEADERS = new Set([STORED_AT, ROOT_VERSION]);

/** A file as served, and what its cache entry says that clients are never told. */
export interface CachedEntry {
  response: Response;
  /** For timestamp.json: the newest root stored when it was published (null when it does not say). */
  rootVersion: number | null;
}

/**
 * The object's full response (never a 304), or null when it does not exist:
 * this isolate's copy, else the edge cache's, else R2's (then cached).
 */
export async function cachedFile(c: Context<AppEnv>, options: ServeOptions): Promise<Response | null> {
  return (await cachedEntry(c, options))?.response ?? null;
}

/** cachedFile, with what the entry records beside the response. */
export async function cachedEntry(c: Context<AppEnv>, options: ServeOptions): Promise<CachedEntry | null> {
  const budget = hotCopyBudget(c.env);
  const now = Date.now();
  const copy = budget > 0 ? hotCopies.get(options.r2Key, now) : null;
  if (copy) return { response: new Response(copy.bytes, { headers: copy.headers }), rootVersion: copy.rootVersion };

  const cache = caches.default;
  const key = cacheKey(options.r2Key);
  let cached = await cache.match(key);
  if (!cached) {
    const object = await options.load();
    if (!object) return null;
    const sha256 = object.customMetadata?.sha256;
    const rootVersion = object.customMetadata?.["root-version"];
    cached = new Response(object.body, {
      headers: {
        "Content-Type": options.contentType ?? object.httpMetadata?.contentType ?? "application/octet-stream",
        "Content-Length": String(object.size),
        "Cache-Control": options.cacheControl,
        ETag: sha256 ? `"${sha256}"` : object.httpEtag,
        [STORED_AT]: String(now),
        ...(rootVersion ? { [ROOT_VERSION]: rootVersion } : {}),
      },
    });
    c.executionCtx.waitUntil(cache.put(key, cached.clone()));
  }
  const headers = [...cached.headers].filter(([name]) => !INTERNAL_HEADERS.has(name.toLowerCase()));
  const recorded = Number.parseInt(cached.headers.get(ROOT_VERSION) ?? "", 10);
  const rootVersion = Number.isSafeInteger(recorded) && recorded > 0 ? recorded : null;
  const fresh = freshUntil(options.cacheControl, Number(cached.headers.get(STORED_AT)) || null);
  const until =
    fresh === Number.POSITIVE_INFINITY || fresh === null ? fresh : Math.min(fresh, now + MUTABLE_HOT_COPY_MS);
  const length = Number(cached.headers.get("Content-Length") ?? Number.NaN);
  if (budget > 0 && until !== null && until > now && length <= Math.min(budget, HOT_COPY_MAX_BYTES)) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    hotCopies.keep(options.r2Key, { bytes, headers, until, rootVersion }, budget);
    return { response: new Response(bytes, { headers }), rootVersion };
  }
  return { response: new Response(cached.body, { status: cached.status, headers }), rootVersion };
}

/**
 * A 304 when If-None-Match names the response's ETag (RFC 9110 §13.1.2, weak
 * comparison): the one conditional-request rule of every route and page.
 */
export function notModified(c: Context<AppEnv>, response: Response): Response | null {
  const ifNoneMatch = c.req.header("If-None-Match");
  const etag = response.headers.get("ETag");
  if (!ifNoneMatch || !etag) return null;
  const strip = (tag: string) => tag.trim().replace(/^W\//, "");
  const matches = ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => strip(tag) === strip(etag));
  if (!matches) return null;
  return new Response(null, {
    status: 304,
    headers: { ETag: etag, "Cache-Control": response.headers.get("Cache-Control") ?? "no-cache" },
  });
}

/**
 * A response built here (not an R2 object): the exact bytes of `body`, a
 * strong ETag (their SHA-256), and 304 for a matching If-None-Match.
 */
export async function respondWithEtag(
  c: Context<AppEnv>,
  body: string,
  headers: { readonly "Content-Type": string; readonly "Cache-Control": string; readonly Vary?: string },
): Promise<Response> {
  const bytes = utf8(body);
  const etag = `"${await sha256Hex(bytes)}"`;
  const response = new Response(bytes, { headers: { ...headers, ETag: etag } });
  const unchanged = notModified(c, response);
  if (unchanged && headers.Vary) unchanged.headers.set("Vary", headers.Vary);
  return unchanged ?? response;
}
