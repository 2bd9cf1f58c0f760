/**
 * Attestations, served from the edge: every answer is a document the
 * repository's Durable Object published to R2 (durable-objects/public-documents.ts),
 * read through the edge cache; no request reaches the object.
 *   GET /{repo}/attestations/{target path}            the target's attestations (short-lived)
 *   GET /{repo}/attestation-bundles/{sha256}.json     one attestation's bytes (immutable, content-addressed)
 *   GET /{repo}/-/npm/v1/attestations/{name}@{version}  npm's shape (npm-flavoured repositories)
 *   GET /{repo}/integrity/{project}/{version}/{file}/provenance  PEP 740 (PyPI-flavoured repositories)
 * Every answer carries a strong ETag and answers If-None-Match with 304. A
 * document that is missing while the repository's documents are still being
 * written (the backfill of a repository older than them, a change of flavour:
 * the index says `complete: false`) is 503 with Retry-After, never a wrong "none".
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { AttestationIndex } from "../attestations/documents.ts";
import { npmTarballPath } from "../attestations/policy.ts";
import { fileMatchesRelease } from "../attestations/pypi-names.ts";
import { IMMUTABLE, respondWithEtag, serveCached, shortCacheSeconds, shortLived } from "../http/edge-cache.ts";
import { ProblemError } from "../http/problem.ts";
import { requireRepository } from "../http/repository-param.ts";
import { Published } from "../pages/published.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";
import { RepositoryBucket } from "../storage/repository-bucket.ts";

const notFound = (detail: string) => new ProblemError(404, { code: "not_found", detail });

function shortCache(c: Context<AppEnv>): string {
  return shortLived(shortCacheSeconds(c.env));
}

/** The repository's attestation documents' index (null until its object first wrote it). */
function attestationIndex(c: Context<AppEnv>): Promise<AttestationIndex | null> {
  const published = new Published(c);
  return published.json<AttestationIndex>(published.attestationIndex());
}

/** The index, once complete; else 503: a missing document may only mean "not written yet". */
async function completeIndex(c: Context<AppEnv>): Promise<AttestationIndex> {
  const index = await attestationIndex(c);
  if (index?.complete) return index;
  const seconds = Math.max(shortCacheSeconds(c.env), 1);
  throw new ProblemError(
    503,
    {
      code: "documents_pending",
      detail: `repository "${c.get("repo")}" is still publishing its attestation documents; retry in ${seconds} s`,
    },
    { "Retry-After": String(seconds) },
  );
}

/** 404 unless the repository has `flavour` (read from its index, not from its object). */
async function requireFlavour(c: Context<AppEnv>, flavour: "npm" | "pypi"): Promise<void> {
  await requireRepository(c);
  const index = await attestationIndex(c);
  if (index && index.flavour !== flavour) throw notFound(`repository "${c.get("repo")}" is not ${flavour}-flavoured`);
  if (!index) await completeIndex(c);
}

/** A published document, through the edge cache; null if it is not in R2. */
function servePublic(c: Context<AppEnv>, key: string): Promise<Response | null> {
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  return serveCached(c, {
    r2Key: key,
    cacheControl: shortCache(c),
    contentType: "application/json",
    load: () => bucket.getPublic(key),
  });
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
  await requireRepository(c);
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const served = await servePublic(c, bucket.attestationListKey(path.data));
  if (served) return served;
  // No document: the target has no public attestation.
  await completeIndex(c);
  return respondWithEtag(c, JSON.stringify({ target: path.data, attestations: [] }), {
    "Content-Type": "application/json",
    "Cache-Control": shortCache(c),
  });
});

export const npmAttestations = new Hono<AppEnv>().get("/:spec{.+}", async (c) => {
  await requireFlavour(c, "npm");
  const spec = c.req.param("spec");
  const at = spec.lastIndexOf("@");
  if (at <= 0) throw notFound("ask for <name>@<version>");
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const served = await servePublic(c, bucket.npmDocumentKey(npmTarballPath(spec.slice(0, at), spec.slice(at + 1))));
  if (served) return served;
  await completeIndex(c);
  throw notFound(`no attestations for ${spec}`);
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
  const bucket = new RepositoryBucket(c.env.BUCKET, c.get("repo"));
  const served = await servePublic(c, bucket.pep740DocumentKey(filename));
  if (!served) {
    await completeIndex(c);
    throw notFound(`no provenance for ${filename}`);
  }
  // One stored document answers both media types: the negotiated one is set here (a 304 keeps Vary too).
  const response = new Response(served.body, served);
  if (response.status === 200) response.headers.set("Content-Type", contentType);
  response.headers.set("Vary", "Accept");
  return response;
});
