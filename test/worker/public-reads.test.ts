/**
 * Reads at edge scale: attestation lists, npm and PEP 740 documents, bundles
 * and health are answered from what the repository object published to R2
 * (through the edge cache), never by a Durable Object. Two checks: every use
 * of the Worker's REPOSITORY namespace is counted (the real binding does the
 * work underneath), and a copy of a repository's published files under a new
 * name is served with no object ever created for that name. Repositories
 * whose attestations predate the documents get them from the object's next
 * invocation (a backfill), and a missing document is 503 until then.
 */
import {
  createExecutionContext,
  evictDurableObject,
  listDurableObjectIds,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../durable-objects/repository.ts";
import { defined } from "../../scripts/lib/defined.ts";
import worker from "../../src/index.ts";
import { purgeCached } from "../../src/storage/edge-cache.ts";
import { ARTIFACTS, NPM } from "../unit/attestations/material.ts";
import { BASE, copyPublished, PYPI_PATH, pypiAttestedEvents, watched, withHmacRegistry } from "./helpers.ts";

const PEP740_URL = "integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance";
const NPM_PATH = "gundam-visor/-/gundam-visor-1.0.1.tgz";

async function pypiRepository(repo: string) {
  const setup = await withHmacRegistry(repo);
  await setup.client.setAttestationPolicy({ flavour: "pypi" });
  await setup.registry.push(pypiAttestedEvents());
  return setup;
}

async function npmRepository(repo: string) {
  const setup = await withHmacRegistry(repo);
  await setup.client.setAttestationPolicy({ flavour: "npm" });
  await setup.registry.push([
    {
      type: "targets.add",
      path: NPM_PATH,
      length: 1,
      hashes: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 },
    },
    { type: "attestations.add", path: NPM_PATH, bundle: JSON.stringify(NPM["provenance.sigstore"]) },
    { type: "attestations.add", path: NPM_PATH, bundle: JSON.stringify(NPM["publish.sigstore"]) },
  ]);
  return setup;
}

/** The Worker's env with its REPOSITORY namespace watched: each use (an id, a stub) is recorded. */
function watchedEnv(): { env: Env; uses: string[] } {
  const uses: string[] = [];
  return { env: { ...env, REPOSITORY: watched(env.REPOSITORY, uses) }, uses };
}

