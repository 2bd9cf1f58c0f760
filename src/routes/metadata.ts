/**
 * GET/HEAD /{repo}/metadata/{file}: the signed metadata, byte for byte as
 * the Durable Object stored it.
 *   N.root.json, V.<role>.json  immutable (a version's bytes never change)
 *   timestamp.json              short-lived (the one mutable name)
 * A root version that does not exist yet is a 404 that may be cached
 * briefly: clients stop walking the root chain on it.
 *
 * Root visibility follows the served timestamp. A location serves root N only
 * if the timestamp.json it serves was published with root N or later (the
 * publisher records the newest root in R2 beside each timestamp), so a client
 * never sees a new root beside a timestamp its signers no longer sign. Without
 * this, a location whose cached timestamp predates an online-key rotation
 * would hand clients root N+1 (the new key only) and a timestamp signed by the
 * old key, which they must refuse, for up to SHORT_CACHE_SECONDS. The same
 * check answers the next-root probe of every client refresh without reading
 * R2.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { cachedEntry, IMMUTABLE, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import { JSON_TYPE } from "../storage/stored-object.ts";

/**
 * "timestamp.json", or "<version>.<role>.json" with a version of 1 to 15 digits and no leading zero; a role
 * is a bin, a delegation, or a bin inside one ("<delegation>.bins-XX", durable-objects/delegations.ts).
 */
const METADATA_FILE =
  /^(?:timestamp|[1-9]\d{0,14}\.(?:root|targets|snapshot|[a-z0-9][a-z0-9-]{0,63}(?:\.bins-[0-9a-f]{1,4})?))\.json$/;
const ROOT_FILE = /^(?<version>[1-9]\d{0,14})\.root\.json$/;

function serveOptions(c: Context<AppEnv>, bucket: RepositoryBucket, file: string) {
  return {
    r2Key: bucket.metadataKey(file),
    cacheControl: file === "timestamp.json" ? shortLived(shortCacheSeconds(c.env)) : IMMUTABLE,
    contentType: JSON_TYPE,
    load: () => bucket.getMetadata(file),
  };
}

/** The newest root the served timestamp.json was published with; null when there is none or it does not say. */
async function newestServedRoot(c: Context<AppEnv>, bucket: RepositoryBucket): Promise<number | null> {
  const entry = await cachedEntry(c, serveOptions(c, bucket, "timestamp.json"));
  await entry?.response.body?.cancel();
  return entry?.rootVersion ?? null;
}

export const metadata = new Hono<AppEnv>().get("/:file", async (c) => {
  const file = c.req.param("file");
  if (!METADATA_FILE.test(file)) {
    throw new ProblemError(404, { code: "not_found", detail: `"${file}" is not a metadata file name` });
  }
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const root = ROOT_FILE.exec(file)?.groups?.version;
  const notYet = { "Cache-Control": shortLived(shortCacheSeconds(c.env)) };
  if (root !== undefined) {
    const newest = await newestServedRoot(c, bucket);
    if (newest !== null && Number(root) > newest) {
      throw new ProblemError(404, { code: "not_found", detail: `no metadata file "${file}"` }, notYet);
    }
  }
  const response = await serveCached(c, serveOptions(c, bucket, file));
  if (response) return response;
  throw new ProblemError(404, { code: "not_found", detail: `no metadata file "${file}"` }, root ? notYet : {});
});
