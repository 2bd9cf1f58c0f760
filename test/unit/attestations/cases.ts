/**
 * Every verification case, shared by the workerd tests (our verifier) and the
 * Node reference test (@sigstore/verify 4.x under Node 24): the real
 * fixtures, the conformance *_fail cases, and tampered or re-targeted copies.
 *
 * `expect` is our verdict. `reference` is what the reference said when run
 * (test/e2e/attestations-reference.test.ts asserts it still does): "ok", or
 * the error code of @sigstore/verify / @sigstore/bundle, or, for the policy
 * checks @sigstore/verify does not make (in-toto subject digest and name,
 * predicate type), the harness's own SUBJECT_DIGEST / SUBJECT_NAME /
 * PREDICATE_TYPE on the statement @sigstore/verify authenticated.
 * A case where one accepts and the other rejects carries `divergence`.
 */
import { bundleFromPep740, npmAttestations } from "../../../src/attestations/bundle.ts";
import { npmSubjectName, pypiSubjectName } from "../../../src/attestations/statement.ts";
import type { RejectionCode } from "../../../src/attestations/verify.ts";
import { fromBase64, toBase64 } from "../../../src/lib/bytes.ts";
import {
  type ArtifactName,
  CONFORMANCE,
  IDENTITIES,
  NPM,
  NPM_REGISTRY_KEYS,
  PEP740,
  TRUSTED_ROOT,
} from "./material.ts";
import { defined } from "../../../scripts/lib/defined.ts";

/** Bundles are plain JSON here, edited freely. */
type J = any;

export type RootVariant =
  | "public-good"
  | "rekor-key-replaced"
  | "rekor-missing"
  | "rekor-expired"
  | "fulcio-replaced"
  | "no-ctlogs"
  | "no-npm-keys";

