import { ResealSchema } from "../schemas/kek.ts";
import { QuarantineActionSchema, QuarantineSchema } from "../schemas/quarantine.ts";
import { admin, json, problem, repo } from "./shared.ts";

/** Operations: key-encryption key rotation, quarantine (README "Quarantine", docs/operators.md). */
const kekResponses = {
  200: { description: "where sealed values stand: current KEK, counts per KEK id, remaining" },
  409: problem("kek_unknown: a sealed value names a KEK that KEY_ENCRYPTION_KEY does not hold"),
  503: problem("kek_not_configured: KEY_ENCRYPTION_KEY is missing or malformed"),
};
export const OPERATIONS = {
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
