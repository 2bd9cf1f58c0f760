/**
 * The OpenAPI 3.1 document of tuf-edge's HTTP API, served at /openapi.json.
 * Request bodies are generated from the same zod schemas that validate them,
 * so the document cannot drift from what the service accepts; each group of
 * paths is in src/openapi/, named after who calls it.
 */
import { ADMIN_PATHS } from "./openapi/admin-paths.ts";
import { DELEGATIONS } from "./openapi/delegations.ts";
import { OPERATIONS } from "./openapi/operations.ts";
import { PUBLIC_PATHS } from "./openapi/public-paths.ts";
import { REGISTRY_PATHS } from "./openapi/registry-paths.ts";

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
  paths: { ...PUBLIC_PATHS, ...REGISTRY_PATHS, ...ADMIN_PATHS, ...OPERATIONS, ...DELEGATIONS },
};
