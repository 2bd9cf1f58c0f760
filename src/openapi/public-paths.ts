import { VERIFY_SCRIPT_URL } from "../routes/pages.ts";
import { documentsPending, immutableFile, problem, repo } from "./shared.ts";

/** What clients read: metadata, targets, health, pages, the log and attestations (no token). */
export const PUBLIC_PATHS = {
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
};
