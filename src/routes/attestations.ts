/**
 * Attestations, served from the edge:
 *   GET /{repo}/attestations/{target path}            the target's attestations (short-lived)
 *   GET /{repo}/attestation-bundles/{sha256}.json     one attestation's bytes (immutable, content-addressed)
 *   GET /{repo}/-/npm/v1/attestations/{name}@{version}  npm's shape (npm-flavoured repositories)
 *   GET /{repo}/integrity/{project}/{version}/{file}/provenance  PEP 740 (PyPI-flavoured repositories)
 * Every answer carries a strong ETag and answers If-None-Match with 304.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { npmTarballPath } from "../attestations/policy.ts";
import { fileMatchesRelease } from "../attestations/pypi-names.ts";
import { toPep740 } from "../attestations/shapes.ts";
import { IMMUTABLE, respondWithEtag, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { existingRepository } from "../http/repository-param.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const notFound = (detail: string) => new ProblemError(404, { code: "not_found", detail });

/** The repository's object (the one place these routes reach it): 404 if the repository does not exist. */
function repository(c: Context<AppEnv>) {
  return existingRepository(c);
}

async function requireFlavour(c: Context<AppEnv>, flavour: "npm" | "pypi"): Promise<void> {
  const stub = await repository(c);
  const policy = await stub.attestationPolicy();
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

function shortCache(c: Context<AppEnv>): string {
  return shortLived(shortCacheSeconds(c.env));
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
  const stub = await repository(c);
  const list = await stub.attestationsFor({ path: path.data });
  const body = {
    target: path.data,
    attestations: list.map((a) => ({
      predicateType: a.predicateType,
      sha256: a.sha256,
      mediaType: a.mediaType,
      publisher: a.publisher,
      url: `/${c.get("repo")}/attestation-bundles/${a.sha256}.json`,
    })),
  };
  return respondWithEtag(c, JSON.stringify(body), {
    "Content-Type": "application/json",
    "Cache-Control": shortCache(c),
  });
});

/** npm's publish attestation; the registry lists it before the provenance. */
const NPM_PUBLISH = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

export const npmAttestations = new Hono<AppEnv>().get("/:spec{.+}", async (c) => {
  await requireFlavour(c, "npm");
  const spec = c.req.param("spec");
  const at = spec.lastIndexOf("@");
  if (at <= 0) throw notFound("ask for <name>@<version>");
  const stub = await repository(c);
  const stored = await stub.attestationsFor({ path: npmTarballPath(spec.slice(0, at), spec.slice(at + 1)) });
  // Only attestations with a predicate type have npm's shape; the publish attestation first, then push order.
  const list = stored
    .filter((a): a is typeof a & { predicateType: string } => a.predicateType !== null)
    .map((a, i) => ({ a, rank: a.predicateType === NPM_PUBLISH ? -1 : i }))
    .sort((x, y) => x.rank - y.rank)
    .map(({ a }) => a);
  if (list.length === 0) throw notFound(`no attestations for ${spec}`);
  const json = await bundles(
    c,
    list.map((a) => a.sha256),
  );
  const body = { attestations: list.map((a, i) => ({ predicateType: a.predicateType, bundle: json[i] })) };
  return respondWithEtag(c, JSON.stringify(body), {
    "Content-Type": "application/json",
    "Cache-Control": shortCache(c),
  });
});

/** PEP 740's media type for the Integrity API; `application/json` on request. */
export const PYPI_INTEGRITY_TYPE = "application/vnd.pypi.integrity.v1+json";

/**
 * The media type to answer with for an Accept header (RFC 9110 §12.5.1):
 * the acceptable one with the highest weight, PyPI's own on a tie; null when
 * neither is acceptable.
 */
export function negotiateIntegrityType(accept: string | undefined): string | null {
  if (accept === undefined || accept.trim() === "") return PYPI_INTEGRITY_TYPE;
  const offers = [PYPI_INTEGRITY_TYPE, "application/json"];
  const weight = new Map<string, { q: number; specificity: number }>();
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q < 0 || q > 1) continue;
    for (const offer of offers) {
      const specificity = type === offer ? 2 : type === "application/*" ? 1 : type === "*/*" ? 0 : -1;
      const known = weight.get(offer);
      if (specificity >= 0 && (!known || specificity > known.specificity)) weight.set(offer, { q, specificity });
    }
  }
  let best: string | null = null;
  let bestQ = 0;
  for (const offer of offers) {
    const q = weight.get(offer)?.q ?? 0;
    if (q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best;
}

export const pypiIntegrity = new Hono<AppEnv>().get("/:project/:version/:filename/provenance", async (c) => {
  const contentType = negotiateIntegrityType(c.req.header("Accept"));
  if (!contentType) {
    throw new ProblemError(
      406,
      { code: "not_acceptable", detail: `the Integrity API answers ${PYPI_INTEGRITY_TYPE} or application/json` },
      { Vary: "Accept" },
    );
  }
  await requireFlavour(c, "pypi");
  const { project, version, filename } = c.req.param();
  if (!fileMatchesRelease(filename, project, version))
    throw notFound(`${filename} is not a distribution of ${project} ${version}`);
  const stub = await repository(c);
  const list = await stub.attestationsFor({ filename });
  if (list.length === 0) throw notFound(`no provenance for ${filename}`);
  const stored = await bundles(
    c,
    list.map((a) => a.sha256),
  );
  const byPublisher = new Map<
    string,
    { publisher: Record<string, unknown>; attestations: Array<Record<string, unknown>> }
  >();
  list.forEach((a, i) => {
    const json = stored[i];
    if (!json) return;
    const key = JSON.stringify(a.publisher);
    const group = byPublisher.get(key) ?? { publisher: a.publisher, attestations: [] };
    group.attestations.push(toPep740(json));
    byPublisher.set(key, group);
  });
  const body = { version: 1, attestation_bundles: [...byPublisher.values()] };
  return respondWithEtag(c, JSON.stringify(body), {
    "Content-Type": contentType,
    "Cache-Control": shortCache(c),
    Vary: "Accept",
  });
});
