import { UploadManifestSchema, WebhookBodySchema } from "../schemas/webhook.ts";
import { json, prefer, problem, pushResponses, registryName, repo, schema, webhookHeaders } from "./shared.ts";

/** What registries send: signed webhooks, signed uploads, and their tasks. */
export const REGISTRY_PATHS = {
  "/{repo}/webhooks/registry/{name}": {
    post: {
      summary:
        "registry {name}'s signed batch of target events (all or nothing); only that registry's credentials are tried",
      parameters: [repo, registryName, ...webhookHeaders, prefer],
      requestBody: json(WebhookBodySchema),
      responses: pushResponses,
    },
  },
  "/{repo}/webhooks/registry": {
    post: {
      summary:
        "the same, without naming the registry: only for a repository with exactly one registry (else 400 registry_required)",
      parameters: [repo, ...webhookHeaders, prefer],
      requestBody: json(WebhookBodySchema),
      responses: pushResponses,
    },
  },
  "/{repo}/uploads/{path}": {
    put: {
      summary: "a registry's signed artifact upload, streamed into R2 and hash-checked",
      parameters: [
        repo,
        { name: "path", in: "path", required: true, schema: { type: "string" } },
        ...webhookHeaders,
        prefer,
        {
          name: "Upload-Manifest",
          in: "header",
          required: true,
          schema: { type: "string" },
          description: `base64url of the signed JSON manifest (its "registry" is required when the repository has several): ${JSON.stringify(schema(UploadManifestSchema))}`,
        },
      ],
      requestBody: { content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
      responses: {
        200: { description: "published" },
        202: { description: "accepted" },
        400: problem(
          "invalid manifest (errors[] names the field), the URL path is not the manifest's, or registry_required (the repository has several registries)",
        ),
        401: problem("unsigned or forged"),
        409: problem(
          "immutable_target (the path was published with another length or hashes), upload_in_progress (another upload holds the path for other bytes), upload_expired (the upload was abandoned for too long), or delivery_conflict (this registry's webhook-id with another manifest)",
        ),
        422: problem("bytes do not match the manifest; nothing stored"),
      },
    },
  },
  "/{repo}/tasks/{id}": {
    get: {
      summary:
        "an accepted push: queued, publishing, published, or awaiting-owners (some of its changes wait for offline roles' owners, named in awaitingOwners)",
      parameters: [repo, { name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: { 200: { description: "the task" }, 404: problem("no such task") },
    },
  },
};
