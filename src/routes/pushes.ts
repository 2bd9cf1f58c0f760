/**
 * Registry pushes, signed with Standard Webhooks (no bearer token):
 *   POST /{repo}/webhooks/registry/{name}  a batch of target events from registry {name}
 *                                    (only its credentials are tried)
 *   POST /{repo}/webhooks/registry   the same, for a repository with one registry
 *   PUT  /{repo}/uploads/{path}      an artifact's bytes; the signed body is
 *                                    the manifest in the Upload-Manifest header
 *                                    (it names its registry in "registry"); the
 *                                    bytes are staged, and served only once accepted
 *   GET  /{repo}/tasks/{id}          an accepted batch: queued, publishing, published, or
 *                                    awaiting-owners (changes an offline role's owners must sign)
 * By default a push answers once published (200); with
 * "Prefer: respond-async" it answers 202 at once with a task to poll. An
 * accepted webhook's answer carries Server-Timing: "repository" (the wait
 * for the repository's object), "object" (the part of it inside the object)
 * and "total".
 */
import { type Context, Hono } from "hono";
import { endTime, setMetric, startTime, timing } from "hono/timing";
import type { AppEnv } from "../app-env.ts";
import type { SignedPush } from "../repository-api.ts";
import { bodyCap } from "../http/body-limit.ts";
import { ProblemError } from "../http/problem.ts";
import { existingRepository } from "../http/repository-param.ts";
import { pushResponse, signedPush } from "../http/signed-push.ts";
import { stageUpload } from "../http/stage-upload.ts";
import { unwrap } from "../http/unwrap.ts";
import { parseJson } from "../schemas/parse-json.ts";
import { MAX_WEBHOOK_BODY, WebhookBodySchema } from "../schemas/webhook.ts";
import { fromBase64, fromUtf8 } from "../lib/bytes.ts";
import { registryName } from "./registries.ts";

const webhookLimit = bodyCap(MAX_WEBHOOK_BODY, `a push body is at most ${MAX_WEBHOOK_BODY} bytes`);

/**
 * An accepted push's answer says where its time went (Server-Timing):
 * "repository", the wait for the repository's object (its turn, the change
 * checked, stored and committed), "object", the part of it inside the object
 * (objectCall), and "total", the Worker's handling of the request. A refused
 * one (forged, stale, invalid) says no more than its status: no timing of
 * the checks it failed.
 */
const pushTiming = timing({
  totalDescription: "the Worker's handling of the push",
  enabled: (c) => c.res.status === 200 || c.res.status === 202,
});

/**
 * The call to the repository's object, timed as Server-Timing's
 * "repository"; "object" is the part of it the object itself reports (its
 * checks, its group's turn and transaction), the rest the hop to it and the
 * wait for its thread to take the call and for its commit.
 */
async function objectCall<T extends { ok: boolean; objectMs?: number }>(
  c: Context<AppEnv>,
  call: () => Promise<T>,
): Promise<T> {
  startTime(c, "repository", "the repository's object: its turn and the change stored");
  try {
    const result = await call();
    if (result.objectMs !== undefined) setMetric(c, "object", result.objectMs, "inside the object");
    return result;
  } finally {
    endTime(c, "repository");
  }
}

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

/** A signed push handed to the repository's object, with its body read here (the object authenticates it first). */
async function receivePush(c: Context<AppEnv>, push: SignedPush): Promise<Response> {
  const { stub: repository } = await existingRepository(c);
  const body = parseJson(push.body, WebhookBodySchema);
  return pushResponse(c, unwrap(await objectCall(c, async () => repository.receivePush(push, body))));
}

export const pushes = new Hono<AppEnv>()
  .post("/webhooks/registry", webhookLimit, pushTiming, async (c) => receivePush(c, signedPush(c, await c.req.text())))
  .post("/webhooks/registry/:name", webhookLimit, pushTiming, async (c) =>
    receivePush(c, { ...signedPush(c, await c.req.text()), registry: registryName(c.req.param("name")) }),
  )
  .put("/uploads/:path{.+}", async (c) => {
    const push = signedPush(c, decodeManifest(c.req.header("Upload-Manifest")));
    const { stub } = await existingRepository(c);
    const request = { path: c.req.param("path"), contentLength: c.req.header("Content-Length") ?? null };
    const authorized = unwrap(await stub.authorizeUpload(push, request));
    if (authorized.duplicate)
      return pushResponse(c, unwrap(await stub.completeUpload(push, authorized.registry, null)));
    await stageUpload(c, stub, authorized.upload);
    return pushResponse(c, unwrap(await stub.completeUpload(push, authorized.registry, authorized.upload.id)));
  })
  .get("/tasks/:id", async (c) => {
    const id = c.req.param("id");
    if (!/^[0-9a-f]{32}$/.test(id))
      throw new ProblemError(404, { code: "not_found", detail: "a task id is 32 hex characters" });
    c.header("Cache-Control", "no-store");
    const { stub: repository } = await existingRepository(c);
    return c.json(unwrap(await repository.task(id)).task);
  });
