/**
 * GET /openapi.json: the API's OpenAPI document (src/openapi.ts). It changes
 * only with a deploy, so an isolate serialises and hashes it once, at its
 * first request, and serves those bytes with a strong ETag; a matching
 * If-None-Match is answered 304 without a body. (Serialised per request, the
 * 87 KB document cost each request a JSON.stringify and, for a client that
 * accepts gzip, a compression of the whole.)
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { notModified } from "../http/edge-cache.ts";
import { utf8 } from "../lib/bytes.ts";
import { sha256Hex } from "../lib/digest.ts";
import { openApiDocument } from "../openapi.ts";

/** Shared caches keep it five minutes: a deploy's new document is seen within that. */
export const OPENAPI_CACHE_CONTROL = "public, max-age=300";

let serialised: Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string }> | undefined;

/** The document's bytes and ETag, made once per isolate. */
function openApiFile(): Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string }> {
  serialised ??= (async () => {
    const bytes = utf8(JSON.stringify(openApiDocument));
    return { bytes, etag: `"${await sha256Hex(bytes)}"` };
  })();
  return serialised;
}

export async function serveOpenApi(c: Context<AppEnv>): Promise<Response> {
  const { bytes, etag } = await openApiFile();
  const response = new Response(bytes, {
    headers: { "Content-Type": "application/json", "Cache-Control": OPENAPI_CACHE_CONTROL, ETag: etag },
  });
  return notModified(c, response) ?? response;
}
