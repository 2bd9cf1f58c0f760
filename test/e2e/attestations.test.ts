/**
 * End to end: a registry pushes a target and its real PEP 740 attestation to a
 * local instance; the real tuf-js client resolves the target, reads the
 * attestation's digest from the target's custom field, downloads the bundle
 * from the edge, and its SHA-256 matches. (Fixture provenance:
 * test/unit/attestations/fixtures/PROVENANCE.md.)
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Updater } from "tuf-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, bootstrapRepository } from "../../scripts/lib/admin-client.ts";
import { repositoryUrls, writeTrustedRoot } from "../../scripts/lib/client-setup.ts";
import { randomSecrets, startLocalInstance, type LocalInstance } from "../../scripts/lib/local-instance.ts";
import { RegistryClient } from "../../scripts/lib/registry-client.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { ARTIFACTS, PEP740 } from "../unit/attestations/material.ts";
import { defined } from "../../scripts/lib/defined.ts";

const REPO = "attest";
const PATH = "packages/pypi_attestations-0.0.19.tar.gz";

describe("attestations through TUF, with tuf-js", () => {
  let instance: LocalInstance;
  let scratch: string;
  let admin: AdminClient;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tuf-edge-attest-"));
    const secrets = randomSecrets();
    instance = await startLocalInstance({ persistTo: join(scratch, "state"), secrets });
    admin = new AdminClient({ baseUrl: instance.baseUrl, repo: REPO, token: secrets.ADMIN_TOKEN });
  });

  afterAll(async () => {
    await instance?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it("resolves a target and fetches its attestation by the digest TUF vouches for; downloads a registry upload", async () => {
    const { signer } = await Ed25519Signer.generate();
    const { rootBytes } = await bootstrapRepository(admin, {
      rootSigners: [signer],
      threshold: 1,
      settings: { bins: 16 },
    });
    await admin.setAttestationPolicy({ flavour: "pypi" });
    const { secret } = await admin.addRegistryCredential("pypi", { kind: "hmac" });
    const registry = new RegistryClient({
      baseUrl: instance.baseUrl,
      repo: REPO,
      credential: { kind: "hmac", secret: defined(secret) },
    });
    const attestation = JSON.stringify(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]);
    await registry.push([
      {
        type: "targets.add",
        path: PATH,
        length: 29882,
        hashes: { sha256: ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256 },
      },
      { type: "attestations.add", path: PATH, bundle: attestation },
    ]);

    const metadataDir = await mkdtemp(join(scratch, "metadata-"));
    await writeTrustedRoot(join(metadataDir, "root.json"), rootBytes);
    const urls = repositoryUrls(instance.baseUrl, REPO);
    const tuf = new Updater({
      metadataDir,
      metadataBaseUrl: urls.metadata,
      targetBaseUrl: urls.targets,
      targetDir: join(scratch, "downloads"),
    });
    await tuf.refresh();
    const info = await tuf.getTargetInfo(PATH);
    expect(info).toBeDefined();
    const listed = (defined(info).custom as { attestations: Array<{ predicate_type: string; sha256: string }> })
      .attestations;
    expect(listed).toHaveLength(1);
    expect(defined(listed[0]).predicate_type).toBe("https://docs.pypi.org/attestations/publish/v1");

    // A registry's signed upload is downloaded and checked by the same client.
    const bytes0 = new TextEncoder().encode(`uploaded by a registry ${Date.now()}\n`);
    await registry.upload("files/uploaded.txt", bytes0);
    const targetDir = await mkdtemp(join(scratch, "downloads-"));
    const second = new Updater({ metadataDir, metadataBaseUrl: urls.metadata, targetBaseUrl: urls.targets, targetDir });
    await second.refresh();
    const uploaded = await second.downloadTarget(defined(await second.getTargetInfo("files/uploaded.txt")));
    expect(new Uint8Array(await readFile(uploaded))).toEqual(bytes0);

    const bundle = await fetch(`${instance.baseUrl}/${REPO}/attestation-bundles/${defined(listed[0]).sha256}.json`);
    expect(bundle.status).toBe(200);
    const bytes = new Uint8Array(await bundle.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(defined(listed[0]).sha256);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]);
  });
});
