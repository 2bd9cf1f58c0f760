import {
  DELEGATION_NAME,
  DelegationSpecSchema,
  DraftSignatureSchema,
  DraftSignaturesSchema,
} from "../schemas/delegations.ts";
import { admin, json, problem, repo } from "./shared.ts";

/** Delegations (docs/operators.md "Delegations"). */
export const DELEGATIONS = {
  "/{repo}/admin/delegations": {
    get: {
      summary: "the delegations, in the order a client's search meets them",
      security: admin,
      parameters: [repo],
      responses: {
        200: {
          description:
            "{delegations: [{name, parent, terminating, signing, paths | path_hash_prefixes, bins?, keyids?, threshold?, version?, expires?, pending?, draft?, binDrafts?}], targets: {signing: online | offline, version, expires, keyids, threshold}, pending: [{id, kind, change, expiresAt}]} (offline delegations: keyids, threshold, the newest version, the earliest expiry of the role and its bins, changes waiting for the owners (with bins: in all its bins), and the draft of the next version {version, sha256, signatures (keyids), frozen}; with bins, binDrafts: each bin's draft {role, version, sha256, signatures, frozen}; an online delegation: its published version and expiry; targets.signing offline: protected-delegations mode; pending: the open ceremony that changes targets)",
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
          "delegation_exists, unknown_delegation (parent), delegation_has_bins (parent holds bins), delegation_too_deep, too_many_delegations, ambiguous_delegation (a listed target no role can hold for both python-tuf and tuf-js), delegation_change_too_large (the change would read more targets than one request may: a narrower pattern reads fewer), offline_namespace (a target the service lists would move into an offline delegation, a target an offline delegation's owners list would leave it, or the parent is offline), pending_changes (a change waiting for an offline delegation's owners would leave its namespace), bad_version",
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
          "delegation_has_delegations: remove the nested ones first; ambiguous_delegation; delegation_change_too_large; pending_changes: an offline delegation's changes still wait for its owners' signatures; ceremony_open (protected mode: another ceremony is open)",
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
