/**
 * GET/HEAD /{repo}/metadata/{file}: the signed metadata, byte for byte as
 * the Durable Object stored it.
 *   N.root.json, V.<role>.json  immutable (a version's bytes never change)
 *   timestamp.json              short-lived (the one mutable name)
 * A root version that does not exist yet is a 404 that may be cached
 * briefly: clients stop walking the root chain on it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { IMMUTABLE, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { JSON_TYPE, RepositoryBucket } from "../storage/repository-bucket.ts";

/**
 * "timestamp.json", or "<version>.<role>.json" with a version of 1 to 15 digits and no leading zero; a role
 * is a bin, a delegation, or a bin inside one ("<delegation>.bins-XX", durable-objects/delegations.ts).
 */
const METADATA_FILE =
  /^(?:timestamp|[1-9]\d{0,14}\.(?:root|targets|snapshot|[a-z0-9][a-z0-9-]{0,63}(?:\.bins-[0-9a-f]{1,4})?))\.json$/;

export const metadata = new Hono<AppEnv>().get("/:file", async (c) => {
  const file = c.req.param("file");
  if (!METADATA_FILE.test(file)) {
    throw new ProblemError(404, { code: "not_found", detail: `"${file}" is not a metadata file name` });
  }
  const short = shortLived(shortCacheSeconds(c.env));
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const response = await serveCached(c, {
    r2Key: bucket.metadataKey(file),
    cacheControl: file === "timestamp.json" ? short : IMMUTABLE,
    contentType: JSON_TYPE,
    load: () => bucket.getMetadata(file),
  });
  if (response) return response;
  const headers: Record<string, string> = file.endsWith(".root.json") ? { "Cache-Control": short } : {};
  throw new ProblemError(404, { code: "not_found", detail: `no metadata file "${file}"` }, headers);
});
