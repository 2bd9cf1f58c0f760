/**
 * Registry pushes, signed with Standard Webhooks (no bearer token):
 *   POST /{repo}/webhooks/registry/{name}  a batch of target events from registry {name}
 *                                    (only its credentials are tried)
 *   POST /{repo}/webhooks/registry   the same, for a repository with one registry
 *   PUT  /{repo}/uploads/{path}      an artifact's bytes; the signed body is
 *                                    the manifest in the Upload-Manifest header
 *                                    (it names its registry in "registry")
 *   GET  /{repo}/tasks/{id}          an accepted batch: queued, publishing, published
 * By default a push answers once published (200); with
 * "Prefer: respond-async" it answers 202 at once with a task to poll.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../http/repository-param.ts";
import { pushResponse, signedPush } from "../http/signed-push.ts";
import { unwrap } from "../http/unwrap.ts";
import { MAX_WEBHOOK_BODY, UploadManifestSchema } from "../schemas/webhook.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";
import { fromBase64, fromUtf8 } from "../lib/bytes.ts";
import { registryName } from "./registries.ts";

const webhookLimit = bodyLimit({
  maxSize: MAX_WEBHOOK_BODY,
  onError: () => {
    throw new ProblemError(413, { code: "body_too_large", detail: `a push body is at most ${MAX_WEBHOOK_BODY} bytes` });
  },
});

function decodeManifest(header: string | undefined): string {
  if (!header || header.length > 16_384) {
    throw new ProblemError(401, {
      code: "unsigned",
      detail: "an upload carries its signed manifest in Upload-Manifest (base64url JSON)",
    });
  }
  try {
    return fromUtf8(fromBase64(header.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw new ProblemError(400, { code: "invalid_request", detail: "Upload-Manifest is not base64url of UTF-8 JSON" });
  }
}

export const pushes = new Hono<AppEnv>()
  .post("/webhooks/registry", webhookLimit, async (c) => {
    const push = signedPush(c, await c.req.text());
    return pushResponse(c, unwrap(await repositoryStub(c.env, c.get("repo")).receivePush(push)));
  })
  .post("/webhooks/registry/:name", webhookLimit, async (c) => {
    const push = { ...signedPush(c, await c.req.text()), registry: registryName(c.req.param("name")) };
    return pushResponse(c, unwrap(await repositoryStub(c.env, c.get("repo")).receivePush(push)));
  })
  .put("/uploads/:path{.+}", async (c) => {
    const push = signedPush(c, decodeManifest(c.req.header("Upload-Manifest")));
    const stub = repositoryStub(c.env, c.get("repo"));
    const { registry, duplicate } = unwrap(await stub.authorizeUpload(push));
    if (duplicate) return pushResponse(c, unwrap(await stub.completeUpload(push, registry)));
    // Authentic and valid (the repository checked it); parsed here for the fields the upload needs.
    const manifest = UploadManifestSchema.parse(JSON.parse(push.body));
    if (manifest.path !== c.req.param("path")) {
      throw new ProblemError(400, {
        code: "invalid_request",
        detail: `the URL path and the manifest's path "${manifest.path}" differ`,
      });
    }
    if (c.req.header("Content-Length") !== String(manifest.length)) {
      throw new ProblemError(400, {
        code: "invalid_request",
        detail: `Content-Length must be the manifest's length, ${manifest.length}`,
      });
    }
    try {
      await new RepositoryBucket(c.env.BUCKET, c.get("repo")).putTarget(
        manifest.path,
        c.req.raw.body ?? new ReadableStream(),
        manifest.length,
        manifest.sha256,
      );
    } catch {
      throw new ProblemError(422, {
        code: "digest_mismatch",
        detail: `the uploaded bytes are not ${manifest.length} bytes with sha256 ${manifest.sha256}; nothing was stored`,
      });
    }
    return pushResponse(c, unwrap(await stub.completeUpload(push, registry)));
  })
  .get("/tasks/:id", async (c) => {
    const id = c.req.param("id");
    if (!/^[0-9a-f]{32}$/.test(id))
      throw new ProblemError(404, { code: "not_found", detail: "a task id is 32 hex characters" });
    c.header("Cache-Control", "no-store");
    return c.json(unwrap(await repositoryStub(c.env, c.get("repo")).task(id)).task);
  });
