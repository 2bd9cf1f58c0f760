/**
 * Operational metrics in the Prometheus text format, for operators' monitoring
 * (admin token required; never cached):
 *   GET /metrics                  every repository in the bucket, labelled repository="…"
 *   GET /{repo}/admin/metrics     one repository
 * Publish rounds and their duration, metadata files published, pushes accepted
 * and refused by code, seconds to each role's expiry, queue depth, log size,
 * quarantined targets, key-encryption key re-seal progress (docs/operators.md);
 * and, at /metrics, the Sigstore trusted root's refresh through TUF.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { adminAuth } from "../http/admin-auth.ts";
import { repositoryStub } from "../repository-stub.ts";
import { sigstoreTrustStub } from "../sigstore-trust-stub.ts";
import { type MetricFamily, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../metrics/prometheus.ts";
import { listRepositories } from "../storage/repository-directory.ts";

function exposition(families: MetricFamily[], extra: MetricFamily[] = []): Response {
  return new Response(renderPrometheus([...extra, ...families]), {
    headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" },
  });
}

/** Under /{repo}/admin (the admin router authenticates). */
export const repositoryMetrics = new Hono<AppEnv>().get("/", async (c) =>
  exposition(await repositoryStub(c.env, c.get("repo")).metrics()),
);

/** At /metrics: every repository, and how many there are. */
export const serviceMetrics = new Hono<AppEnv>().get("/", adminAuth({ token: (env) => env.ADMIN_TOKEN }), async (c) => {
  const repos = await listRepositories(c.env.BUCKET);
  const families = (await Promise.all(repos.map((repo) => repositoryStub(c.env, repo).metrics()))).flat();
  families.push(...(await sigstoreTrustStub(c.env).metrics()));
  return exposition(families, [
    {
      name: "tuf_edge_repositories",
      help: "Repositories with published files in the bucket.",
      type: "gauge",
      samples: [{ labels: {}, value: repos.length }],
    },
  ]);
});
