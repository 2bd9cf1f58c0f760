/**
 * GET/HEAD /{repo}/targets/{dir/}{hash}.{name}: target files stored in R2,
 * under consistent-snapshot names. Bytes are stored once, under their SHA-256;
 * a name prefixed with another hash the metadata lists (sha512) is resolved
 * through the repository's targets index. Immutable: the name pins the bytes.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { IMMUTABLE, serveCached } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { existingRepository } from "../http/repository-param.ts";
import { targetPathProblem } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const HASHED_NAME = /^(?<hash>[0-9a-f]{64}|[0-9a-f]{128})\.(?<name>.+)$/;

export const targets = new Hono<AppEnv>().get("/:path{.+}", async (c) => {
  const requested = c.req.param("path");
  const slash = requested.lastIndexOf("/");
  const match = HASHED_NAME.exec(requested.slice(slash + 1));
  if (!match?.groups) {
    throw new ProblemError(404, { code: "not_found", detail: "target files are named <sha256 or sha512>.<name>" });
  }
  const { hash, name } = match.groups as { hash: string; name: string };
  const path = requested.slice(0, slash + 1) + name;
  // A path no target can have (too long for its storage key, not NFC, …) is simply not there.
  const problem = targetPathProblem(path);
  if (problem) throw new ProblemError(404, { code: "not_found", detail: `no such target: ${problem}` });
  const repo = c.get("repo");
  let sha256 = hash;
  if (hash.length === 128) {
    const { stub: repository } = await existingRepository(c);
    const found = await repository.target(path);
    if (!found.ok || found.target.hashes.sha512 !== hash || !found.target.hashes.sha256) {
      throw new ProblemError(404, { code: "not_found", detail: `no target "${path}" with that sha512` });
    }
    sha256 = found.target.hashes.sha256;
  }
  const bucket = new RepositoryBucket(c.env.BUCKET, repo);
  const response = await serveCached(c, {
    r2Key: bucket.targetKey(path, sha256),
    cacheControl: IMMUTABLE,
    contentType: "application/octet-stream",
    load: () => bucket.getTarget(path, sha256),
  });
  if (!response) throw new ProblemError(404, { code: "not_found", detail: `no stored bytes for target "${path}"` });
  return response;
});
