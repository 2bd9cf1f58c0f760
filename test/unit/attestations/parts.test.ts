/** The pieces of src/attestations on their own: DER, X.509, Merkle proofs, checkpoints, PAE, subjects, containers. */
import { describe, expect, it } from "vitest";
import { bundleFromPep740, npmAttestations, parseBundle, StructureError } from "../../../src/attestations/bundle.ts";
import { DerError, decodeOid, parseDer } from "../../../src/lib/der.ts";
import {
  artifactDigest,
  npmAttestationKeys,
  npmSubjectName,
  subjectNameFor,
  trustedRootFromJSON,
  TrustedRootError,
  verifyBundle,
} from "../../../src/attestations/index.ts";
import {
  preAuthEncoding,
  parseStatement,
  StatementError,
  subjectMatchesDigest,
} from "../../../src/attestations/statement.ts";
import { parseCheckpoint } from "../../../src/log/checkpoint.ts";
import { leafHash, verifyInclusion } from "../../../src/log/merkle.ts";
import { parseNote } from "../../../src/log/note.ts";
import { Certificate, OID } from "../../../src/attestations/x509.ts";
import { concatBytes } from "../../../src/lib/bytes.ts";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.ts";
import { sha256 } from "../../../src/lib/digest.ts";
import { ARTIFACTS, CONFORMANCE, IDENTITIES, NPM, NPM_REGISTRY_KEYS, PEP740, TRUSTED_ROOT } from "./material.ts";
import { defined } from "../../../scripts/lib/defined.ts";

describe("DER", () => {
  it("decodes OIDs, including multi-byte arcs", () => {
    expect(decodeOid(parseDer(new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])))).toBe(
      "1.2.840.10045.4.3.2",
    );
    expect(
      decodeOid(parseDer(new Uint8Array([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08]))),
    ).toBe("1.3.6.1.4.1.57264.1.8");
  });

  it("refuses what is not DER", () => {
    expect(() => parseDer(new Uint8Array([0x30, 0x80, 0x00, 0x00]))).toThrow(DerError); // indefinite length
    expect(() => parseDer(new Uint8Array([0x04, 0x81, 0x01, 0x00]))).toThrow(/non-minimal/);
    expect(() => parseDer(new Uint8Array([0x04, 0x01, 0x00, 0x00]))).toThrow(/trailing/);
    expect(() => parseDer(new Uint8Array([0x04, 0x05, 0x00]))).toThrow(/runs past/);
    expect(() => decodeOid(parseDer(new Uint8Array([0x06, 0x02, 0x2a, 0x86])))).toThrow(/truncated/);
  });
});

