/**
 * A local instance with repositories worth looking at, for the browser tests
 * and the pages bench: "pypi" (PyPI flavour) with a distribution and its real
 * PEP 740 publish and SLSA attestations, a yanked target and a hostile path
 * and reason; "npm" (npm flavour) with gundam-visor@1.0.1 and its real npm
 * publish and SLSA provenance bundles. Fixture provenance:
 * test/unit/attestations/fixtures/PROVENANCE.md.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ed25519Signer } from "../../src/tuf/signer.ts";
import { AdminClient, bootstrapRepository } from "./admin-client.ts";
import { PROJECT_ROOT } from "./local-instance.ts";
import { RegistryClient } from "./registry-client.ts";

const FIXTURES = join(PROJECT_ROOT, "test/unit/attestations/fixtures");

export const PYPI_PATH = "packages/pypi_attestations-0.0.19.tar.gz";
export const PYPI_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
export const NPM_PATH = "gundam-visor/-/gundam-visor-1.0.1.tgz";
export const NPM_SHA512 =
  "8d9d7972f676516c75014aa074e11ae604d98f0b64ec6725a61e2838ff3dab162118fa71433fb31e1550d30bd0dec9d086ce032b94457b583900c507acf39c40";
/** Markup and script in a pushed path and a yank reason: the pages must show them as text. */
export const HOSTILE_PATH = `evil/<script>window.__pwned=1</script>"'&.txt`;
export const HOSTILE_REASON = `<img src=x onerror="window.__pwned=2"> & <b>bold</b>`;
export const YANKED_PATH = "packages/old-0.1.tar.gz";

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), "utf8");
}

async function repositoryWithRegistry(baseUrl: string, token: string, repo: string, flavour: "pypi" | "npm") {
  const admin = new AdminClient({ baseUrl, repo, token });
  const { signer } = await Ed25519Signer.generate();
  const { rootBytes } = await bootstrapRepository(admin, {
    rootSigners: [signer],
    threshold: 1,
    settings: { bins: 16 },
  });
  await admin.setAttestationPolicy({ flavour });
  const { secret } = await admin.addRegistryCredential(flavour, { kind: "hmac" });
  if (!secret) throw new Error("a new HMAC credential comes with its secret");
  const registry = new RegistryClient({ baseUrl, repo, credential: { kind: "hmac", secret } });
  return { admin, registry, rootBytes };
}

export async function populatePagesFixture(baseUrl: string, token: string) {
  const pypi = await repositoryWithRegistry(baseUrl, token, "pypi", "pypi");
  await pypi.registry.push([
    { type: "targets.add", path: PYPI_PATH, length: 29882, hashes: { sha256: PYPI_SHA256 } },
    {
      type: "attestations.add",
      path: PYPI_PATH,
      bundle: await fixture("pypi/pypi_attestations-0.0.19.tar.gz.publish.attestation.json"),
    },
    {
      type: "attestations.add",
      path: PYPI_PATH,
      bundle: await fixture("pypi/pypi_attestations-0.0.19.tar.gz.slsa.attestation.json"),
    },
    { type: "targets.add", path: YANKED_PATH, length: 12, hashes: { sha256: "ab".repeat(32) } },
    { type: "targets.add", path: HOSTILE_PATH, length: 7, hashes: { sha256: "cd".repeat(32) } },
  ]);
  await pypi.registry.push([
    { type: "targets.yank", path: YANKED_PATH, reason: "CVE-2026-0001: remote code execution" },
    { type: "targets.yank", path: HOSTILE_PATH, reason: HOSTILE_REASON },
  ]);
  const npm = await repositoryWithRegistry(baseUrl, token, "npm", "npm");
  await npm.registry.push([
    { type: "targets.add", path: NPM_PATH, length: 1, hashes: { sha512: NPM_SHA512 } },
    { type: "attestations.add", path: NPM_PATH, bundle: await fixture("npm/gundam-visor-1.0.1.publish.sigstore.json") },
    {
      type: "attestations.add",
      path: NPM_PATH,
      bundle: await fixture("npm/gundam-visor-1.0.1.provenance.sigstore.json"),
    },
  ]);
  return { pypi, npm };
}

/** Polls `url` until its HTML contains `text` (the pages' documents follow a publish within moments). */
export async function waitForPage(url: string, text: string, attempts = 200): Promise<string> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const response = await fetch(url);
    last = await response.text();
    if (response.ok && last.includes(text)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never showed ${JSON.stringify(text)}; last answer:\n${last.slice(0, 2000)}`);
}