async function fetchWith(withEnv: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, init), withEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Every public read of a PyPI- and an npm-flavoured repository, with what each must answer. */
async function publicReads(fetch: (path: string, init?: RequestInit) => Promise<Response>, pypi: string, npm: string) {
  const list = await fetch(`/${pypi}/attestations/${PYPI_PATH}`);
  expect(list.status).toBe(200);
  const listed = await list.json<{ attestations: Array<{ sha256: string; url: string }> }>();
  expect(listed.attestations).toHaveLength(1);
  const bundle = await fetch(`/${pypi}/attestation-bundles/${defined(listed.attestations[0]).sha256}.json`);
  expect(bundle.status).toBe(200);
  await bundle.arrayBuffer();
  const none = await fetch(`/${pypi}/attestations/packages/other-1.0.tar.gz`);
  expect(await none.json()).toEqual({ target: "packages/other-1.0.tar.gz", attestations: [] });

  const provenance = await fetch(`/${pypi}/${PEP740_URL}`);
  expect(provenance.status).toBe(200);
  expect(provenance.headers.get("Content-Type")).toBe("application/vnd.pypi.integrity.v1+json");
  expect(provenance.headers.get("Vary")).toBe("Accept");
  const etag = defined(provenance.headers.get("ETag"));
  const document = await provenance.text();
  const asJson = await fetch(`/${pypi}/${PEP740_URL}`, { headers: { Accept: "application/json" } });
  expect(asJson.headers.get("Content-Type")).toBe("application/json");
  expect(await asJson.text()).toBe(document);
  const unchanged = await fetch(`/${pypi}/${PEP740_URL}`, { headers: { "If-None-Match": etag } });
  expect(unchanged.status).toBe(304);
  expect(unchanged.headers.get("Vary")).toBe("Accept");
  expect((await fetch(`/${pypi}/${PEP740_URL}`, { headers: { Accept: "text/html" } })).status).toBe(406);
  const otherVersion = await fetch(`/${pypi}/${PEP740_URL.replace("/0.0.19/", "/0.0.20/")}`);
  expect(otherVersion.status).toBe(404);
  expect((await fetch(`/${pypi}/-/npm/v1/attestations/gundam-visor@1.0.1`)).status).toBe(404);

  const npmDocument = await fetch(`/${npm}/-/npm/v1/attestations/gundam-visor@1.0.1`);
  expect(npmDocument.status).toBe(200);
  const npmJson = await npmDocument.json<{ attestations: Array<{ predicateType: string }> }>();
  expect(npmJson).toEqual(NPM.attestations);
  const npmEtag = defined(npmDocument.headers.get("ETag"));
  const npmAgain = await fetch(`/${npm}/-/npm/v1/attestations/gundam-visor@1.0.1`, {
    headers: { "If-None-Match": npmEtag },
  });
  expect(npmAgain.status).toBe(304);
  expect((await fetch(`/${npm}/-/npm/v1/attestations/gundam-visor@9.9.9`)).status).toBe(404);
  expect((await fetch(`/${npm}/${PEP740_URL}`)).status).toBe(404);

  for (const repo of [pypi, npm]) {
    const health = await fetch(`/${repo}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ repositories: [{ repository: repo, status: "ok" }] });
    const timestamp = await fetch(`/${repo}/metadata/timestamp.json`);
    expect(timestamp.status).toBe(200);
    await timestamp.arrayBuffer();
    // What a log monitor asks: proofs by index and consistency proofs.
    const inclusion = await fetch(`/${repo}/log/proof/inclusion?index=0`);
    expect(inclusion.status).toBe(200);
    const { size } = await inclusion.json<{ size: number }>();
    expect((await fetch(`/${repo}/log/proof/consistency?from=1&to=${size}`)).status).toBe(200);
  }
  const service = await fetch("/health");
  await service.arrayBuffer();
  expect([200, 503]).toContain(service.status); // other tests' repositories may be expired or blocked
}

describe("public reads", () => {
  it("answer attestation lists, npm and PEP 740 documents, bundles and health without any Durable Object request", async () => {
    await pypiRepository("public-pypi");
    await npmRepository("public-npm");
    const seen = watchedEnv();
    await publicReads((path, init) => fetchWith(seen.env, path, init), "public-pypi", "public-npm");
    expect(seen.uses).toEqual([]);

    // The count can fail: a read that does ask the object (a log proof by path) is seen.
    const proof = await fetchWith(seen.env, `/public-pypi/log/proof/inclusion?path=${PYPI_PATH}`);
    expect(proof.status).toBe(200);
    expect(seen.uses).toEqual(["getByName public-pypi"]);
  });

  it("serve a copy of the published files under a name no object was ever created for", async () => {
    await pypiRepository("public-src-pypi");
    await npmRepository("public-src-npm");
    await copyPublished("public-src-pypi", "public-copy-pypi");
    await copyPublished("public-src-npm", "public-copy-npm");
    const created = async () =>
      (await listDurableObjectIds(env.REPOSITORY))
        .map((id) => id.toString())
        .filter((id) =>
          ["public-copy-pypi", "public-copy-npm"].some((name) => env.REPOSITORY.idFromName(name).toString() === id),
        );
    const plain = (path: string, init?: RequestInit) => fetchWith(env, path, init);
    await publicReads(plain, "public-copy-pypi", "public-copy-npm");
    expect(await created()).toEqual([]);
  });

  it("backfill the documents of attestations accepted before they existed, answering 503 until then", async () => {
    const repo = "public-backfill";
    await pypiRepository(repo);
    const urls = [`/${repo}/attestations/${PYPI_PATH}`, `/${repo}/${PEP740_URL}`];
    const before = await Promise.all(urls.map(async (url) => (await fetchWith(env, url)).text()));

    // The repository as it was before migration 12: no queue, no triggers, no documents in R2.
    const stub = env.REPOSITORY.getByName(repo);
    await runInDurableObject(stub, (_instance: Repository, state) => {
      for (const trigger of [
        "attestation_added",
        "attestation_deleted",
        "quarantined",
        "quarantine_changed",
        "released",
      ])
        state.storage.sql.exec(`DROP TRIGGER public_documents_${trigger}`);
      state.storage.sql.exec("DROP TABLE public_documents_due");
      state.storage.sql.exec("DELETE FROM state WHERE key = 'public_documents_backfill'");
      state.storage.sql.exec("DELETE FROM _migrations WHERE id = 12");
      state.storage.kv.delete("public-documents-index-sha256");
    });
    await evictDurableObject(stub);
    const published = await env.BUCKET.list({ prefix: `${repo}/public/` });
    expect(published.objects.length).toBeGreaterThanOrEqual(3);
    for (const o of published.objects) {
      await env.BUCKET.delete(o.key);
      await purgeCached(o.key);
    }

    // Not written yet: 503, never an empty answer.
    for (const url of [...urls, `/${repo}/attestations/packages/other-1.0.tar.gz`]) {
      const pending = await fetchWith(env, url);
      expect(pending.status, url).toBe(503);
      expect(pending.headers.get("Retry-After")).toBe("10");
      expect(await pending.json()).toMatchObject({ code: "documents_pending" });
    }

    // The object's next invocation (here the cron's refresh) migrates and writes them: the same bytes as before.
    await env.REPOSITORY.getByName(repo).refresh();
    const after = await Promise.all(urls.map(async (url) => (await fetchWith(env, url)).text()));
    expect(after).toEqual(before);
    const none = await fetchWith(env, `/${repo}/attestations/packages/other-1.0.tar.gz`);
    expect(none.status).toBe(200);
  });

  it("show a repository blocked by its signing key in health once its object noticed, with no operator call", async () => {
    const repo = "public-blocked";
    await pypiRepository(repo);
    const stub = env.REPOSITORY.getByName(repo);
    // The active key's sealed bytes no longer open (as after KEY_ENCRYPTION_KEY was replaced).
    await runInDurableObject(stub, (_instance: Repository, state) => {
      state.storage.sql.exec("UPDATE online_keys SET sealed = zeroblob(48) WHERE state = 'active'");
    });
    await evictDurableObject(stub);
    // The minute's cron tick wakes the object; health then says so, read from what the object published.
    await stub.refresh();
    const seen = watchedEnv();
    const health = await fetchWith(seen.env, `/${repo}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      repositories: [{ status: "blocked", publishingBlocked: { code: "kek_unseal_failed" } }],
    });
    expect(seen.uses).toEqual([]);
  });

  it("list the service's repositories for /health once per cache lifetime, and at once after one is created", async () => {
    await pypiRepository("health-list-a");
    const calls: string[] = [];
    const bucketWatched = { ...env, BUCKET: watched(env.BUCKET, calls) };
    const lists = () => calls.filter((call) => call.startsWith("list ")).length;
    const listed = async () => {
      const response = await fetchWith(bucketWatched, "/health");
      const body = await response.json<{ repositories: Array<{ repository: string }> }>();
      return body.repositories.map((r) => r.repository);
    };
    expect(await listed()).toContain("health-list-a");
    const afterFirst = lists();
    expect(afterFirst).toBeGreaterThan(0);
    expect(await listed()).toContain("health-list-a");
    expect(lists()).toBe(afterFirst);

    // A repository created here purges the cached list: the next health check lists it.
    await pypiRepository("health-list-b");
    expect(await listed()).toEqual(expect.arrayContaining(["health-list-a", "health-list-b"]));
    expect(lists()).toBeGreaterThan(afterFirst);
  });
});
