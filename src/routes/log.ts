/**
 * The repository's transparency log, served from the edge:
 *   GET /{repo}/log/checkpoint                   C2SP signed checkpoint (short-lived)
 *   GET /{repo}/log/tile/{L}/{N}[.p/{W}]         C2SP tlog-tiles hash tiles (immutable)
 *   GET /{repo}/log/tile/entries/{N}[.p/{W}]     entry bundles (immutable)
 *   GET /{repo}/log/proof/inclusion?index=I|path=P[&size=S]
 *   GET /{repo}/log/proof/consistency?from=A&to=B
 *   POST /{repo}/log/cosignatures                a witness's cosigned checkpoint (C2SP tlog-cosignature)
 * Hashes in proofs are lower-case hex, listed from the leaf up to the root.
 * Proofs by index and consistency proofs are computed here from the published
 * checkpoint and tiles (src/log/tile-proofs.ts), read through the edge cache:
 * a log monitor's requests never reach the repository's object. A proof by
 * path asks the object which entry is the latest about the path.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { IMMUTABLE, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { bodyCap } from "../http/body-limit.ts";
import { ProblemError } from "../http/problem.ts";
import { existingRepository, requireRepository } from "../http/repository-param.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { type PublishedTiles, publishedTiles } from "../log/tile-proofs.ts";
import { parseTilePath } from "../log/tiles.ts";
import { Published } from "../pages/published.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const Count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const InclusionQuery = z
  .object({ index: Count.optional(), path: TargetPathSchema.optional(), size: Count.optional() })
  .strict()
  .refine((q) => (q.index === undefined) !== (q.path === undefined), "give exactly one of index and path");

const ConsistencyQuery = z.object({ from: Count, to: Count }).strict();

const noTree = (published: number, size: number) =>
  new ProblemError(404, {
    code: "not_found",
    detail: `the log's published size is ${published}; no tree of size ${size}`,
  });

/** The log as its served checkpoint publishes it (404 for a repository that does not exist). */
async function servedTiles(c: Context<AppEnv>): Promise<PublishedTiles> {
  await requireRepository(c);
  const published = new Published(c);
  const checkpoint = await published.log("checkpoint", true);
  return publishedTiles(checkpoint?.bytes ?? null, async (path) => (await published.log(path, false))?.bytes ?? null);
}

export const log = new Hono<AppEnv>()
  .get("/checkpoint", async (c) => {
    const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
    const response = await serveCached(c, {
      r2Key: bucket.logKey("checkpoint"),
      cacheControl: shortLived(shortCacheSeconds(c.env)),
      contentType: "text/plain; charset=utf-8",
      load: () => bucket.getLog("checkpoint"),
    });
    if (!response) throw new ProblemError(404, { code: "not_found", detail: "the log has no checkpoint yet" });
    return response;
  })
  .get("/tile/:path{.+}", async (c) => {
    const path = `tile/${c.req.param("path")}`;
    try {
      parseTilePath(path);
    } catch {
      throw new ProblemError(404, { code: "not_found", detail: `"${path}" is not a tlog-tiles path` });
    }
    const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
    const response = await serveCached(c, {
      r2Key: bucket.logKey(path),
      cacheControl: IMMUTABLE,
      contentType: "application/octet-stream",
      load: () => bucket.getLog(path),
    });
    if (!response) throw new ProblemError(404, { code: "not_found", detail: `no tile ${path}` });
    return response;
  })
  .get("/proof/inclusion", validate("query", InclusionQuery), async (c) => {
    const query = c.req.valid("query");
    c.header("Cache-Control", query.size === undefined ? "no-store" : IMMUTABLE);
    if (query.index === undefined) {
      const { stub: repository } = await existingRepository(c);
      return c.json(unwrap(await repository.logInclusion(query)).proof);
    }
    const tiles = await servedTiles(c);
    const size = query.size ?? tiles.publishedSize;
    if (size < 1 || size > tiles.publishedSize) throw noTree(tiles.publishedSize, size);
    if (query.index >= size) {
      throw new ProblemError(404, { code: "not_found", detail: `no entry ${query.index} in a tree of size ${size}` });
    }
    return c.json(await tiles.inclusion(query.index, size));
  })
  .get("/proof/consistency", validate("query", ConsistencyQuery), async (c) => {
    const { from, to } = c.req.valid("query");
    const tiles = await servedTiles(c);
    if (from < 1 || from > to || to > tiles.publishedSize) {
      throw new ProblemError(404, {
        code: "not_found",
        detail: `consistency needs 1 <= from <= to <= ${tiles.publishedSize} (the published size)`,
      });
    }
    c.header("Cache-Control", IMMUTABLE);
    return c.json(await tiles.consistency(from, to));
  })
  .post("/cosignatures", bodyCap(64 * 1024, "a cosigned checkpoint is at most 64 KiB"), async (c) => {
    const { stub: repository } = await existingRepository(c);
    const { checkpoint } = unwrap(await repository.addLogCosignatures(await c.req.text()));
    return c.text(checkpoint, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  });
