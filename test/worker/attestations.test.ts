/**
 * Attestations pushed by a registry, verified against real Sigstore bundles
 * (test/unit/attestations/fixtures, provenance in its PROVENANCE.md), bound
 * into TUF and served in the shapes npm and PyPI clients read.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/digest.ts";
import { utf8 } from "../../src/lib/bytes.ts";
import { z } from "zod";
import pep740Schema from "../unit/attestations/fixtures/pep740/provenance.schema.json";
import { ARTIFACTS, CONFORMANCE, NPM, PEP740 } from "../unit/attestations/material.ts";
import { BASE, getJson, publishedTarget, withHmacRegistry, workerFetch } from "./helpers.ts";

async function setFlavour(repo: string, flavour: string) {
  const response = await workerFetch(`${BASE}/${repo}/admin/attestation-policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ flavour }),
  });
  expect(response.status).toBe(200);
}

const PYPI_PATH = "packages/pypi_attestations-0.0.19.tar.gz";
const pypi = ARTIFACTS["pypi_attestations-0.0.19.tar.gz"];
const publishText = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]);

describe("attestations", () => {
  it("answers a redelivered push of attestations with its task, not as attestations already stored", async () => {
    const repo = "att-redelivered";
    const { registry } = await withHmacRegistry(repo);
    await setFlavour(repo, "pypi");
    const events = [
      { type: "targets.add" as const, path: PYPI_PATH, length: 29882, hashes: { sha256: pypi.sha256 } },
      { type: "attestations.add" as const, path: PYPI_PATH, bundle: publishText },
    ];
    const first = await registry.push(events, { id: "msg_attested" });
    expect(first.duplicate).toBe(false);
    const again = await registry.push(events, { id: "msg_attested" });
    expect(again).toMatchObject({ status: 200, duplicate: true, task: { id: first.task.id } });
  });

  it("accepts a genuine PEP 740 attestation for its artifact, binds it into TUF and serves it", async () => {
    const repo = "att-pypi";
    const { registry, client } = await withHmacRegistry(repo);
    await setFlavour(repo, "pypi");
    const pushed = await registry.push([
      { type: "targets.add", path: PYPI_PATH, length: 29882, hashes: { sha256: pypi.sha256 } },
      { type: "attestations.add", path: PYPI_PATH, bundle: publishText },
    ]);
    expect(pushed.task.state).toBe("published");

    // Bound into TUF: the target's custom field lists the attestation's predicate type and digest.
    const bundleSha = await sha256Hex(utf8(publishText));
    const { target } = await publishedTarget(repo, PYPI_PATH, 16);
    expect(target.custom.attestations).toEqual([
      { predicate_type: "https://docs.pypi.org/attestations/publish/v1", sha256: bundleSha },
    ]);

    // The bytes, content-addressed and immutable, are exactly what was pushed.
    const bundle = await workerFetch(`${BASE}/${repo}/attestation-bundles/${bundleSha}.json`);
    expect(bundle.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(await bundle.text()).toBe(publishText);

    const { json: list } = await getJson(`/${repo}/attestations/${PYPI_PATH}`);
    expect(list.attestations).toHaveLength(1);
    expect(list.attestations[0]).toMatchObject({
      sha256: bundleSha,
      predicateType: "https://docs.pypi.org/attestations/publish/v1",
    });

    // PEP 740 Integrity API shape.
    const { response, json: provenance } = await getJson(
      `/${repo}/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance`,
    );
    expect(response.status).toBe(200);
    expect(Object.keys(provenance).sort()).toEqual(["attestation_bundles", "version"]);
    expect(provenance.version).toBe(1);
    expect(provenance.attestation_bundles).toHaveLength(1);
    expect(provenance.attestation_bundles[0].publisher).toMatchObject({
      kind: "GitHub",
      repository: "trailofbits/pypi-attestations",
    });
    expect(provenance.attestation_bundles[0].attestations).toEqual([PEP740["pypi_attestations-0.0.19.tar.gz.publish"]]);
    expect(Object.keys(provenance.attestation_bundles[0].attestations[0]).sort()).toEqual([
      "envelope",
      "verification_material",
      "version",
    ]);
    expect((await client.status()).targetsCount).toBe(1);
  });

  it("rejects an attestation for another artifact, a tampered one and a wrong flavour, storing nothing", async () => {
    const repo = "att-reject";
    const { registry, client } = await withHmacRegistry(repo);
    await setFlavour(repo, "pypi");
    const other = ARTIFACTS["gitlab_oidc_project-0.0.3.tar.gz"];
    await registry.push([
      {
        type: "targets.add",
        path: "packages/gitlab_oidc_project-0.0.3.tar.gz",
        length: 5679,
        hashes: { sha256: other.sha256 },
      },
    ]);
    const before = await client.status();

    // The pypi_attestations attestation, claimed for the gitlab project's file.
    const wrongArtifact = await registry
      .push([{ type: "attestations.add", path: "packages/gitlab_oidc_project-0.0.3.tar.gz", bundle: publishText }])
      .catch((e: unknown) => e);
    expect(wrongArtifact).toMatchObject({
      status: 422,
      problem: { code: "attestation_rejected", errors: [{ path: "events.0.bundle", message: "subject_digest" }] },
    });

    // One byte of the signature changed.
    const tampered = structuredClone(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]) as {
      envelope: { signature: string };
    };
    const sig = tampered.envelope.signature;
    tampered.envelope.signature = (sig[5] === "A" ? "B" : "A").padStart(6, sig.slice(0, 5)) + sig.slice(6);
    await registry.push([{ type: "targets.add", path: PYPI_PATH, length: 29882, hashes: { sha256: pypi.sha256 } }]);
    const bad = await registry
      .push([{ type: "attestations.add", path: PYPI_PATH, bundle: JSON.stringify(tampered) }])
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 422, problem: { code: "attestation_rejected" } });
    expect((bad as { problem: { detail: string } }).problem.detail).toMatch(/\((signature|tlog)\)/);

    // Nothing stored: no bundle objects, no attestation listed, targets as they were plus the one add.
    expect((await env.BUCKET.list({ prefix: `${repo}/attestations/` })).objects).toHaveLength(0);
    const { json: list } = await getJson(`/${repo}/attestations/${PYPI_PATH}`);
    expect(list.attestations).toEqual([]);
    expect((await client.status()).targetsCount).toBe(before.targetsCount + 1);
    // An attestation for a target that does not exist.
    const missing = await registry
      .push([{ type: "attestations.add", path: "packages/nope-1.0.tar.gz", bundle: publishText }])
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 409, problem: { code: "unknown_target" } });
  });

  it("serves npm's attestations shape for an npm-flavoured repository", async () => {
    const repo = "att-npm";
    const { registry } = await withHmacRegistry(repo);
    await setFlavour(repo, "npm");
    const path = "gundam-visor/-/gundam-visor-1.0.1.tgz";
    const provenance = JSON.stringify(NPM["provenance.sigstore"]);
    const publish = JSON.stringify(NPM["publish.sigstore"]);
    await registry.push([
      { type: "targets.add", path, length: 1, hashes: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 } },
      { type: "attestations.add", path, bundle: publish },
      { type: "attestations.add", path, bundle: provenance },
    ]);
    const { response, json } = await getJson(`/${repo}/-/npm/v1/attestations/gundam-visor@1.0.1`);
    expect(response.status).toBe(200);
    expect(Object.keys(json)).toEqual(["attestations"]);
    const upstream = NPM.attestations as { attestations: Array<{ predicateType: string; bundle: unknown }> };
    const byType = (list: Array<{ predicateType: string; bundle: unknown }>) =>
      Object.fromEntries(list.map((a) => [a.predicateType, a.bundle]));
    // Field for field what registry.npmjs.org answers for gundam-visor@1.0.1.
    expect(byType(json.attestations)).toEqual(byType(upstream.attestations));
    for (const a of json.attestations) expect(Object.keys(a).sort()).toEqual(["bundle", "predicateType"]);
    expect((await workerFetch(`${BASE}/${repo}/-/npm/v1/attestations/gundam-visor@9.9.9`)).status).toBe(404);
    expect((await workerFetch(`${BASE}/${repo}/integrity/x/1/x.tar.gz/provenance`)).status).toBe(404);
  });

  it("serves the PEP 740 Integrity API as PyPI does: media types, Vary, 406, names by PyPI's rules, ETag and 304, pypi-attestations' model", async () => {
    const repo = "att-pep740";
    const { registry } = await withHmacRegistry(repo);
    await setFlavour(repo, "pypi");
    await registry.push([
      { type: "targets.add", path: PYPI_PATH, length: 29882, hashes: { sha256: pypi.sha256 } },
      { type: "attestations.add", path: PYPI_PATH, bundle: publishText },
      {
        type: "attestations.add",
        path: PYPI_PATH,
        bundle: JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.slsa"]),
      },
    ]);
    const url = `${BASE}/${repo}/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance`;
    const plain = await workerFetch(url);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("Content-Type")).toBe("application/vnd.pypi.integrity.v1+json");
    expect(plain.headers.get("Vary")).toBe("Accept");
    const etag = plain.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const document = await plain.json<Record<string, unknown>>();

    // Validated against the JSON Schema pydantic generates from pypi-attestations' Provenance model.
    const model = z.fromJSONSchema(pep740Schema as Parameters<typeof z.fromJSONSchema>[0]);
    expect(model.safeParse(document).error?.issues ?? []).toEqual([]);
    expect(model.safeParse({ ...document, version: 2 }).success).toBe(false);

    const asJson = await workerFetch(url, { headers: { Accept: "application/json" } });
    expect(asJson.headers.get("Content-Type")).toBe("application/json");
    expect(await asJson.json()).toEqual(document);
    const preferred = await workerFetch(url, {
      headers: { Accept: "application/json;q=0.5, application/vnd.pypi.integrity.v1+json" },
    });
    expect(preferred.headers.get("Content-Type")).toBe("application/vnd.pypi.integrity.v1+json");
    const html = await workerFetch(url, { headers: { Accept: "text/html" } });
    expect(html.status).toBe(406);
    expect(html.headers.get("Vary")).toBe("Accept");

    const again = await workerFetch(url, { headers: { "If-None-Match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);

    // Project names by PEP 503, versions by PEP 440; another project or version is 404.
    for (const [project, version, status] of [
      ["PyPI.Attestations", "0.0.19", 200],
      ["pypi_attestations", "v0.0.19.0", 200],
      ["gitlab-oidc-project", "0.0.19", 404],
      ["pypi-attestations", "0.0.20", 404],
    ] as const) {
      const r = await workerFetch(
        `${BASE}/${repo}/integrity/${project}/${version}/pypi_attestations-0.0.19.tar.gz/provenance`,
      );
      expect(`${project} ${version}: ${r.status}`).toBe(`${project} ${version}: ${status}`);
    }
  });

  it("keeps one attestation per predicate type per file and refuses message signatures in a PEP 740 repository", async () => {
    const repo = "att-pep740-rules";
    const { registry } = await withHmacRegistry(repo);
    await setFlavour(repo, "pypi");
    await registry.push([
      { type: "targets.add", path: PYPI_PATH, length: 29882, hashes: { sha256: pypi.sha256 } },
      { type: "attestations.add", path: PYPI_PATH, bundle: publishText },
    ]);
    // The same attestation, other bytes: another publish/v1 attestation for the same file.
    const respelled = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"], null, 1);
    const duplicate = await registry
      .push([{ type: "attestations.add", path: PYPI_PATH, bundle: respelled }])
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ status: 409, problem: { code: "duplicate_predicate_type" } });
    // The very same bytes again are no change.
    await registry.push([{ type: "attestations.add", path: PYPI_PATH, bundle: publishText }]);

    const a = ARTIFACTS["a.txt"];
    const messageSigned = await registry
      .push([
        { type: "targets.add", path: "packages/a-1.0.tar.gz", length: 109, hashes: { sha256: a.sha256 } },
        {
          type: "attestations.add",
          path: "packages/a-1.0.tar.gz",
          bundle: JSON.stringify(CONFORMANCE["happy-path-v0.3"]),
        },
      ])
      .catch((e: unknown) => e);
    expect(messageSigned).toMatchObject({ status: 422, problem: { code: "attestation_rejected" } });
    expect((messageSigned as { problem: { detail: string } }).problem.detail).toMatch(/cannot become a PEP 740/);
  });

  it("serves npm's publish attestation first, whatever the push order, with ETag and 304 on every list", async () => {
    const repo = "att-npm-order";
    const { registry } = await withHmacRegistry(repo);
    await setFlavour(repo, "npm");
    const path = "gundam-visor/-/gundam-visor-1.0.1.tgz";
    await registry.push([
      { type: "targets.add", path, length: 1, hashes: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 } },
      { type: "attestations.add", path, bundle: JSON.stringify(NPM["provenance.sigstore"]) },
      { type: "attestations.add", path, bundle: JSON.stringify(NPM["publish.sigstore"]) },
    ]);
    for (const url of [`/${repo}/-/npm/v1/attestations/gundam-visor@1.0.1`, `/${repo}/attestations/${path}`]) {
      const first = await workerFetch(`${BASE}${url}`);
      const etag = first.headers.get("ETag");
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      const body = await first.json<{ attestations: Array<{ predicateType: string }> }>();
      expect(body.attestations.map((x) => x.predicateType)[0]).toBe(
        url.includes("/-/npm/")
          ? "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
          : "https://slsa.dev/provenance/v1",
      );
      expect((await workerFetch(`${BASE}${url}`, { headers: { "If-None-Match": etag ?? "" } })).status).toBe(304);
    }
    const upstream = NPM.attestations as { attestations: Array<{ predicateType: string }> };
    const { json } = await getJson(`/${repo}/-/npm/v1/attestations/gundam-visor@1.0.1`);
    expect(json).toEqual(upstream);
  });
});
