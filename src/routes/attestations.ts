/**
 * Attestations, served from the edge:
 *   GET /{repo}/attestations/{target path}            the target's attestations (short-lived)
 *   GET /{repo}/attestation-bundles/{sha256}.json     one attestation's bytes (immutable, content-addressed)
 *   GET /{repo}/-/npm/v1/attestations/{name}@{version}  npm's shape (npm-flavoured repositories)
 *   GET /{repo}/integrity/{project}/{version}/{file}/provenance  PEP 740 (PyPI-flavoured repositories)
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { npmTarballPath } from "../attestations/policy.ts";
import { toPep740 } from "../attestations/shapes.ts";
import { IMMUTABLE, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../http/repository-param.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const notFound = (detail: string) => new ProblemError(404, { code: "not_found", detail });

async function requireFlavour(c: Context<AppEnv>, flavour: "npm" | "pypi"): Promise<void> {
  const policy = await repositoryStub(c.env, c.get("repo")).attestationPolicy();
  if (policy.flavour !== flavour) throw notFound(`repository "${c.get("repo")}" is not ${flavour}-flavoured`);
}

/** The stored attestations' JSON, in order. */
async function bundles(c: Context<AppEnv>, sha256s: string[]): Promise<Array<Record<string, unknown>>> {
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  return Promise.all(
    sha256s.map(async (sha) => {
      const object = await bucket.getAttestation(sha);
      if (!object) throw new Error(`attestation ${sha} is listed but not stored`);
      return object.json<Record<string, unknown>>();
    }),
  );
}

export const attestationFiles = new Hono<AppEnv>().get("/:file{[0-9a-f]{64}\\.json}", async (c) => {
  const sha256 = c.req.param("file").slice(0, 64);
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const response = await serveCached(c, {
    r2Key: bucket.attestationKey(sha256),
    cacheControl: IMMUTABLE,
    contentType: "application/json",
    load: () => bucket.getAttestation(sha256),
  });
  if (!response) throw notFound(`no attestation ${sha256}`);
  return response;
});

export const attestationLists = new Hono<AppEnv>().get("/:path{.+}", async (c) => {
  const path = TargetPathSchema.safeParse(c.req.param("path"));
  if (!path.success) throw notFound("not a target path");
  const list = await repositoryStub(c.env, c.get("repo")).attestationsFor({ path: path.data });
  c.header("Cache-Control", shortLived(shortCacheSeconds(c.env)));
  return c.json({
    target: path.data,
    attestations: list.map((a) => ({
      predicateType: a.predicateType,
      sha256: a.sha256,
      mediaType: a.mediaType,
      publisher: a.publisher,
      url: `/${c.get("repo")}/attestation-bundles/${a.sha256}.json`,
    })),
  });
});

export const npmAttestations = new Hono<AppEnv>().get("/:spec{.+}", async (c) => {
  await requireFlavour(c, "npm");
  const spec = c.req.param("spec");
  const at = spec.lastIndexOf("@");
  if (at <= 0) throw notFound("ask for <name>@<version>");
  const list = await repositoryStub(c.env, c.get("repo")).attestationsFor({
    path: npmTarballPath(spec.slice(0, at), spec.slice(at + 1)),
  });
  if (list.length === 0) throw notFound(`no attestations for ${spec}`);
  const stored = await bundles(
    c,
    list.map((a) => a.sha256),
  );
  c.header("Cache-Control", shortLived(shortCacheSeconds(c.env)));
  return c.json({ attestations: list.map((a, i) => ({ predicateType: a.predicateType, bundle: stored[i] })) });
});

export const pypiIntegrity = new Hono<AppEnv>().get("/:project/:version/:filename/provenance", async (c) => {
  await requireFlavour(c, "pypi");
  const list = await repositoryStub(c.env, c.get("repo")).attestationsFor({ filename: c.req.param("filename") });
  if (list.length === 0) throw notFound(`no provenance for ${c.req.param("filename")}`);
  const stored = await bundles(
    c,
    list.map((a) => a.sha256),
  );
  const byPublisher = new Map<
    string,
    { publisher: Record<string, unknown>; attestations: Array<Record<string, unknown>> }
  >();
  for (const [i, a] of list.entries()) {
    const key = JSON.stringify(a.publisher);
    const group = byPublisher.get(key) ?? { publisher: a.publisher, attestations: [] };
    const bundle = stored[i];
    if (bundle) group.attestations.push(toPep740(bundle)); // bundles() returns one per listed attestation
    byPublisher.set(key, group);
  }
  c.header("Cache-Control", shortLived(shortCacheSeconds(c.env)));
  return c.json({ version: 1, attestation_bundles: [...byPublisher.values()] });
});