export interface Case {
  readonly id: string;
  readonly group: "fixture" | "conformance" | "tamper" | "root" | "structure" | "policy";
  readonly bundle: () => unknown;
  readonly artifact: ArtifactName;
  readonly root?: RootVariant;
  readonly subjectName?: string;
  readonly predicateTypes?: readonly string[];
  readonly identity?: { readonly issuer: string; readonly subjectPattern: string | RegExp };
  readonly expect: "ok" | RejectionCode;
  readonly reference: string;
  readonly divergence?: string;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

// ---------------------------------------------------------------------------
// Trust material

const PREDICATE = {
  slsa: "https://slsa.dev/provenance/v1",
  pypiPublish: "https://docs.pypi.org/attestations/publish/v1",
  npmPublish: "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
} as const;

/** The trusted root JSON and whether the npm registry keys come with it. */
export function trustMaterial(variant: RootVariant = "public-good"): { root: unknown; npmKeys: unknown } {
  const root: J = clone(TRUSTED_ROOT);
  const npmKeys = variant === "no-npm-keys" ? { keys: [] } : clone(NPM_REGISTRY_KEYS);
  const rekor = root.tlogs.find((t: J) => t.baseUrl === "https://rekor.sigstore.dev");
  switch (variant) {
    case "rekor-key-replaced":
      // Another genuine P-256 key (the 2022 CT log's) under Rekor's log ID.
      rekor.publicKey.rawBytes = root.ctlogs.find((c: J) => c.baseUrl.endsWith("/2022")).publicKey.rawBytes;
      break;
    case "rekor-missing":
      root.tlogs = root.tlogs.filter((t: J) => t !== rekor);
      break;
    case "rekor-expired":
      rekor.publicKey.validFor.end = "2022-01-01T00:00:00Z";
      break;
    case "fulcio-replaced":
      // A real CA chain that never issued Fulcio certificates: the timestamp authority's.
      root.certificateAuthorities = root.timestampAuthorities.map((t: J) => ({
        ...t,
        uri: "https://example.invalid/ca",
        validFor: { start: "2020-01-01T00:00:00Z" },
      }));
      break;
    case "no-ctlogs":
      root.ctlogs = [];
      break;
    default:
      break;
  }
  return { root, npmKeys };
}

// ---------------------------------------------------------------------------
// Bundle sources and edits

const conformance = (name: keyof typeof CONFORMANCE) => (): J => clone(CONFORMANCE[name]);
const pep740 = (name: keyof typeof PEP740) => (): J => bundleFromPep740(clone(PEP740[name]));
const npm = (name: "provenance.sigstore" | "publish.sigstore") => (): J => clone(NPM[name]);
const npmResponse = (name: "attestations" | "attestations.invalid-provenance-sig", index: number) => (): J =>
  clone(defined(npmAttestations(NPM[name])[index]).bundle);

const edit = (source: () => J, change: (bundle: J) => void) => (): J => {
  const bundle = source();
  change(bundle);
  return bundle;
};

/** XORs one byte of a base64 value. */
export function flipBase64(value: string, index: number, mask = 0x01): string {
  const bytes = fromBase64(value);
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = defined(bytes[i]) ^ mask;
  return toBase64(bytes);
}

const entry = (b: J): J => b.verificationMaterial.tlogEntries[0];

function flipSignature(b: J): void {
  // Byte 10 lies inside r of the DER ECDSA-Sig-Value: the DER stays well-formed.
  if (b.messageSignature) b.messageSignature.signature = flipBase64(b.messageSignature.signature, 10);
  else b.dsseEnvelope.signatures[0].sig = flipBase64(b.dsseEnvelope.signatures[0].sig, 10);
}

function leafOf(b: J): string {
  const vm = b.verificationMaterial;
  return vm.certificate?.rawBytes ?? vm.x509CertificateChain.certificates[0].rawBytes;
}

/** Puts `certificate` (base64 DER) in place of the bundle's signing material. */
function setLeaf(b: J, certificate: string): void {
  const vm = b.verificationMaterial;
  delete vm.publicKey;
  if (b.mediaType.endsWith("version=0.1") || b.mediaType.endsWith("version=0.2")) {
    delete vm.certificate;
    vm.x509CertificateChain = { certificates: [{ rawBytes: certificate }] };
  } else {
    delete vm.x509CertificateChain;
    vm.certificate = { rawBytes: certificate };
  }
}

/** Changes the checkpoint's root hash (and the proof's copy of it) without re-signing. */
function forgeCheckpointRoot(b: J): void {
  const proof = entry(b).inclusionProof;
  const forged = flipBase64(proof.rootHash, 0);
  proof.checkpoint.envelope = proof.checkpoint.envelope.replace(proof.rootHash, forged);
  proof.rootHash = forged;
}

// ---------------------------------------------------------------------------
// The fixtures

interface Fixture {
  readonly id: string;
  readonly bundle: () => J;
  readonly artifact: ArtifactName;
  /** Another artifact, for "rejected for another artifact". */
  readonly other: ArtifactName;
  readonly message: boolean;
  readonly subjectName?: string;
  readonly predicateType?: string;
  readonly identity?: { issuer: string; subjectPattern: string };
  /** Another fixture's certificate, and what swapping it in breaks. */
  readonly swap: { readonly from: () => J; readonly expect: "chain" | "signature"; readonly reference: string };
}

const GUNDAM = npmSubjectName("gundam-visor", "1.0.1");

const FIXTURES: readonly Fixture[] = [
  ...(["happy-path-v0.1", "happy-path-v0.2"] as const).map(
    (id): Fixture => ({
      id,
      bundle: conformance(id),
      artifact: "a.txt",
      other: "b.txt",
      message: true,
      identity: IDENTITIES.conformance,
      // The v0.3 leaf expired eight months before this entry was integrated.
      swap: { from: conformance("happy-path-v0.3"), expect: "chain", reference: "CERTIFICATE_ERROR" },
    }),
  ),
  {
    id: "happy-path-v0.3",
    bundle: conformance("happy-path-v0.3"),
    artifact: "a.txt",
    other: "b.txt",
    message: true,
    identity: IDENTITIES.conformance,
    swap: { from: conformance("happy-path-v0.1"), expect: "chain", reference: "CERTIFICATE_ERROR" },
  },
  {
    id: "happy-path-intoto-in-dsse-v3",
    bundle: conformance("happy-path-intoto-in-dsse-v3"),
    artifact: "a.txt",
    other: "b.txt",
    message: false,
    subjectName: "a.txt",
    predicateType: PREDICATE.slsa,
    identity: IDENTITIES.conformance,
    swap: { from: conformance("happy-path-v0.3"), expect: "chain", reference: "CERTIFICATE_ERROR" },
  },
  {
    id: "pypi_attestations-0.0.19.tar.gz.publish",
    bundle: pep740("pypi_attestations-0.0.19.tar.gz.publish"),
    artifact: "pypi_attestations-0.0.19.tar.gz",
    other: "gitlab_oidc_project-0.0.3.tar.gz",
    message: false,
    subjectName: pypiSubjectName("pypi_attestations-0.0.19.tar.gz"),
    predicateType: PREDICATE.pypiPublish,
    identity: IDENTITIES.pypiAttestations,
    // The slsa attestation's leaf (23:13:46–23:23:46) was valid at this entry's time (23:14:01): only the key is wrong.
    swap: { from: pep740("pypi_attestations-0.0.19.tar.gz.slsa"), expect: "signature", reference: "SIGNATURE_ERROR" },
  },
  {
    id: "pypi_attestations-0.0.19.tar.gz.slsa",
    bundle: pep740("pypi_attestations-0.0.19.tar.gz.slsa"),
    artifact: "pypi_attestations-0.0.19.tar.gz",
    other: "gitlab_oidc_project-0.0.3.tar.gz",
    message: false,
    subjectName: pypiSubjectName("pypi_attestations-0.0.19.tar.gz"),
    predicateType: PREDICATE.slsa,
    identity: IDENTITIES.pypiAttestations,
    // The publish attestation's leaf starts at 23:14:01, after this entry (23:13:46).
    swap: { from: pep740("pypi_attestations-0.0.19.tar.gz.publish"), expect: "chain", reference: "CERTIFICATE_ERROR" },
  },
  {
    id: "gitlab_oidc_project-0.0.3.tar.gz.publish",
    bundle: pep740("gitlab_oidc_project-0.0.3.tar.gz.publish"),
    artifact: "gitlab_oidc_project-0.0.3.tar.gz",
    other: "pypi_attestations-0.0.19.tar.gz",
    message: false,
    subjectName: pypiSubjectName("gitlab_oidc_project-0.0.3.tar.gz"),
    predicateType: PREDICATE.pypiPublish,
    identity: IDENTITIES.gitlab,
    swap: { from: pep740("pypi_attestations-0.0.19.tar.gz.publish"), expect: "chain", reference: "CERTIFICATE_ERROR" },
  },
  {
    id: "npm gundam-visor-1.0.1.provenance",
    bundle: npm("provenance.sigstore"),
    artifact: "gundam-visor-1.0.1.tgz",
    other: "a.txt",
    message: false,
    subjectName: GUNDAM,
    predicateType: PREDICATE.slsa,
    identity: IDENTITIES.gundamVisor,
    swap: { from: pep740("pypi_attestations-0.0.19.tar.gz.publish"), expect: "chain", reference: "CERTIFICATE_ERROR" },
  },
  {
    id: "npm gundam-visor-1.0.1.publish (npm registry key)",
    bundle: npm("publish.sigstore"),
    artifact: "gundam-visor-1.0.1.tgz",
    other: "a.txt",
    message: false,
    subjectName: GUNDAM,
    predicateType: PREDICATE.npmPublish,
    // The provenance leaf, issued two seconds earlier, was valid then: a genuine chain, the wrong key.
    swap: { from: npm("provenance.sigstore"), expect: "signature", reference: "SIGNATURE_ERROR" },
  },
];

function fixtureCases(f: Fixture): Case[] {
  const base = {
    bundle: f.bundle,
    artifact: f.artifact,
    ...(f.subjectName ? { subjectName: f.subjectName } : {}),
    ...(f.predicateType ? { predicateTypes: [f.predicateType] } : {}),
    ...(f.identity ? { identity: f.identity } : {}),
  };
  const untrustedRoot: Case = f.identity
    ? {
        id: `${f.id}: Fulcio CA not trusted`,
        group: "root",
        ...base,
        root: "fulcio-replaced",
        expect: "chain",
        reference: "CERTIFICATE_ERROR",
      }
    : {
        id: `${f.id}: npm key not trusted`,
        group: "root",
        ...base,
        root: "no-npm-keys",
        expect: "chain",
        reference: "PUBLIC_KEY_ERROR",
      };
  return [
    { id: f.id, group: "fixture", ...base, expect: "ok", reference: "ok" },
    {
      id: `${f.id}: for another artifact (${f.other})`,
      group: "tamper",
      ...base,
      artifact: f.other,
      expect: "subject_digest",
      reference: f.message ? "SIGNATURE_ERROR" : "SUBJECT_DIGEST",
    },
    {
      id: `${f.id}: one signature byte changed`,
      group: "tamper",
      ...base,
      bundle: edit(f.bundle, flipSignature),
      expect: "signature",
      reference: "TLOG_BODY_ERROR",
    },
    {
      id: `${f.id}: certificate swapped`,
      group: "tamper",
      ...base,
      bundle: edit(f.bundle, (b) => setLeaf(b, leafOf(f.swap.from()))),
      expect: f.swap.expect,
      reference: f.swap.reference,
    },
    {
      id: `${f.id}: inclusion proof hash altered`,
      group: "tamper",
      ...base,
      bundle: edit(
        f.bundle,
        (b) => (entry(b).inclusionProof.hashes[0] = flipBase64(entry(b).inclusionProof.hashes[0], 31)),
      ),
      expect: "tlog",
      reference: "TLOG_INCLUSION_PROOF_ERROR",
    },
    {
      id: `${f.id}: Rekor key not trusted`,
      group: "root",
      ...base,
      root: "rekor-key-replaced",
      expect: "tlog",
      reference: "TLOG_INCLUSION_PROMISE_ERROR",
    },
    untrustedRoot,
  ];
}

// ---------------------------------------------------------------------------
// All cases

const V03 = conformance("happy-path-v0.3");
const DSSE = conformance("happy-path-intoto-in-dsse-v3");
const PYPI = pep740("pypi_attestations-0.0.19.tar.gz.publish");
const PYPI_EXPECT = {
  artifact: "pypi_attestations-0.0.19.tar.gz",
  subjectName: pypiSubjectName("pypi_attestations-0.0.19.tar.gz"),
  predicateTypes: [PREDICATE.pypiPublish],
  identity: IDENTITIES.pypiAttestations,
} as const;

export const CASES: readonly Case[] = [
  ...FIXTURES.flatMap(fixtureCases),

  // The npm registry's attestations response, both entries, through the helper.
  {
    id: "npm attestations response [0] publish",
    group: "fixture",
    bundle: npmResponse("attestations", 0),
    artifact: "gundam-visor-1.0.1.tgz",
    subjectName: GUNDAM,
    predicateTypes: [PREDICATE.npmPublish],
    expect: "ok",
    reference: "ok",
  },
  {
    id: "npm attestations response [1] provenance",
    group: "fixture",
    bundle: npmResponse("attestations", 1),
    artifact: "gundam-visor-1.0.1.tgz",
    subjectName: GUNDAM,
    predicateTypes: [PREDICATE.slsa],
    identity: IDENTITIES.gundamVisor,
    expect: "ok",
    reference: "ok",
  },
  {
    id: "npm invalid-provenance-sig response [0] publish (untouched)",
    group: "fixture",
    bundle: npmResponse("attestations.invalid-provenance-sig", 0),
    artifact: "gundam-visor-1.0.1.tgz",
    subjectName: GUNDAM,
    expect: "ok",
    reference: "ok",
  },
  {
    id: "npm invalid-provenance-sig response [1] provenance (payload + newline)",
    group: "conformance",
    bundle: npmResponse("attestations.invalid-provenance-sig", 1),
    artifact: "gundam-visor-1.0.1.tgz",
    subjectName: GUNDAM,
    expect: "signature",
    reference: "TLOG_BODY_ERROR",
  },

  // sigstore-conformance *_fail cases, for the reason their README states.
  {
    id: "signature-mismatch_fail",
    group: "conformance",
    bundle: conformance("signature-mismatch_fail"),
    artifact: "a.txt",
    expect: "signature",
    reference: "TLOG_BODY_ERROR",
  },
  {
    id: "wrong-material_fail (its own artifact, b.txt)",
    group: "conformance",
    bundle: conformance("wrong-material_fail"),
    artifact: "b.txt",
    expect: "subject_digest",
    reference: "SIGNATURE_ERROR",
  },
  {
    id: "wrong-material_fail bundle with a.txt (valid)",
    group: "conformance",
    bundle: conformance("wrong-material_fail"),
    artifact: "a.txt",
    expect: "ok",
    reference: "ok",
  },
  {
    id: "message-digest-mismatch_fail",
    group: "conformance",
    bundle: conformance("message-digest-mismatch_fail"),
    artifact: "a.txt",
    expect: "subject_digest",
    reference: "TLOG_BODY_ERROR",
  },
  {
    id: "dsse-invalid-sig_fail",
    group: "conformance",
    bundle: conformance("dsse-invalid-sig_fail"),
    artifact: "a.txt",
    expect: "signature",
    reference: "TLOG_BODY_ERROR",
  },
  {
    id: "incorrect-public-key_fail",
    group: "conformance",
    bundle: conformance("incorrect-public-key_fail"),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },

  // More transparency-log tampering.
  {
    id: "v0.3: signed entry timestamp altered",
    group: "tamper",
    bundle: edit(
      V03,
      (b) =>
        (entry(b).inclusionPromise.signedEntryTimestamp = flipBase64(
          entry(b).inclusionPromise.signedEntryTimestamp,
          10,
        )),
    ),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "v0.3: integratedTime moved by one second",
    group: "tamper",
    bundle: edit(V03, (b) => (entry(b).integratedTime = String(Number(entry(b).integratedTime) + 1))),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "v0.3: logIndex changed",
    group: "tamper",
    bundle: edit(V03, (b) => (entry(b).logIndex = String(Number(entry(b).logIndex) + 1))),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "dsse-v3: checkpoint root hash forged",
    group: "tamper",
    bundle: edit(DSSE, forgeCheckpointRoot),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROOF_ERROR",
  },
  {
    id: "dsse-v3: checkpoint signature altered",
    group: "tamper",
    bundle: edit(DSSE, (b) => {
      const proof = entry(b).inclusionProof.checkpoint;
      const [, sig] = defined(/— \S+ (\S+)\n/.exec(proof.envelope));
      proof.envelope = proof.envelope.replace(defined(sig), flipBase64(defined(sig), -5));
    }),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROOF_ERROR",
  },
  {
    id: "pypi publish: inclusion proof moved to another leaf index",
    group: "tamper",
    bundle: edit(
      PYPI,
      (b) => (entry(b).inclusionProof.logIndex = String(Number(entry(b).inclusionProof.logIndex) - 1)),
    ),
    ...PYPI_EXPECT,
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROOF_ERROR",
  },
  {
    id: "v0.3: inclusion proof's rootHash field disagrees with its checkpoint",
    group: "tamper",
    bundle: edit(V03, (b) => (entry(b).inclusionProof.rootHash = flipBase64(entry(b).inclusionProof.rootHash, 0))),
    artifact: "a.txt",
    expect: "tlog",
    reference: "ok",
    divergence:
      "@sigstore/verify checks the proof against the checkpoint's root hash only and ignores inclusionProof.rootHash; we also require the two to agree (as sigstore-python does).",
  },
  {
    id: "v0.3: no inclusion promise (no authenticated time)",
    group: "tamper",
    bundle: edit(V03, (b) => delete entry(b).inclusionPromise),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TIMESTAMP_ERROR",
  },
  {
    id: "v0.3: no tlog entry",
    group: "tamper",
    bundle: edit(V03, (b) => (b.verificationMaterial.tlogEntries = [])),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TIMESTAMP_ERROR",
  },
  {
    id: "v0.1: canonicalizedBody of another entry (v0.3's)",
    group: "tamper",
    bundle: edit(conformance("happy-path-v0.1"), (b) => (entry(b).canonicalizedBody = entry(V03()).canonicalizedBody)),
    artifact: "a.txt",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "dsse-v3: payload changed (subject renamed), signature kept",
    group: "tamper",
    bundle: edit(DSSE, (b) => {
      const statement = JSON.parse(atob(b.dsseEnvelope.payload));
      statement.subject[0].name = "b.txt";
      b.dsseEnvelope.payload = btoa(JSON.stringify(statement));
    }),
    artifact: "a.txt",
    expect: "signature",
    reference: "TLOG_BODY_ERROR",
  },
  {
    id: "v0.3: Rekor not in the trusted root",
    group: "root",
    bundle: V03,
    artifact: "a.txt",
    root: "rekor-missing",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "v0.3: Rekor key expired before the entry",
    group: "root",
    bundle: V03,
    artifact: "a.txt",
    root: "rekor-expired",
    expect: "tlog",
    reference: "TLOG_INCLUSION_PROMISE_ERROR",
  },
  {
    id: "dsse-v3: no CT log trusted (SCT)",
    group: "root",
    bundle: DSSE,
    artifact: "a.txt",
    root: "no-ctlogs",
    expect: "chain",
    reference: "CERTIFICATE_ERROR",
  },

  // Structure.
  {
    id: "not an object",
    group: "structure",
    bundle: () => null,
    artifact: "a.txt",
    expect: "structure",
    reference: "TypeError",
  },
  {
    id: "unknown media type (v0.4)",
    group: "structure",
    bundle: edit(V03, (b) => (b.mediaType = "application/vnd.dev.sigstore.bundle+json;version=0.4")),
    artifact: "a.txt",
    expect: "structure",
    reference: "ok",
    divergence:
      "@sigstore/bundle accepts any bundle+json;version=N.N and validates it as the latest; we accept only 0.1, 0.2, 0.3.",
  },
  {
    id: "v0.3 with x509CertificateChain",
    group: "structure",
    bundle: edit(V03, (b) => {
      b.verificationMaterial.x509CertificateChain = { certificates: [b.verificationMaterial.certificate] };
      delete b.verificationMaterial.certificate;
    }),
    artifact: "a.txt",
    expect: "structure",
    reference: "ValidationError",
  },
  {
    id: "v0.2 entry without inclusionProof",
    group: "structure",
    bundle: edit(conformance("happy-path-v0.2"), (b) => delete entry(b).inclusionProof),
    artifact: "a.txt",
    expect: "structure",
    reference: "ValidationError",
  },
  {
    id: "v0.1 entry without inclusionPromise",
    group: "structure",
    bundle: edit(conformance("happy-path-v0.1"), (b) => delete entry(b).inclusionPromise),
    artifact: "a.txt",
    expect: "structure",
    reference: "ValidationError",
  },
  {
    id: "DSSE envelope with two signatures",
    group: "structure",
    bundle: edit(DSSE, (b) => b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0])),
    artifact: "a.txt",
    expect: "structure",
    reference: "ValidationError",
  },
  {
    id: "certificate bytes are not DER",
    group: "structure",
    bundle: edit(V03, (b) => (b.verificationMaterial.certificate.rawBytes = btoa("not a certificate"))),
    artifact: "a.txt",
    expect: "structure",
    reference: "StreamError",
  },

  // Policy: subject name, predicate type, identity.
  {
    id: "pypi publish: subject name is not the wheel's",
    group: "policy",
    bundle: PYPI,
    ...PYPI_EXPECT,
    subjectName: pypiSubjectName("pypi_attestations-0.0.19-py3-none-any.whl"),
    expect: "subject_name",
    reference: "SUBJECT_NAME",
  },
  {
    id: "npm provenance: subject is not gundam-visor@1.0.2",
    group: "policy",
    bundle: npm("provenance.sigstore"),
    artifact: "gundam-visor-1.0.1.tgz",
    subjectName: npmSubjectName("gundam-visor", "1.0.2"),
    expect: "subject_name",
    reference: "SUBJECT_NAME",
  },
  {
    id: "dsse-v3: subject is not named b.txt",
    group: "policy",
    bundle: DSSE,
    artifact: "a.txt",
    subjectName: "b.txt",
    expect: "subject_name",
    reference: "SUBJECT_NAME",
  },
  {
    id: "pypi publish: SLSA provenance required",
    group: "policy",
    bundle: PYPI,
    ...PYPI_EXPECT,
    predicateTypes: [PREDICATE.slsa],
    expect: "predicate_type",
    reference: "PREDICATE_TYPE",
  },
  {
    id: "v0.3: a predicate required of a message signature",
    group: "policy",
    bundle: V03,
    artifact: "a.txt",
    predicateTypes: [PREDICATE.slsa],
    expect: "predicate_type",
    reference: "PREDICATE_TYPE",
  },
  {
    id: "v0.3: signed by another workflow",
    group: "policy",
    bundle: V03,
    artifact: "a.txt",
    identity: { ...IDENTITIES.conformance, subjectPattern: IDENTITIES.pypiAttestations.subjectPattern },
    expect: "identity",
    reference: "UNTRUSTED_SIGNER_ERROR",
  },
  {
    id: "npm publish: an identity required of a key-signed bundle",
    group: "policy",
    bundle: npm("publish.sigstore"),
    artifact: "gundam-visor-1.0.1.tgz",
    identity: IDENTITIES.gundamVisor,
    expect: "identity",
    reference: "UNTRUSTED_SIGNER_ERROR",
  },
  {
    id: "gitlab: issuer is not GitHub",
    group: "policy",
    bundle: pep740("gitlab_oidc_project-0.0.3.tar.gz.publish"),
    artifact: "gitlab_oidc_project-0.0.3.tar.gz",
    identity: { ...IDENTITIES.gitlab, issuer: "https://token.actions.githubusercontent.com" },
    expect: "identity",
    reference: "UNTRUSTED_SIGNER_ERROR",
  },
  {
    id: "dsse-v3: identity by anchored RegExp",
    group: "policy",
    bundle: DSSE,
    artifact: "a.txt",
    identity: {
      issuer: IDENTITIES.conformance.issuer,
      subjectPattern:
        /^https:\/\/github\.com\/sigstore-conformance\/extremely-dangerous-public-oidc-beacon\/\.github\/workflows\/[^@]+@refs\/heads\/main$/,
    },
    expect: "ok",
    reference: "ok",
  },
];
