import { BootstrapSchema, LogWitnessesSchema, TargetsChangeSchema } from "../schemas/admin.ts";
import { CancelCeremonySchema, OpenCeremonySchema, SubmitSignatureSchema } from "../schemas/ceremonies.ts";
import { MAX_CREDENTIALS_PER_REGISTRY } from "../schemas/registry-name.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { admin, json, problem, registryName, repo, schema } from "./shared.ts";

/** The admin API (bearer token): bootstrap, targets, status, ceremonies, registries, the log's witnesses. */
export const ADMIN_PATHS = {
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
  "/{repo}/admin/pages/resend": {
    post: {
      summary:
        "send the pages' target documents again from a log entry (all by default): after the site-documents queue dropped some, or to rebuild the pages; a stored document as new as the one sent is kept. tuf_edge_site_documents_behind counts down as they are sent",
      security: admin,
      parameters: [
        repo,
        {
          name: "from",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 0, default: 0 },
          description:
            "the first log entry whose targets' documents are sent (the cursor moves back to it, never forward)",
        },
      ],
      responses: {
        202: {
          description:
            "the documents are being sent: `from`, the entry they start from, and `behind`, the entries not sent yet",
        },
        400: problem("from is not a whole number from 0"),
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
    get: {
      summary: "audit log, newest first",
      security: admin,
      parameters: [
        repo,
        {
          name: "limit",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          description: "how many of the newest events (of `kind`, if given)",
        },
        {
          name: "kind",
          in: "query",
          required: false,
          schema: { type: "string", pattern: "^[a-z][a-z0-9-]{0,63}$" },
          description: "only events of this kind, e.g. `publish-failed`",
        },
      ],
      responses: { 200: { description: "events" }, 400: problem("limit or kind is invalid") },
    },
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
};