describe("X.509", () => {
  const root = trustedRootFromJSON(TRUSTED_ROOT);
  const [intermediate, anchor] = defined(root.certificateAuthorities[1]).chain;

  it("parses the Fulcio CA chain of the trusted root", async () => {
    expect(defined(intermediate).isCA).toBe(true);
    expect(defined(intermediate).basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(defined(anchor).isCA).toBe(true);
    expect(defined(intermediate).publicKey.algorithm).toBe("ecdsa-p384");
    expect(await defined(intermediate).signedBy(defined(anchor))).toBe(true);
    expect(await defined(anchor).signedBy(defined(anchor))).toBe(true);
    expect(await defined(anchor).signedBy(defined(intermediate))).toBe(false);
  });

  it("reads a Fulcio leaf's identity", () => {
    const bundle = parseBundle(CONFORMANCE["happy-path-intoto-in-dsse-v3"]);
    if (bundle.signer.kind !== "certificate") throw new Error("expected a certificate");
    const leaf = bundle.signer.certificate;
    expect(leaf.subjectAltNames.uris).toEqual([IDENTITIES.conformance.subjectPattern]);
    expect(leaf.fulcioExtension(OID.FULCIO_ISSUER_V2)).toBe(IDENTITIES.conformance.issuer);
    expect(leaf.fulcioExtension(OID.FULCIO_ISSUER_V1)).toBe(IDENTITIES.conformance.issuer);
    expect(leaf.extendedKeyUsage).toContain(OID.EKU_CODE_SIGNING);
    expect(leaf.isCA).toBe(false);
    expect(leaf.notAfter.getTime() - leaf.notBefore.getTime()).toBe(10 * 60 * 1000);
    expect(leaf.unknownCriticalExtensions()).toEqual([]);
    expect(() => Certificate.fromDer(leaf.der.subarray(0, 100))).toThrow(DerError);
  });
});

describe("Merkle inclusion proofs (RFC 9162)", () => {
  const leaves = Array.from({ length: 9 }, (_, i) => utf8(`leaf ${i}`));
  const H = (...parts: Uint8Array[]) => sha256(concatBytes(...parts));
  /** MTH of leaves[from, to), by the definition. */
  async function mth(from: number, to: number): Promise<Uint8Array> {
    if (to - from === 1) return H(new Uint8Array([0]), defined(leaves[from]));
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    return H(new Uint8Array([1]), await mth(from, from + k), await mth(from + k, to));
  }
  /** PATH(m, D[from:to]) by the definition. */
  async function path(m: number, from: number, to: number): Promise<Uint8Array[]> {
    if (to - from === 1) return [];
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    return m < k
      ? [...(await path(m, from, from + k)), await mth(from + k, to)]
      : [...(await path(m - k, from + k, to)), await mth(from, from + k)];
  }

  it("src/log's inclusion check, which Rekor proofs go through, agrees with RFC 9162's definition up to 9 leaves", async () => {
    for (let size = 1; size <= leaves.length; size++) {
      const root = await mth(0, size);
      for (let index = 0; index < size; index++) {
        const proof = await path(index, 0, size);
        const leaf = await leafHash(defined(leaves[index]));
        expect(await verifyInclusion(leaf, index, size, proof, root)).toBe(true);
        if (proof.length > 0) {
          expect(await verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
          expect(await verifyInclusion(leaf, index, size, [...proof, defined(proof[0])], root)).toBe(false);
        }
      }
    }
  });

  it("refuses an index outside the tree", async () => {
    expect(await verifyInclusion(await leafHash(defined(leaves[0])), 5, 5, [], await mth(0, 5))).toBe(false);
  });
});

describe("Rekor checkpoints through src/log's signed-note and checkpoint parsers", () => {
  const envelope = (
    defined(CONFORMANCE["happy-path-v0.3"].verificationMaterial.tlogEntries[0]).inclusionProof.checkpoint as {
      envelope: string;
    }
  ).envelope;

  it("splits the note from its signatures", () => {
    const { text, signatures } = parseNote(envelope);
    expect(text.endsWith("\n")).toBe(true);
    expect(signatures).toHaveLength(1);
    expect(defined(signatures[0]).name).toBe("rekor.sigstore.dev");
    const body = parseCheckpoint(text);
    expect(body.origin).toMatch(/^rekor\.sigstore\.dev - \d+$/);
    expect(body.rootHash).toHaveLength(32);
  });

  it("refuses malformed ones", () => {
    expect(() => parseNote("origin\n1\nAAAA\n")).toThrow(/blank line/);
    expect(() => parseNote(`${envelope}garbage line\n`)).toThrow(/signature line/);
    expect(() => parseCheckpoint("origin\nx\nAAAA\n")).toThrow(/size/);
  });
});

describe("DSSE and in-toto", () => {
  it("builds the pre-authentication encoding of the DSSE specification", () => {
    expect(fromUtf8(preAuthEncoding("http://example.com/HelloWorld", utf8("hello world")))).toBe(
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
    expect(preAuthEncoding("é", utf8("ü"))).toEqual(utf8("DSSEv1 2 é 2 ü"));
  });

  it("parses statements and refuses what is not one", () => {
    const statement = parseStatement(
      utf8(
        JSON.stringify({
          _type: "https://in-toto.io/Statement/v1",
          subject: [{ name: "x", digest: { sha256: "AB" } }],
          predicateType: "p",
        }),
      ),
    );
    expect(statement.subjects).toEqual([{ name: "x", digest: { sha256: "AB" } }]);
    expect(subjectMatchesDigest(defined(statement.subjects[0]), { sha256: "ab" })).toBe(true);
    expect(() => parseStatement(utf8("{}"))).toThrow(StatementError);
    expect(() =>
      parseStatement(
        utf8(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [], predicateType: "p" })),
      ),
    ).toThrow(/no subject/);
  });

  it("matches digests only on shared algorithms, all of which must agree", () => {
    const subject = { digest: { sha256: "aa", sha512: "bb" } };
    expect(subjectMatchesDigest(subject, { sha256: "aa" })).toBe(true);
    expect(subjectMatchesDigest(subject, { sha512: "bb" })).toBe(true);
    expect(subjectMatchesDigest(subject, { sha256: "aa", sha512: "cc" })).toBe(false);
    expect(subjectMatchesDigest({ digest: { sha1: "aa" } }, { sha256: "aa" })).toBe(false);
  });
});

describe("subject name rules", () => {
  it("names subjects as PyPI, npm and TUF targets do", () => {
    expect(subjectNameFor({ ecosystem: "pypi", filename: "pypi_attestations-0.0.19.tar.gz" })).toBe(
      "pypi_attestations-0.0.19.tar.gz",
    );
    expect(subjectNameFor({ ecosystem: "npm", name: "gundam-visor", version: "1.0.1" })).toBe(
      "pkg:npm/gundam-visor@1.0.1",
    );
    expect(npmSubjectName("@sigstore/verify", "4.1.3")).toBe("pkg:npm/%40sigstore/verify@4.1.3");
    expect(subjectNameFor({ ecosystem: "generic", targetPath: "packages/demo-1.0.0.tgz" })).toBe(
      "packages/demo-1.0.0.tgz",
    );
  });
});

describe("containers and trust material", () => {
  it("turns a PEP 740 attestation into a v0.3 DSSE bundle", () => {
    const bundle = parseBundle(bundleFromPep740(PEP740["pypi_attestations-0.0.19.tar.gz.publish"]));
    expect(bundle.version).toBe("0.3");
    expect(bundle.content.kind).toBe("dsseEnvelope");
    expect(() => bundleFromPep740({ ...PEP740["pypi_attestations-0.0.19.tar.gz.publish"], version: 2 })).toThrow(
      StructureError,
    );
  });

  it("reads the npm attestations response", () => {
    expect(npmAttestations(NPM.attestations).map((a) => a.predicateType)).toEqual([
      "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
      "https://slsa.dev/provenance/v1",
    ]);
  });

  it("keeps only the npm keys meant for attestations", () => {
    const keys = npmAttestationKeys(NPM_REGISTRY_KEYS);
    expect(keys.map((k) => [k.hint, k.validFor.end?.toISOString() ?? null])).toEqual([
      ["SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA", "2025-01-29T00:00:00.000Z"],
      ["SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U", null],
    ]);
  });

  it("reads the public-good trusted root", () => {
    const root = trustedRootFromJSON(TRUSTED_ROOT);
    expect(root.tlogs.map((t) => [t.origin, t.key.algorithm])).toEqual([
      ["rekor.sigstore.dev", "ecdsa-p256"],
      ["log2025-1.rekor.sigstore.dev", "ed25519"],
    ]);
    expect(root.ctlogs).toHaveLength(2);
    expect(root.certificateAuthorities.map((ca) => ca.chain.length)).toEqual([1, 2]);
    expect(() => trustedRootFromJSON({ ...(TRUSTED_ROOT as object), mediaType: "x" })).toThrow(TrustedRootError);
  });
});

describe("verifyBundle's contract", () => {
  const root = trustedRootFromJSON(TRUSTED_ROOT);

  it("needs a digest to compare with", async () => {
    await expect(verifyBundle(CONFORMANCE["happy-path-v0.3"], root, { digest: {} })).rejects.toThrow(TypeError);
  });

  it("reports the signer, time and log index", async () => {
    const verdict = await verifyBundle(CONFORMANCE["happy-path-intoto-in-dsse-v3"], root, {
      digest: { sha256: ARTIFACTS["a.txt"].sha256 },
    });
    expect(verdict).toMatchObject({
      ok: true,
      content: "dsseEnvelope",
      predicateType: "https://slsa.dev/provenance/v1",
      subjects: [{ name: "a.txt" }],
      signer: {
        kind: "certificate",
        ...{ issuer: IDENTITIES.conformance.issuer, san: IDENTITIES.conformance.subjectPattern },
        certificateAuthority: "https://fulcio.sigstore.dev",
      },
      integratedTime: 1734374576,
      logIndex: 155690850,
    });
    if (verdict.ok && verdict.signer.kind === "certificate") {
      // Fulcio 1.3.6.1.4.1.57264.1.12: source repository URI.
      expect(verdict.signer.extensions["1.3.6.1.4.1.57264.1.12"]).toBe(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon",
      );
    }
  });

  it("matches a RegExp identity against the whole SAN, not a part of it", async () => {
    const verdict = await verifyBundle(CONFORMANCE["happy-path-v0.3"], root, {
      digest: { sha256: ARTIFACTS["a.txt"].sha256 },
      identity: { issuer: IDENTITIES.conformance.issuer, subjectPattern: /sigstore-conformance/ },
    });
    expect(verdict).toMatchObject({ ok: false, code: "identity" });
  });

  it("accepts a name predicate and digests in upper case", async () => {
    const verdict = await verifyBundle(bundleFromPep740(PEP740["gitlab_oidc_project-0.0.3.tar.gz.publish"]), root, {
      digest: { sha256: ARTIFACTS["gitlab_oidc_project-0.0.3.tar.gz"].sha256.toUpperCase() },
      name: (name) => name.startsWith("gitlab_oidc_project-"),
    });
    expect(verdict.ok).toBe(true);
  });

  it("computes both digests of an artifact", async () => {
    expect(await artifactDigest(utf8("abc"))).toEqual({
      sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      sha512:
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    });
  });
});
