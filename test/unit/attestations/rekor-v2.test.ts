/**
 * Rekor v2 entries (hashedrekord 0.0.2, no integrated time, no SET: a
 * checkpoint and an inclusion proof) timed by RFC 3161 timestamps, inside
 * workerd, on real bundles of sigstore-conformance (fixtures/corpus), and
 * the failure codes of what goes wrong with them.
 */
import { describe, expect, it } from "vitest";
import { trustedRootFromJSON, verifyBundle } from "../../../src/attestations/index.ts";
import { parseTimestamp } from "../../../src/attestations/timestamp.ts";
import { fromBase64, toBase64 } from "../../../src/lib/bytes.ts";
import dsseBundle from "./fixtures/corpus/conformance/rekor2-dsse-happy-path/bundle.sigstore.json";
import dsseRoot from "./fixtures/corpus/conformance/rekor2-dsse-happy-path/trusted_root.json";
import happyBundle from "./fixtures/corpus/conformance/rekor2-happy-path/bundle.sigstore.json";
import happyRoot from "./fixtures/corpus/conformance/rekor2-happy-path/trusted_root.json";
import untrustedBundle from "./fixtures/corpus/conformance/rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail/bundle.sigstore.json";
import untrustedRoot from "./fixtures/corpus/conformance/rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail/trusted_root.json";
import { ARTIFACTS, IDENTITIES } from "./material.ts";

// biome-ignore lint/suspicious/noExplicitAny: bundles are edited as plain JSON here
type J = any;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const A_TXT = { digest: { sha256: ARTIFACTS["a.txt"].sha256 }, identity: IDENTITIES.conformance };

describe("Rekor v2 and RFC 3161 timestamps", () => {
  it("verifies a hashedrekord 0.0.2 message signature, its time from the timestamp authority", async () => {
    const verdict = await verifyBundle(happyBundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: true, content: "messageSignature", timeSources: ["timestamp-authority"] });
    const [stamp] = happyBundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
    const token = parseTimestamp(fromBase64(stamp?.signedTimestamp ?? ""));
    expect(verdict.ok && verdict.integratedTime).toBe(Math.floor(token.genTime.getTime() / 1000));
  });

  it("verifies a DSSE envelope logged as hashedrekord 0.0.2 (the digest of its pre-authentication encoding)", async () => {
    const verdict = await verifyBundle(dsseBundle, trustedRootFromJSON(dsseRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: true, content: "dsseEnvelope" });
  });

  it("refuses a Rekor v2 bundle without a timestamp: nothing authenticates a signing time", async () => {
    const bundle: J = clone(happyBundle);
    bundle.verificationMaterial.timestampVerificationData = null;
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "tlog" });
    expect(verdict.ok ? "" : verdict.detail).toMatch(/no authenticated signing time/);
  });

  it("refuses a timestamp from an authority the trusted root does not list (it was ignored before)", async () => {
    const verdict = await verifyBundle(untrustedBundle, trustedRootFromJSON(untrustedRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "untrusted_timestamp_authority" });
    // The same bundle timed by a trusted log entry still may not carry an untrusted timestamp.
    const root: J = clone(happyRoot);
    root.timestampAuthorities = [];
    const stripped = await verifyBundle(happyBundle, trustedRootFromJSON(root), A_TXT);
    expect(stripped).toMatchObject({ ok: false, code: "untrusted_timestamp_authority" });
  });

  it("refuses a timestamp over another signature", async () => {
    const bundle: J = clone(happyBundle);
    const other: J = clone(dsseBundle);
    bundle.verificationMaterial.timestampVerificationData = other.verificationMaterial.timestampVerificationData;
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "timestamp" });
    expect(verdict.ok ? "" : verdict.detail).toMatch(/message imprint/);
  });

  it("refuses a timestamp whose signature was altered", async () => {
    const bundle: J = clone(happyBundle);
    const ts = bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
    const bytes = fromBase64(ts.signedTimestamp);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0x01; // inside the ECDSA signature's s
    ts.signedTimestamp = toBase64(bytes);
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "timestamp" });
  });
});

describe("failure codes that say what is wrong", () => {
  it("unsupported_log_version for an entry kind or version this verifier does not know", async () => {
    const bundle: J = clone(happyBundle);
    bundle.verificationMaterial.tlogEntries[0].kindVersion.version = "0.0.3";
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "unsupported_log_version" });
    expect(verdict.ok ? "" : verdict.detail).toMatch(/hashedrekord\/0\.0\.3/);
  });

  it("unsupported_key_type naming the algorithm of the signing certificate's key", async () => {
    const bundle: J = clone(happyBundle);
    const der = fromBase64(bundle.verificationMaterial.certificate.rawBytes);
    // The P-256 curve OID 1.2.840.10045.3.1.7 becomes P-192 (1.2.840.10045.3.1.1): same length, same DER.
    const p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const at = der.findIndex((_, i) => p256.every((b, j) => der[i + j] === b));
    expect(at).toBeGreaterThan(0);
    der[at + 7] = 0x01;
    bundle.verificationMaterial.certificate.rawBytes = toBase64(der);
    const verdict = await verifyBundle(bundle, trustedRootFromJSON(happyRoot), A_TXT);
    expect(verdict).toMatchObject({ ok: false, code: "unsupported_key_type" });
    expect(verdict.ok ? "" : verdict.detail).toMatch(/ECDSA P-192/);
  });
});
