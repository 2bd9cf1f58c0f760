/**
 * The OpenAPI 3.1 document of tuf-edge's HTTP API, served at /openapi.json.
 * Request bodies are generated from the same zod schemas that validate them,
 * so the document cannot drift from what the service accepts.
 */
import { z } from "zod";
import { BootstrapSchema, LogWitnessesSchema, TargetsChangeSchema } from "./schemas/admin.ts";
import { VERIFY_SCRIPT_URL } from "./routes/pages.ts";
import { OpenCeremonySchema, SubmitSignatureSchema, CancelCeremonySchema } from "./schemas/ceremonies.ts";
import { MAX_CREDENTIALS_PER_REGISTRY, REGISTRY_NAME } from "./schemas/registry-name.ts";
import { TargetPathSchema } from "./schemas/target-path.ts";
import { UploadManifestSchema, WebhookBodySchema } from "./schemas/webhook.ts";
import { ResealSchema } from "./schemas/kek.ts";
import { QuarantineActionSchema, QuarantineSchema } from "./schemas/quarantine.ts";
import {
  DELEGATION_NAME,
  DelegationSpecSchema,
  DraftSignatureSchema,
  DraftSignaturesSchema,
} from "./schemas/delegations.ts";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: "any", io: "input" });
const json = (s: z.ZodType) => ({ content: { "application/json": { schema: schema(s) } } });
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
const repo = {
  name: "repo",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$" },
  description:
    "the repository; a request that is not authenticated and names a repository that does not exist is 404 unknown_repository (no repository is created)",
};
const admin = [{ adminToken: [] }];
const webhookHeaders = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({
  name,
  in: "header",
  required: true,
  schema: { type: "string" },
  description: "Standard Webhooks signature header",
}));
const registryName = {
  name: "name",
  in: "path",
  required: true,
  schema: { type: "string", pattern: REGISTRY_NAME.source },
  description: "the registry's name, as registered by the admin API",
};
const pushResponses = {
  200: { description: "published; the task holds the versions" },
  202: {
    description:
      'accepted; poll Location. Also the answer when events are for paths an offline delegation claims: they are queued for its owners (task state "awaiting-owners", awaitingOwners names the roles) and published once the owners sign the role\'s next version',
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
const documentsPending = problem(
  "documents_pending: the repository is still publishing its attestation documents (Retry-After); no Durable Object is asked",
);
const prefer = {
  name: "Prefer",
  in: "header",
  schema: { type: "string", enum: ["respond-async"] },
  description: "answer 202 with a task instead of waiting for the publish",
};

const immutableFile = (summary: string) => ({
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

/** Operations: key-encryption key rotation, quarantine (README "Quarantine", docs/operators.md). */
const kekResponses = {
  200: { description: "where sealed values stand: current KEK, counts per KEK id, remaining" },
  409: problem("kek_unknown: a sealed value names a KEK that KEY_ENCRYPTION_KEY does not hold"),
  503: problem("kek_not_configured: KEY_ENCRYPTION_KEY is missing or malformed"),
};
const OPERATIONS = {
  "/admin/kek": {
    get: { summary: "every repository's sealed values per KEK id", security: admin, responses: kekResponses },
  },
  "/admin/kek/reseal": {
    post: {
      summary: "re-seal up to `budget` values across repositories under the current KEK; call again until done",
      security: admin,
      requestBody: json(ResealSchema),
      responses: kekResponses,
    },
  },
  "/{repo}/admin/kek": {
    get: {
      summary: "this repository's sealed values per KEK id",
      security: admin,
      parameters: [repo],
      responses: kekResponses,
    },
  },
  "/{repo}/admin/kek/reseal": {
    post: {
      summary: "re-seal up to `budget` of this repository's values under the current KEK",
      security: admin,
      parameters: [repo],
      requestBody: json(ResealSchema),
      responses: kekResponses,
    },
  },
  "/metrics": {
    get: {
      summary: "every repository's operational metrics, Prometheus text format (docs/operators.md, alerting)",
      security: admin,
      responses: { 200: { description: "text/plain; version=0.0.4" }, 401: problem("no or a wrong admin token") },
    },
  },
  "/{repo}/admin/metrics": {
    get: {
      summary: "one repository's operational metrics, Prometheus text format",
      security: admin,
      parameters: [repo],
      responses: { 200: { description: "text/plain; version=0.0.4" } },
    },
  },
  "/{repo}/admin/quarantine": {
    get: {
      summary: "quarantined targets",
      security: admin,
      parameters: [repo],
      responses: { 200: { description: "list" } },
    },
    post: {
      summary: "take a listed target out of the metadata; its bytes and attestations are kept, not served",
      security: admin,
      parameters: [repo],
      requestBody: json(QuarantineSchema),
      responses: {
        200: { description: "quarantined and published" },
        409: problem("unknown_target, quarantined_target"),
      },
    },
  },
  "/{repo}/admin/quarantine/{action}": {
    post: {
      summary: "release (listed again, same entry) or remove (kept bytes deleted) a quarantined target",
      security: admin,
      parameters: [repo, { name: "action", in: "path", required: true, schema: { enum: ["release", "remove"] } }],
      requestBody: json(QuarantineActionSchema),
      responses: { 200: { description: "published" }, 409: problem("not_quarantined") },
    },
  },
  "/{repo}/admin/quarantine/files/{path}": {
    get: {
      summary: "a quarantined target's kept bytes, for review",
      security: admin,
      parameters: [repo, { name: "path", in: "path", required: true, schema: { type: "string" } }],
      responses: { 200: { description: "the bytes" }, 404: problem("not quarantined, or no bytes held") },
    },
  },
};

/** Delegations (docs/operators.md "Delegations"). */
const DELEGATIONS = {
  "/{repo}/admin/delegations": {
    get: {
      summary: "the delegations, in the order a client's search meets them",
      security: admin,
      parameters: [repo],
      responses: {
        200: {
          description:
            "{delegations: [{name, parent, terminating, signing, paths | path_hash_prefixes, bins?, keyids?, threshold?, version?, expires?, pending?, draft?, binDrafts?}], targets: {signing: online | offline, version, expires, keyids, threshold}, pending: [{id, kind, change, expiresAt}]} (offline delegations: keyids, threshold, the newest version and its expiry, changes waiting for the owners (with bins: in all its bins), and the draft of the next version {version, sha256, signatures (keyids), frozen}; with bins, binDrafts: each bin's draft {role, version, sha256, signatures, frozen}; every delegation: its published version and expiry; targets.signing offline: protected-delegations mode; pending: the open ceremony that changes targets)",
        },
      },
    },
    post: {
      summary:
        "add a delegation before the catch-all hash bins: online (signed with the online key; the targets it claims move into it) or offline (signing \"offline\" with its owners' keys, threshold and metadata, the exact JSON text of its version 1 signed by them; its namespace must hold no target yet; with bins, at most 16: metadata delegates to the bins with succinct_roles naming the owners' keys and threshold, and binsMetadata holds each bin's version 1, empty and signed by them, in bin order); answered once published",
      security: admin,
      parameters: [repo],
      requestBody: json(DelegationSpecSchema),
      responses: {
        201: { description: "{delegation, versions}: published" },
        202: {
          description:
            "{ceremony}: protected-delegations mode and parent targets: nothing changed yet; a delegation-change ceremony drafts the next targets, applied and published when the targets key holders' threshold signs it (POST /{repo}/admin/ceremonies/{id}/signatures)",
        },
        400: problem(
          "invalid_request: a name, pattern, prefix or bins count that is not allowed; an offline delegation without keys, threshold or metadata, or with bins but not one binsMetadata per bin",
        ),
        409: problem(
          "delegation_exists, unknown_delegation (parent), delegation_has_bins (parent holds bins), delegation_too_deep, too_many_delegations, ambiguous_delegation (a listed target no role can hold for both python-tuf and tuf-js), offline_namespace (a target the service lists would move into an offline delegation, a target an offline delegation's owners list would leave it, or the parent is offline), pending_changes (a change waiting for an offline delegation's owners would leave its namespace), bad_version",
        ),
        422: problem(
          "an offline delegation's version 1 (or a bin's) refused: invalid_metadata (with bins: succinct_roles other than the owners' keys, threshold, bit_length and name_prefix <name>.bins), threshold_not_met, expired, path_not_claimed",
        ),
      },
    },
  },
  "/{repo}/admin/delegations/{name}": {
    delete: {
      summary:
        "remove a delegation; its targets move to whichever role claims them now; its role stays in the snapshot",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
      ],
      responses: {
        200: { description: "{removed, versions}: published" },
        202: {
          description:
            "{ceremony}: protected-delegations mode and parent targets: nothing changed yet; removed when the targets key holders' threshold signs the ceremony",
        },
        404: problem("not_found: no such delegation"),
        409: problem(
          "delegation_has_delegations: remove the nested ones first; ambiguous_delegation; pending_changes: an offline delegation's changes still wait for its owners' signatures; ceremony_open (protected mode: another ceremony is open)",
        ),
      },
    },
  },
  "/{repo}/admin/delegations/{name}/draft": {
    get: {
      summary:
        "an offline delegation's next version as the service drafts it for the owners: the published version's signed part with version + 1, a new expiry (the repository's targets validity) and the changes waiting for the owners applied; pinned until published or superseded (made again only while no signature is collected and changes arrived since), frozen from its first signature (later changes queue for the version after)",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
      ],
      responses: {
        200: {
          description:
            "{draft: {delegation, publishedVersion, version, expires, signed, canonical (the exact bytes to sign, as UTF-8 text), sha256, changes (carried), queued (for the version after), keyids, threshold, signatures, frozen}}; each change is {id, type, path, actor, task?, at} with targets.add's length, hashes, custom, targets.yank's reason, or attestations.add's sha256, predicate_type, media_type, publisher (the draft appends {predicate_type, sha256} to the entry's custom.attestations)",
        },
        404: problem("not_found: no such delegation"),
        409: problem("online_delegation: the service signs it; draft_too_large: over 512 KiB"),
      },
    },
  },
  "/{repo}/admin/delegations/{name}/signatures": {
    post: {
      summary:
        "one owner's signature over the draft named by sha256: verified and collected; when the role's threshold is met, the version is assembled, checked like a submitted one and published (answered once published); its queued changes' tasks are published with it",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
      ],
      requestBody: json(DraftSignatureSchema),
      responses: {
        200: { description: "{draft, published: null | {version, versions}}" },
        400: problem("invalid_request"),
        404: problem("not_found: no such delegation"),
        409: problem(
          "stale_draft: the draft named was superseded or published (fetch the draft again; nothing changed); online_delegation",
        ),
        422: problem(
          "invalid_signature: not one of the role's keys, or not over the draft's canonical bytes; expired: the draft expired before the threshold was met",
        ),
      },
    },
  },
  "/{repo}/admin/delegations/{name}/drafts": {
    get: {
      summary:
        "every draft an offline delegation's owners have to sign, one per role: for a delegation with hash bins inside it, each bin (<name>.bins-XX) with changes waiting or a draft being signed (a push touching several bins gives several drafts); for one without, its own draft when changes wait; renew=true: every role's draft (the role's own keeps its succinct_roles), to re-sign them before they expire. Each draft is pinned and frozen as GET …/draft says",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
        { name: "renew", in: "query", required: false, schema: { type: "string", enum: ["true", "false"] } },
      ],
      responses: {
        200: {
          description:
            "{drafts: [{delegation (the role: the delegation or <name>.bins-XX), publishedVersion, version, expires, signed, canonical, sha256, changes, queued, keyids, threshold, signatures, frozen}]} in bin order (the role itself first)",
        },
        404: problem("not_found: no such delegation"),
        409: problem("online_delegation: the service signs it; draft_too_large: over 512 KiB"),
      },
    },
  },
  "/{repo}/admin/delegations/{name}/drafts/signatures": {
    post: {
      summary:
        "one owner's signatures over several drafts of the delegation's roles, each named by role and sha256: all verified before any is kept (a refused one changes nothing); the drafts whose threshold is then met are checked like submitted versions, stored together and published in one round (answered once published); their queued changes' tasks are published with them",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
      ],
      requestBody: json(DraftSignaturesSchema),
      responses: {
        200: { description: "{drafts, published: null | {roles: [{role, version}], versions}}" },
        400: problem("invalid_request"),
        404: problem("not_found: no such delegation"),
        409: problem(
          "stale_draft: a draft named was superseded or published (fetch the drafts again; nothing changed); online_delegation",
        ),
        422: problem(
          "invalid_signature: not one of the owners' keys, or not over that draft's canonical bytes; invalid_request: a role that is not the delegation's or its bins', or signatures over two drafts of one role",
        ),
      },
    },
  },
  "/{repo}/admin/delegations/{name}/metadata": {
    put: {
      summary:
        "an offline delegation's next version, signed by its owners: checked (a threshold of its keys, _type targets, version = newest + 1, not expired, every path claimed by this role) and published as these exact bytes; answered once published",
      security: admin,
      parameters: [
        repo,
        { name: "name", in: "path", required: true, schema: { type: "string", pattern: DELEGATION_NAME.source } },
      ],
      requestBody: {
        content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
      },
      responses: {
        200: { description: "{delegation, version, versions}: published" },
        404: problem("not_found: no such delegation"),
        409: problem("online_delegation: the service signs it; bad_version: not the next version"),
        413: problem("body_too_large"),
        422: problem("invalid_metadata, threshold_not_met, expired, path_not_claimed"),
      },
    },
  },
};

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "tuf-edge",
    version: "0.1.0",
    description: "TUF metadata, targets and registry pushes at the edge. Errors are RFC 9457 problem details.",
  },
  components: {
    securitySchemes: {
      adminToken: {
        type: "http",
        scheme: "bearer",
        description: "the ADMIN_TOKEN secret; the scheme name is case-insensitive (RFC 9110)",
      },
    },
    schemas: {
      Problem: {
        type: "object",
        required: ["type", "title", "status", "code", "detail"],
        properties: {
          type: { type: "string" },
          title: { type: "string" },
          status: { type: "integer" },
          code: { type: "string", description: "stable machine-readable reason" },
          detail: { type: "string" },
          errors: {
            type: "array",
            items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
          },
        },
      },
    },
  },
  paths: {
    "/{repo}/metadata/{file}": immutableFile(
      "N.root.json, timestamp.json, V.snapshot.json, V.targets.json, V.<bin>.json",
    ),
    "/{repo}/targets/{path}": {
      get: {
        summary: "a target's bytes, at <dir>/<sha256 or sha512>.<name>",
        parameters: [repo, { name: "path", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          200: { description: "the bytes; immutable" },
          404: problem("no such target, including a <dir>/<name> that is not a valid target path (e.g. too long)"),
        },
      },
    },
    "/health": {
      get: {
        summary:
          "every repository's timestamp validity, and whether it can publish; computed per request (no-store) from each repository's published timestamp.json and site/status.json, read through the edge cache (at most SHORT_CACHE_SECONDS old), never from a Durable Object",
        responses: {
          200: { description: "all valid" },
          503: {
            description:
              'a timestamp expired, or a repository is "blocked": its signing keys cannot be unsealed (publishingBlocked names the code)',
          },
        },
      },
    },
    "/{repo}/health": {
      get: {
        summary:
          "one repository's health, from its published timestamp.json and site/status.json through the edge cache (no Durable Object is asked)",
        parameters: [repo],
        responses: {
          200: { description: "valid" },
          503: { description: 'expired, or "blocked": its signing keys cannot be unsealed (publishingBlocked)' },
        },
      },
    },
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
    "/{repo}/": {
      get: {
        summary:
          "HTML page: the repository overview (root fingerprint and pinning, role timeline, recent changes, log head, warnings)",
        parameters: [repo],
        responses: { 200: { description: "text/html; ETag, 304" }, 404: problem("nothing published yet") },
      },
    },
    "/{repo}/-/targets": {
      get: {
        summary: "HTML page: target paths starting with a prefix, 100 a page",
        parameters: [
          repo,
          { name: "prefix", in: "query", schema: { type: "string", maxLength: 1024 } },
          { name: "cursor", in: "query", schema: { type: "string", maxLength: 2048 } },
        ],
        responses: { 200: { description: "text/html" }, 400: problem("invalid query") },
      },
    },
    "/{repo}/-/target/{path}": {
      get: {
        summary:
          "HTML page: one target (digests, size, yank state, attestations, bin, log entries), re-verified by the browser",
        parameters: [repo, { name: "path", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "text/html" }, 404: { description: "no such target (text/html)" } },
      },
    },
    "/{repo}/log/": {
      get: {
        summary: "HTML page: the log's checkpoint and cosignatures, an entry with its inclusion proof from the tiles",
        parameters: [repo, { name: "entry", in: "query", schema: { type: "integer", minimum: 0 } }],
        responses: { 200: { description: "text/html" }, 400: problem("invalid query") },
      },
    },
    "/{repo}/log/checkpoint": {
      get: {
        summary: "the transparency log's C2SP signed checkpoint (with witness cosignatures)",
        parameters: [repo],
        responses: { 200: { description: "text/plain signed note" } },
      },
    },
    "/{repo}/log/tile/{path}": {
      get: {
        summary: "C2SP tlog-tiles hash tiles and entry bundles (immutable)",
        parameters: [repo, { name: "path", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "tile bytes" }, 404: problem("no such tile") },
      },
    },
    "/{repo}/log/proof/inclusion": {
      get: {
        summary:
          "inclusion proof of an entry (by index or target path) in a published tree size; hex hashes, leaf to root",
        parameters: [
          repo,
          { name: "index", in: "query", schema: { type: "integer" } },
          { name: "path", in: "query", schema: { type: "string" } },
          { name: "size", in: "query", schema: { type: "integer" } },
        ],
        responses: {
          200: { description: "{index, size, leafHash, entry, proof[], rootHash}" },
          404: problem("no such entry or size"),
        },
      },
    },
    "/{repo}/log/proof/consistency": {
      get: {
        summary: "consistency proof between two published tree sizes",
        parameters: [
          repo,
          { name: "from", in: "query", required: true, schema: { type: "integer" } },
          { name: "to", in: "query", required: true, schema: { type: "integer" } },
        ],
        responses: { 200: { description: "{from, to, proof[], fromRoot, toRoot}" } },
      },
    },
    "/{repo}/log/cosignatures": {
      post: {
        summary: "a configured witness's cosigned checkpoint (C2SP tlog-cosignature)",
        parameters: [repo],
        responses: {
          200: { description: "the served checkpoint" },
          422: problem("not a configured witness, or not the current checkpoint"),
        },
      },
    },
    "/{repo}/attestations/{path}": {
      get: {
        summary:
          "a target's attestations: predicate type, digest, publisher, URL (strong ETag, 304, max-age SHORT_CACHE_SECONDS); a document the repository published to R2",
        parameters: [repo, { name: "path", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          200: { description: "list (empty when the target has no public attestation)" },
          304: { description: "If-None-Match matched the ETag" },
          503: documentsPending,
        },
      },
    },
    "/{repo}/attestation-bundles/{sha256}.json": {
      get: {
        summary: "an attestation's bytes, by their SHA-256 (immutable)",
        parameters: [repo, { name: "sha256", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "the bundle" } },
      },
    },
    "/{repo}/-/npm/v1/attestations/{spec}": {
      get: {
        summary:
          "npm's attestations shape for <name>@<version> (npm-flavoured repositories): the publish attestation first, then push order (strong ETag, 304, max-age SHORT_CACHE_SECONDS); a document the repository published to R2",
        parameters: [repo, { name: "spec", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          200: { description: '{"attestations":[{"predicateType","bundle"}]}' },
          304: { description: "If-None-Match matched the ETag" },
          404: problem("none"),
          503: documentsPending,
        },
      },
    },
    "/{repo}/integrity/{project}/{version}/{filename}/provenance": {
      get: {
        summary:
          "PEP 740 provenance (PyPI-flavoured repositories): application/vnd.pypi.integrity.v1+json, or application/json on request (Vary: Accept, strong ETag, 304, max-age SHORT_CACHE_SECONDS; the same bytes for both); 404 unless the file is a distribution of that project and version (PEP 503 names, PEP 440 versions); a document the repository published to R2",
        parameters: [
          repo,
          ...["project", "version", "filename"].map((name) => ({
            name,
            in: "path",
            required: true,
            schema: { type: "string" },
          })),
        ],
        responses: {
          200: { description: '{"version":1,"attestation_bundles":[{"publisher","attestations"}]}' },
          304: { description: "If-None-Match matched the ETag" },
          404: problem("none"),
          406: problem("the Accept header allows neither media type"),
          503: documentsPending,
        },
      },
    },
    "/{repo}/admin/attestation-policy": {
      get: {
        summary: "the attestation policy",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "policy" } },
      },
      put: {
        summary: "set the attestation policy: flavour, predicate types, identities, trusted root",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "policy" } },
      },
    },
    "/{repo}/admin/online-key": {
      get: {
        summary: "the online public key a root v1 must name",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "{keyid, key}" } },
      },
    },
    "/{repo}/admin/bootstrap": {
      post: {
        summary: "bootstrap with root v1 and settings",
        security: admin,
        parameters: [repo],
        requestBody: json(BootstrapSchema),
        responses: {
          201: { description: "published" },
          409: problem("already bootstrapped"),
          422: problem("the root or settings are invalid"),
        },
      },
    },
    "/{repo}/admin/targets": {
      post: {
        summary: "add and remove targets (operator)",
        security: admin,
        parameters: [repo],
        requestBody: json(TargetsChangeSchema),
        responses: {
          200: { description: "published" },
          202: {
            description:
              'accepted: respond-async (with "publish": "deferred", a batch of an import: stored, published when the import ends, at the latest at publishBy), or awaitingOwners names offline delegations whose owners must sign part of the change',
          },
          400: problem('invalid, or "publish": "deferred" without "Prefer: respond-async"'),
          409: problem("a published path's length and hashes never change (immutable_target shows them)"),
          503: problem("stored; publish will be retried"),
        },
      },
    },
    "/{repo}/admin/publish": {
      post: {
        summary:
          "an import's end: publish now what its deferred batches stored (the round starts at once; poll status until pendingChanges is false)",
        security: admin,
        parameters: [repo],
        responses: {
          200: { description: "nothing was waiting to be published" },
          202: { description: "publishing started" },
          409: problem("not bootstrapped"),
        },
      },
    },
    "/{repo}/admin/targets/{path}": {
      put: {
        summary: "upload a target's bytes (operator)",
        security: admin,
        parameters: [
          repo,
          { name: "path", in: "path", required: true, schema: { type: "string" } },
          { name: "sha256", in: "query", required: true, schema: { type: "string" } },
          {
            name: "path",
            in: "query",
            required: true,
            schema: schema(TargetPathSchema),
            description:
              "the target path again, exactly as in the URL: URL paths arrive normalised (dot segments removed), the query does not, so `dir/../x.txt` is refused rather than stored as `x.txt`",
          },
        ],
        responses: {
          201: { description: "stored and published" },
          202: {
            description:
              "stored, and waiting for the owners of the offline delegation that claims the path (awaitingOwners); not listed until they sign",
          },
          400: problem("invalid path, or the URL's path is not ?path="),
          409: problem(
            "the path was published with another length or hashes, or upload_in_progress: another upload holds the path for other bytes",
          ),
          422: problem("digest mismatch; nothing stored"),
        },
      },
    },
    "/{repo}/admin/status": {
      get: {
        summary: "versions, expiries, next re-sign, ceremonies, warnings",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "status" } },
      },
    },
    "/{repo}/admin/events": {
      get: { summary: "audit log", security: admin, parameters: [repo], responses: { 200: { description: "events" } } },
    },
    "/{repo}/admin/refresh": {
      post: {
        summary: "re-sign what is due now",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "re-signed roles" } },
      },
    },
    "/{repo}/admin/ceremonies": {
      get: {
        summary: "ceremonies, newest first",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "list" } },
      },
      post: {
        summary:
          "open a ceremony: online-key-rotation (in protected-delegations mode it also drafts the next targets, re-keying the catch-all bins), root-change (in protected-delegations mode a draft that gives roles.targets other keys or another threshold also drafts the next targets, signed by the new targets keys and published with the root), root-refresh, protect-delegations (root N+1 names keys, default the root keys with the root threshold, for targets instead of the online key, with the first offline targets drafted beside it), targets-refresh (protected mode: the same targets with a later expiry)",
        security: admin,
        parameters: [repo],
        requestBody: json(OpenCeremonySchema),
        responses: {
          201: {
            description:
              "the ceremony: draft (root N+1, or null), canonical, summary, progress {trustedRoot, draftRoot, targets}, targets (the targets draft: version, canonical, baseVersion, summary, keyids, threshold, signatures, change; or null)",
          },
          409: problem(
            "ceremony_open: another ceremony is open; already_protected; not_protected (targets-refresh in online mode)",
          ),
          422: problem("invalid_request: the online key among the targets keys, or a threshold above their number"),
        },
      },
    },
    "/{repo}/admin/ceremonies/{id}/signatures": {
      post: {
        summary:
          "submit one key holder's signature over the root draft or the targets draft (it counts for the one it verifies over)",
        security: admin,
        parameters: [repo, { name: "id", in: "path", required: true, schema: { type: "string" } }],
        requestBody: json(SubmitSignatureSchema),
        responses: {
          200: {
            description:
              "accepted; published (with the delegation change applied, in one transaction) once every threshold the ceremony needs is met",
          },
          409: problem(
            "draft_stale: the delegations changed since the targets draft was made (nothing changed; cancel and open again); an offline delegation's version 1 refused at publication",
          ),
          422: problem(
            "not_a_root_key, not_a_signer (not a key of this ceremony's signers), invalid_signature (does not verify over either draft)",
          ),
        },
      },
    },
    "/{repo}/admin/ceremonies/{id}/cancel": {
      post: {
        summary: "cancel a ceremony",
        security: admin,
        parameters: [repo, { name: "id", in: "path", required: true, schema: { type: "string" } }],
        requestBody: json(CancelCeremonySchema),
        responses: { 200: { description: "cancelled" } },
      },
    },
    "/{repo}/admin/registries/{name}/credentials": {
      post: {
        summary: "add a webhook credential (hmac: secret returned once; ed25519: public key)",
        security: admin,
        parameters: [repo, registryName],
        responses: {
          201: { description: "the credential" },
          409: problem(
            `too_many_credentials: the registry holds ${MAX_CREDENTIALS_PER_REGISTRY} credentials (counting those in their overlap)`,
          ),
        },
      },
    },
    "/{repo}/admin/registries": {
      get: {
        summary: "the registries that may push, with their credentials (ids, kinds, overlap; never a secret)",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "{registries}" } },
      },
    },
    "/{repo}/admin/registries/{name}": {
      delete: {
        summary: "remove a registry and every credential it holds",
        security: admin,
        parameters: [repo, registryName],
        responses: { 200: { description: "removed" }, 404: problem("no such registry") },
      },
    },
    "/{repo}/admin/registries/{name}/credentials/{id}": {
      delete: {
        summary: "revoke one webhook credential of a registry",
        security: admin,
        parameters: [
          repo,
          registryName,
          { name: "id", in: "path", required: true, schema: { type: "string" }, description: "the credential's id" },
        ],
        responses: { 200: { description: "revoked" }, 404: problem("no such registry or credential") },
      },
    },
    "/{repo}/admin/ceremonies/{id}": {
      get: {
        summary: "one ceremony: its draft, signatures so far, state and audit events",
        security: admin,
        parameters: [repo, { name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: { description: "the ceremony" }, 404: problem("no such ceremony") },
      },
    },
    "/{repo}/admin/log": {
      get: {
        summary: "the transparency log's origin, its verifier key and the witnesses it collects cosignatures from",
        security: admin,
        parameters: [repo],
        responses: { 200: { description: "{origin, verifierKey, witnesses}" } },
      },
    },
    "/{repo}/admin/log/witnesses": {
      put: {
        summary: "replace the witnesses whose cosignatures the log accepts (C2SP verifier keys)",
        security: admin,
        parameters: [repo],
        requestBody: { required: true, ...json(LogWitnessesSchema) },
        responses: { 200: { description: "the witnesses now configured" }, 400: problem("not a verifier key") },
      },
    },
    "/{repo}": {
      get: {
        summary: "redirects (301) to /{repo}/, the repository's overview page",
        parameters: [repo],
        responses: { 301: { description: "to /{repo}/" } },
      },
    },
    [VERIFY_SCRIPT_URL]: {
      get: {
        summary: "the target page's verification script (content-addressed name; immutable)",
        responses: { 200: { description: "JavaScript" }, 304: { description: "If-None-Match matched the ETag" } },
      },
    },
    ...OPERATIONS,
    ...DELEGATIONS,
  },
};
