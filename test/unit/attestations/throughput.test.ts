/**
 * Verifications per second inside workerd: a plain sequential loop, one
 * bundle at a time, trusted root parsed once (its keys are imported on first
 * use and kept). One real bundle of each kind: bundle version (v0.1, v0.2,
 * v0.3), content (message signature or DSSE), log (Rekor v1 with a signed
 * entry timestamp, or Rekor v2 with a checkpoint only) and with or without an
 * RFC 3161 timestamp. `npm run bench` (attestations section) reads the
 * printed figures; here they are only required to verify.
 */
import { expect, it } from "vitest";
import {
  bundleFromPep740,
  npmAttestationKeys,
  npmAttestations,
  type TrustedRoot,
  trustedRootFromJSON,
  verifyBundle,
  type Expectation,
} from "../../../src/attestations/index.ts";
import { ARTIFACTS, CONFORMANCE, IDENTITIES, NPM, NPM_REGISTRY_KEYS, PEP740, TRUSTED_ROOT } from "./material.ts";
import { defined } from "../../../scripts/lib/defined.ts";
import customRootBundle from "./fixtures/corpus/conformance/intoto-with-custom-trust-root/bundle.sigstore.json";
import customRoot from "./fixtures/corpus/conformance/intoto-with-custom-trust-root/trusted_root.json";
import rekor2DsseBundle from "./fixtures/corpus/conformance/rekor2-dsse-happy-path/bundle.sigstore.json";
import rekor2DsseRoot from "./fixtures/corpus/conformance/rekor2-dsse-happy-path/trusted_root.json";
import rekor2Bundle from "./fixtures/corpus/conformance/rekor2-happy-path/bundle.sigstore.json";
import rekor2Root from "./fixtures/corpus/conformance/rekor2-happy-path/trusted_root.json";
import npmOssf from "./fixtures/corpus/npm/provenance-npm-test-ossf.tgz.json";

const SECONDS = 1.5;

const publicGood = trustedRootFromJSON(TRUSTED_ROOT, npmAttestationKeys(NPM_REGISTRY_KEYS));
const A_TXT: Expectation = { digest: { sha256: ARTIFACTS["a.txt"].sha256 }, identity: IDENTITIES.conformance };

const RUNS: { label: string; bundle: unknown; root: TrustedRoot; expectation: Expectation }[] = [
  {
    label: "v0.1 message signature, Rekor v1",
    bundle: CONFORMANCE["happy-path-v0.1"],
    root: publicGood,
    expectation: A_TXT,
  },
  {
    label: "v0.2 message signature, Rekor v1",
    bundle: CONFORMANCE["happy-path-v0.2"],
    root: publicGood,
    expectation: A_TXT,
  },
  {
    label: "v0.3 message signature, Rekor v1",
    bundle: CONFORMANCE["happy-path-v0.3"],
    root: publicGood,
    expectation: A_TXT,
  },
  {
    label: "v0.3 message signature, Rekor v2 + RFC 3161",
    bundle: rekor2Bundle,
    root: trustedRootFromJSON(rekor2Root),
    expectation: A_TXT,
  },
  {
    label: "v0.1 DSSE (npm publish, 2023 nulls), Rekor v1",
    bundle: defined(npmAttestations(npmOssf)[0]).bundle,
    root: publicGood,
    expectation: {
      digest: {
        sha512:
          "563bc6d88c7cc60917b13cf4838473eeea6ec7ea0430f2672b16f43c2a5c82c239949c7cae7fe13bbe3b30d0571c3e56de624aa31ea43c98c12f1f190b8a7ca0",
      },
    },
  },
  {
    label: "v0.2 DSSE, Rekor v1 + RFC 3161",
    bundle: customRootBundle,
    root: trustedRootFromJSON(customRoot),
    expectation: {
      digest: { sha256: "330a043220fa13e01d68a7db39c89e12b0c4c3b6a0346fe624b0903f1303b5b2" },
      identity: IDENTITIES.conformance,
    },
  },
  {
    label: "v0.3 DSSE, Rekor v1",
    bundle: CONFORMANCE["happy-path-intoto-in-dsse-v3"],
    root: publicGood,
    expectation: { ...A_TXT, name: "a.txt" },
  },
  {
    label: "v0.3 DSSE, Rekor v2 + RFC 3161",
    bundle: rekor2DsseBundle,
    root: trustedRootFromJSON(rekor2DsseRoot),
    expectation: { ...A_TXT, name: "a.txt" },
  },
  {
    label: "PEP 740 publish attestation (v0.3 DSSE, Rekor v1)",
    bundle: bundleFromPep740(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]),
    root: publicGood,
    expectation: {
      digest: { sha256: ARTIFACTS["pypi_attestations-0.0.19.tar.gz"].sha256 },
      name: "pypi_attestations-0.0.19.tar.gz",
      identity: IDENTITIES.pypiAttestations,
    },
  },
  {
    label: "npm provenance (v0.2 DSSE, Rekor v1)",
    bundle: NPM["provenance.sigstore"],
    root: publicGood,
    expectation: {
      digest: { sha512: ARTIFACTS["gundam-visor-1.0.1.tgz"].sha512 },
      name: "pkg:npm/gundam-visor@1.0.1",
      identity: IDENTITIES.gundamVisor,
    },
  },
];

it("verifications per second in workerd", { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  for (const run of RUNS) {
    const warm = await verifyBundle(run.bundle, run.root, run.expectation);
    expect(warm.ok ? "ok" : `${run.label}: ${warm.code} ${warm.detail}`).toBe("ok"); // and warm-up
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < SECONDS * 1000) {
      const verdict = await verifyBundle(run.bundle, run.root, run.expectation);
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
    const dsse = defined(RUNS[6]);
    if (!(await verifyBundle(dsse.bundle, fresh, dsse.expectation)).ok) throw new Error("rejected");
    n++;
  }
  const elapsed = (performance.now() - start) / 1000;
  lines.push(`v0.3 DSSE, trusted root parsed each time: ${(n / elapsed).toFixed(0)} verifications/s`);
  console.log(`[attestations throughput, workerd]\n${lines.join("\n")}`);
});
