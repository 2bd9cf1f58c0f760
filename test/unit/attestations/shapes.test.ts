/**
 * The PEP 740 shapes: a stored Sigstore DSSE bundle becomes the PEP 740
 * attestation it came from (real PyPI attestations, round trip through
 * bundleFromPep740), a bundle that cannot be one is left out, and which
 * signers PyPI reports as Trusted Publishers.
 */
import { describe, expect, it } from "vitest";
import { bundleFromPep740 } from "../../../src/attestations/bundle.ts";
import { PYPI_PUBLISHER_KINDS, publisherFor, toPep740 } from "../../../src/attestations/shapes.ts";
import { CONFORMANCE, PEP740 } from "./material.ts";

describe("toPep740", () => {
  it.each(Object.keys(PEP740) as Array<keyof typeof PEP740>)(
    "gives back PyPI's attestation %s from its bundle",
    (name) => {
      const attestation = PEP740[name];
      expect(toPep740(bundleFromPep740(structuredClone(attestation)))).toEqual(attestation);
      expect(toPep740(attestation)).toBe(attestation);
    },
  );

  it("leaves out what cannot be a PEP 740 attestation instead of serving empty fields", () => {
    // A message signature: no DSSE envelope, no statement.
    expect(CONFORMANCE["happy-path-v0.3"]).toHaveProperty("messageSignature");
    expect(toPep740(CONFORMANCE["happy-path-v0.3"])).toBeNull();
    const bundle = bundleFromPep740(structuredClone(PEP740["pypi_attestations-0.0.19.tar.gz.publish"])) as {
      verificationMaterial: Record<string, unknown>;
    };
    bundle.verificationMaterial = { publicKey: { hint: "k" }, tlogEntries: [] };
    expect(toPep740(bundle)).toBeNull();
    expect(toPep740(null)).toBeNull();
  });
});

describe("publishers in PyPI's shape", () => {
  it("names the Trusted Publisher kinds PyPI attaches to provenance, and no other", () => {
    expect(
      publisherFor({
        issuer: "https://token.actions.githubusercontent.com",
        san: "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
      }),
    ).toEqual({
      kind: "GitHub",
      repository: "trailofbits/pypi-attestations",
      workflow: "release.yml",
      environment: null,
    });
    expect(PYPI_PUBLISHER_KINDS).toEqual(["GitHub", "GitLab", "Google"]);
  });

  it("has no ActiveState publisher: Fulcio issues no certificate for ActiveState, and PyPI attaches none", () => {
    // PyPI's ActiveState Trusted Publisher (warehouse/oidc/models/activestate.py) has no
    // attestation identity, so PyPI refuses attestations uploaded through it; Fulcio's
    // config/identity/config.yaml lists no ActiveState issuer. A signer claiming to be one
    // is no Trusted Publisher a PEP 740 repository accepts.
    const signer = { issuer: "https://platform.activestate.com/api/v1/oauth/oidc", san: "org:example:project:demo" };
    expect(publisherFor(signer)).toEqual({ kind: "Sigstore", issuer: signer.issuer, identity: signer.san });
    expect(PYPI_PUBLISHER_KINDS).not.toContain("ActiveState");
  });
});
