/**
 * What the OpenAPI document's parts share: request bodies generated from the
 * zod schemas that validate them, problem responses, common parameters.
 */
import { z } from "zod";
import { REGISTRY_NAME } from "../schemas/registry-name.ts";

export const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: "any", io: "input" });
export const json = (s: z.ZodType) => ({ content: { "application/json": { schema: schema(s) } } });
export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
export const repo = {
  name: "repo",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$" },
  description:
    "the repository; a request that is not authenticated and names a repository that does not exist is 404 unknown_repository (no repository is created)",
};
export const admin = [{ adminToken: [] }];
export const webhookHeaders = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({
  name,
  in: "header",
  required: true,
  schema: { type: "string" },
  description: "Standard Webhooks signature header",
}));
export const registryName = {
  name: "name",
  in: "path",
  required: true,
  schema: { type: "string", pattern: REGISTRY_NAME.source },
  description: "the registry's name, as registered by the admin API",
};
/** A push's answer's Server-Timing (src/routes/pushes.ts). */
const pushTimingHeader = {
  "Server-Timing": {
    description:
      "where the answer's time went, in ms: repository;dur= the wait for the repository's Durable Object (its turn, the change checked, stored and committed), object;dur= the part of it inside the object (its checks, its group's turn and transaction), total;dur= the Worker's whole handling",
    schema: { type: "string" },
  },
};

export const pushResponses = {
  200: { description: "published; the task holds the versions", headers: pushTimingHeader },
  202: {
    description:
      'accepted; poll Location. Also the answer when events are for paths an offline delegation claims: they are queued for its owners (task state "awaiting-owners", awaitingOwners names the roles) and published once the owners sign the role\'s next version',
    headers: pushTimingHeader,
  },
  400: problem(
    "invalid body (errors[] names each event and field), or registry_required (unnamed, with several registries)",
  ),
  401: problem("unsigned, forged (no credential of the named registry verifies), or outside the 5-minute window"),
  403: problem("for another repository"),
  409: problem(
    "an event conflicts (immutable_target: a published path's length and hashes never change; unknown target), or delivery_conflict: this registry sent this webhook-id before with another body (the detail names that task), offline_namespace: a quarantine or release of a path an offline delegation claims (attestations for such paths are queued for its owners, like target changes), or draft_too_large: the offline delegation's next version would exceed 512 KiB",
  ),
  503: problem(
    "publishing is blocked: the repository's signing keys cannot be unsealed (kek_unseal_failed, kek_unknown, kek_not_configured); nothing was stored",
  ),
};
/** A public attestation document not yet in R2 while the repository is still writing them (a backfill, a change of flavour). */
export const documentsPending = problem(
  "documents_pending: the repository is still publishing its attestation documents (Retry-After); no Durable Object is asked",
);
export const prefer = {
  name: "Prefer",
  in: "header",
  schema: { type: "string", enum: ["respond-async"] },
  description: "answer 202 with a task instead of waiting for the publish",
};

export const immutableFile = (summary: string) => ({
  get: {
    summary,
    parameters: [repo, { name: "file", in: "path", required: true, schema: { type: "string" } }],
    responses: {
      200: { description: "the signed metadata, byte for byte; strong ETag" },
      304: { description: "not modified" },
      404: problem("no such file"),
    },
  },
});
