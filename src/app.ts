/** The Worker's routes. Each repository lives under /{repo}/. */
import { Hono } from "hono";
import type { AppEnv } from "./app-env.ts";
import { onError, onNotFound } from "./http/problem.ts";
import { repositoryParam } from "./http/repository-param.ts";
import { admin } from "./routes/admin.ts";
import { repoHealth, serviceHealth } from "./routes/health.ts";
import { attestationFiles, attestationLists, npmAttestations, pypiIntegrity } from "./routes/attestations.ts";
import { serviceKek } from "./routes/kek.ts";
import { log } from "./routes/log.ts";
import { serviceMetrics } from "./routes/metrics.ts";
import { metadata } from "./routes/metadata.ts";
import { serveOpenApi } from "./routes/openapi.ts";
import { pushes } from "./routes/pushes.ts";
import { targets } from "./routes/targets.ts";
import { logPage, overview, pageAssets, pages } from "./routes/pages.ts";

const repository = new Hono<AppEnv>()
  .use(repositoryParam)
  .route("/metadata", metadata)
  .route("/targets", targets)
  .route("/admin", admin)
  .route("/log/", logPage)
  .route("/log", log)
  .route("/attestations", attestationLists)
  .route("/attestation-bundles", attestationFiles)
  .route("/-/npm/v1/attestations", npmAttestations)
  .route("/integrity", pypiIntegrity)
  .route("/", pushes)
  .route("/health", repoHealth)
  .route("/", pages);

export const app = new Hono<AppEnv>()
  .get("/openapi.json", serveOpenApi)
  .route("/health", serviceHealth)
  .route("/admin/kek", serviceKek)
  .route("/metrics", serviceMetrics)
  .route("/-/assets", pageAssets)
  .get("/:repo/", repositoryParam, overview)
  .route("/:repo", repository)
  .notFound(onNotFound)
  .onError(onError);
