/**
 * Protobuf-JSON semantics of bundles and trusted roots (null is absent, wrong
 * types refused), key types, and message digests other than SHA-256.
 * Real npm bundles of 2023 carry `"inclusionProof": null` and friends; the
 * corpus in fixtures/corpus holds them, these are the rules on their own.
 */
import { describe, expect, it } from "vitest";
import { parseBundle } from "../../../src/attestations/bundle.ts";
import { trustedRootFromJSON, verifyBundle } from "../../../src/attestations/index.ts";
import { PublicKey, UnsupportedKeyError } from "../../../src/attestations/keys.ts";
import { fromBase64 } from "../../../src/lib/bytes.ts";
import rsaCaRoot from "./fixtures/corpus/conformance/bundle-with-sct-with-extensions/trusted_root.json";
import { ARTIFACTS, CONFORMANCE, TRUSTED_ROOT } from "./material.ts";

// biome-ignore lint/suspicious/noExplicitAny: bundles are edited as plain JSON here
type J = any;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe("protobuf JSON: null is absent", () => {
  it("accepts null for every optional field of a v0.1 bundle, as @sigstore/bundle does", async () => {
    const bundle: J = clone(CONFORMANCE["happy-path-v0.1"]);
    const entry = bundle.verificationMaterial.tlogEntries[0];
    entry.inclusionProof = null;
    bundle.verificationMaterial.timestampVerificationData = null;
    bundle.verificationMaterial.publicKey = null;
    bundle.verificationMaterial.certificate = null;
    bundle.dsseEnvelope = null;
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(TRUSTED_ROOT), {
      digest: { sha256: ARTIFACTS["a.txt"].sha256 },
    });
    expect(verdict).toMatchObject({ ok: true });
  });

  it("treats a null required field as missing, and refuses wrong types", () => {
    const v3: J = CONFORMANCE["happy-path-v0.3"];
    const withEntry = (change: (entry: J) => void): J => {
      const bundle: J = clone(v3);
      change(bundle.verificationMaterial.tlogEntries[0]);
      return bundle;
    };
    expect(() => parseBundle(withEntry((e) => (e.inclusionProof = null)))).toThrow(/needs an inclusionProof/);
    expect(() => parseBundle(withEntry((e) => (e.inclusionProof = "yes")))).toThrow(/inclusionProof/);
    expect(() => parseBundle(withEntry((e) => (e.logIndex = true)))).toThrow(/logIndex/);
    expect(() => parseBundle(withEntry((e) => (e.logIndex = "-1")))).toThrow(/logIndex/);
    expect(() => parseBundle(withEntry((e) => (e.inclusionProof.hashes = null)))).not.toThrow();
    expect(() => parseBundle(withEntry((e) => (e.inclusionProof.hashes = "AAAA")))).toThrow(/hashes/);
    expect(() => parseBundle({ ...clone(v3), verificationMaterial: null })).toThrow(/verificationMaterial/);
  });

  it("reads a trusted root whose validity ends are null", () => {
    const root: J = clone(TRUSTED_ROOT);
    for (const log of [...root.tlogs, ...root.ctlogs]) log.publicKey.validFor.end ??= null;
    for (const ca of root.certificateAuthorities) ca.validFor.end ??= null;
    const parsed = trustedRootFromJSON(root);
    expect(parsed.tlogs.length).toBeGreaterThan(0);
    expect(parsed.tlogs.every((t) => t.validFor.end === undefined || t.validFor.end instanceof Date)).toBe(true);
    root.tlogs[0].publicKey.validFor.end = 17;
    expect(() => trustedRootFromJSON(root)).toThrow(/validFor\.end/);
  });
});

describe("key types", () => {
  it("reads a custom trusted root whose certificate authority is RSA-signed, without dropping anything", () => {
    const root = trustedRootFromJSON(rsaCaRoot);
    expect(root.certificateAuthorities.length).toBe((rsaCaRoot as J).certificateAuthorities.length);
    const rsa = root.certificateAuthorities.flatMap((ca) => ca.chain).filter((c) => c.publicKey.algorithm === "rsa");
    expect(rsa.length).toBeGreaterThan(0);
    expect(rsa[0]?.publicKey.name).toMatch(/^RSA-(2048|3072|4096)$/);
  });

  it("names the algorithm of a key Sigstore does not allow", () => {
    // secp256k1 SubjectPublicKeyInfo (RFC 5480 with the SEC 2 curve OID 1.3.132.0.10).
    const secp256k1 = fromBase64(
      "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEufajmzRWiuAM2eRFv9L5Fa/yYN+8s7niSwE/idW/YaunIpcstiHhnEAxZWbmhJ5se251noZFj5zjWMSjqcwwPA==",
    );
    expect(() => PublicKey.fromSpki(secp256k1)).toThrow(UnsupportedKeyError);
    expect(() => PublicKey.fromSpki(secp256k1)).toThrow(/ECDSA secp256k1/);
  });
});

describe("message digests", () => {
  it("says exactly which hash is missing when a message signature signs a SHA-384 digest", async () => {
    const bundle: J = clone(CONFORMANCE["happy-path-v0.3"]);
    bundle.messageSignature.messageDigest.algorithm = "SHA2_384";
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(TRUSTED_ROOT), {
      digest: { sha256: ARTIFACTS["a.txt"].sha256, sha512: ARTIFACTS["a.txt"].sha512 },
    });
    expect(verdict).toMatchObject({ ok: false, code: "missing_digest" });
    expect(verdict.ok ? "" : verdict.detail).toMatch(/sha384 \(SHA2_384\).*only sha256, sha512/);
  });
});
