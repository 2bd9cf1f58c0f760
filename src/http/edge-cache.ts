/**
 * Serving R2 objects through the edge cache. Each response carries the
 * caching its file needs (immutable for versioned names, short for
 * timestamp.json), a strong ETag (the SHA-256 of the bytes), and answers
 * If-None-Match with 304. The Cache API sits in front of R2 so that a hot
 * file is read from R2 once per freshness period per location, not per request.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { sha256Hex } from "../lib/digest.ts";
import { utf8 } from "../lib/bytes.ts";
import { cacheKey } from "../storage/edge-cache.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";

export function shortLived(seconds: number): string {
  return `public, max-age=${seconds}`;
}

export function shortCacheSeconds(env: Env): number {
  const n = Number.parseInt(env.SHORT_CACHE_SECONDS, 10);
  return Number.isFinite(n) && n >= 0 ? n : 10;
}

interface ServeOptions {
  r2Key: string;
  cacheControl: string;
  contentType: string;
  /** Reads the object when the edge cache misses. */
  load: () => Promise<R2ObjectBody | null>;
}

/** The object's response, or null when it does not exist. */
export async function serveCached(c: Context<AppEnv>, options: ServeOptions): Promise<Response | null> {
  const cache = caches.default;
  const key = cacheKey(options.r2Key);
  let response = await cache.match(key);
  if (!response) {
    const object = await options.load();
    if (!object) return null;
    const sha256 = object.customMetadata?.sha256;
    response = new Response(object.body, {
      headers: {
        "Content-Type": options.contentType,
        "Content-Length": String(object.size),
        "Cache-Control": options.cacheControl,
        ETag: sha256 ? `"${sha256}"` : object.httpEtag,
      },
    });
    c.executionCtx.waitUntil(cache.put(key, response.clone()));
  }
  return notModified(c, response) ?? response;
}

/** A 304 when If-None-Match names the response's ETag (RFC 9110 §13.1.2, weak comparison). */
function notModified(c: Context<AppEnv>, response: Response): Response | null {
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
