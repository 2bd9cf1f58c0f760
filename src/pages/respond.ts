/**
 * A rendered page as a response: cached like the data it shows (public,
 * SHORT_CACHE_SECONDS), a strong ETag (the SHA-256 of the HTML) answered with
 * 304, and a Content-Security-Policy that allows only this origin's scripts
 * and fetches and the one inline stylesheet (by its hash).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { notModified, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { toBase64, utf8 } from "../lib/bytes.ts";
import { sha256, sha256Hex } from "../lib/digest.ts";
import { STYLES } from "./styles.ts";

let styleHash: Promise<string> | null = null;

function contentSecurityPolicy(hash: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    `style-src 'sha256-${hash}'`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export async function htmlPage(
  c: Context<AppEnv>,
  element: { toString(): string | Promise<string> },
  status: 200 | 404 = 200,
): Promise<Response> {
  styleHash ??= sha256(utf8(STYLES)).then(toBase64);
  const bytes = utf8(`<!doctype html>${await element.toString()}`);
  const etag = `"${await sha256Hex(bytes)}"`;
  const headers = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": status === 200 ? shortLived(shortCacheSeconds(c.env)) : "no-store",
    ETag: etag,
    "Content-Security-Policy": contentSecurityPolicy(await styleHash),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
  };
  const response = new Response(bytes, { status, headers });
  return (status === 200 && notModified(c, response)) || response;
}
