/**
 * The repository's transparency log, served from the edge:
 *   GET /{repo}/log/checkpoint                   C2SP signed checkpoint (short-lived)
 *   GET /{repo}/log/tile/{L}/{N}[.p/{W}]         C2SP tlog-tiles hash tiles (immutable)
 *   GET /{repo}/log/tile/entries/{N}[.p/{W}]     entry bundles (immutable)
 *   GET /{repo}/log/proof/inclusion?index=I|path=P[&size=S]
 *   GET /{repo}/log/proof/consistency?from=A&to=B
 *   POST /{repo}/log/cosignatures                a witness's cosigned checkpoint (C2SP tlog-cosignature)
 * Hashes in proofs are lower-case hex, listed from the leaf up to the root.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { IMMUTABLE, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { bodyCap } from "../http/body-limit.ts";
import { ProblemError } from "../http/problem.ts";
import { existingRepository } from "../http/repository-param.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { parseTilePath } from "../log/tiles.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const Count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const InclusionQuery = z
  .object({ index: Count.optional(), path: TargetPathSchema.optional(), size: Count.optional() })
  .strict()
  .refine((q) => (q.index === undefined) !== (q.path === undefined), "give exactly one of index and path");

const ConsistencyQuery = z.object({ from: Count, to: Count }).strict();

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
    const repository = await existingRepository(c);
    const { proof } = unwrap(await repository.logInclusion(query));
    c.header("Cache-Control", query.size === undefined ? "no-store" : IMMUTABLE);
    return c.json(proof);
  })
  .get("/proof/consistency", validate("query", ConsistencyQuery), async (c) => {
    const { from, to } = c.req.valid("query");
    const repository = await existingRepository(c);
    const { proof } = unwrap(await repository.logConsistency(from, to));
    c.header("Cache-Control", IMMUTABLE);
    return c.json(proof);
  })
  .post("/cosignatures", bodyCap(64 * 1024, "a cosigned checkpoint is at most 64 KiB"), async (c) => {
    const repository = await existingRepository(c);
    const { checkpoint } = unwrap(await repository.addLogCosignatures(await c.req.text()));
    return c.text(checkpoint, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  });
