/**
 * Streams an authorized upload's body into its staging key (see
 * durable-objects/staged-uploads.ts). If R2 refuses the bytes (wrong length
 * or SHA-256), the repository discards the upload and the request is 422:
 * nothing of it stays, and nothing of it was ever servable.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { StagedUpload } from "../repository-api.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import { ProblemError } from "./problem.ts";

export async function stageUpload(
  c: Context<AppEnv>,
  repository: { abandonUpload(uploadId: string): Promise<void> },
  upload: StagedUpload,
): Promise<void> {
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const body = c.req.raw.body ?? new ReadableStream();
  const staged = await bucket.putStaged(upload.id, body, upload.length, upload.sha256).then(
    () => true,
    () => false,
  );
  if (staged) return;
  await repository.abandonUpload(upload.id);
  throw new ProblemError(422, {
    code: "digest_mismatch",
    detail: `the uploaded bytes are not ${upload.length} bytes with sha256 ${upload.sha256}; nothing was stored`,
  });
}
