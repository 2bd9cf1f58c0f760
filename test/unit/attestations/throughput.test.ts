/**
 * Verifications per second inside workerd: a plain sequential loop, one
 * bundle at a time, trusted root parsed once (its keys are imported on first
 * use and kept). The figures are printed, not asserted beyond "all accepted".
 */
import { expect, it } from "vitest";
import {
  bundleFromPep740,
  npmAttestationKeys,
  trustedRootFromJSON,
  verifyBundle,
  type Expectation,
} from "../../../src/attestations/index.ts";
import { ARTIFACTS, CONFORMANCE, IDENTITIES, NPM, NPM_REGISTRY_KEYS, PEP740, TRUSTED_ROOT } from "./material.ts";
import { defined } from "../../../scripts/lib/defined.ts";

const SECONDS = 1.5;

const RUNS: { label: string; bundle: unknown; expectation: Expectation }[] = [
  {
    label: "v0.3 message signature (hashedrekord)",
    bundle: CONFORMANCE["happy-path-v0.3"],
    expectation: { digest: { sha256: ARTIFACTS["a.txt"].sha256 }, identity: IDENTITIES.conformance },
  },
  {
    label: "v0.3 DSSE in-toto SLSA (dsse)",
    bundle: CONFORMANCE["happy-path-intoto-in-dsse-v3"],
    expectation: { digest: { sha256: ARTIFACTS["a.txt"].sha256 }, name: "a.txt", identity: IDENTITIES.conformance },
  },
  {
    label: "PEP 740 publish attestation (dsse)",
    bundle: bundleFromPep740(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]),
    expectation: {
      digest: { sha256: ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256 },
      name: "pypi_attestations-0.0.19.tar.gz",
      identity: IDENTITIES.pypiAttestations,
    },
  },
  {
    label: "npm provenance (intoto)",
    bundle: NPM["provenance.sigstore"],
    expectation: {
      digest: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 },
      name: "pkg:npm/gundam-visor@1.0.1",
      identity: IDENTITIES.gundamVisor,
    },
  },
  {
    label: "npm publish, registry key (intoto)",
    bundle: NPM["publish.sigstore"],
    expectation: { digest: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 }, name: "pkg:npm/gundam-visor@1.0.1" },
  },
];

it("verifications per second in workerd", { timeout: 60_000 }, async () => {
  const root = trustedRootFromJSON(TRUSTED_ROOT, npmAttestationKeys(NPM_REGISTRY_KEYS));
  const lines: string[] = [];
  for (const run of RUNS) {
    expect((await verifyBundle(run.bundle, root, run.expectation)).ok).toBe(true); // warm-up
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < SECONDS * 1000) {
      const verdict = await verifyBundle(run.bundle, root, run.expectation);
      if (!verdict.ok) throw new Error(`${run.label}: ${verdict.code} ${verdict.detail}`);
      n++;
    }
    const elapsed = (performance.now() - start) / 1000;
    lines.push(
      `${run.label}: ${(n / elapsed).toFixed(0)} verifications/s (${n} in ${elapsed.toFixed(2)} s, ${((elapsed / n) * 1000).toFixed(2)} ms each)`,
    );
  }
  // With the trusted root parsed (and its keys imported) for every bundle.
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const fresh = trustedRootFromJSON(TRUSTED_ROOT, npmAttestationKeys(NPM_REGISTRY_KEYS));
    if (!(await verifyBundle(defined(RUNS[1]).bundle, fresh, defined(RUNS[1]).expectation)).ok)
      throw new Error("rejected");
    n++;
  }
  const elapsed = (performance.now() - start) / 1000;
  lines.push(`v0.3 DSSE, trusted root parsed each time: ${(n / elapsed).toFixed(0)} verifications/s`);
  console.log(`[attestations throughput, workerd]\n${lines.join("\n")}`);
});
