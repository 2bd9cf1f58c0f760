/**
 * The shapes registries' clients already read:
 *   npm   GET /-/npm/v1/attestations/<name>@<version>
 *         {"attestations": [{"predicateType": …, "bundle": <Sigstore bundle>}]}
 *   PyPI  GET /integrity/<project>/<version>/<filename>/provenance  (PEP 740)
 *         {"version": 1, "attestation_bundles": [{"publisher": {…}, "attestations": [<attestation>]}]}
 * A PEP 740 attestation is a Sigstore v0.3 DSSE bundle in another dress:
 * {version: 1, verification_material: {certificate, transparency_entries}, envelope: {statement, signature}}.
 */
import { z } from "zod";
import { optional, repeated } from "./protobuf-json.ts";

/** A PEP 740 attestation (pypi-attestations' `Attestation`): stored as pushed, served as is. */
const Pep740Attestation = z.looseObject({
  version: z.literal(1),
  verification_material: z.looseObject({}),
  envelope: z.looseObject({ statement: z.string(), signature: z.string() }),
});

const RawBytes = z.looseObject({ rawBytes: z.string().min(1) });

/** The parts of a Sigstore DSSE bundle (protobuf JSON) a PEP 740 attestation carries. */
const DsseBundle = z.looseObject({
  verificationMaterial: z.looseObject({
    certificate: optional(RawBytes),
    x509CertificateChain: optional(z.looseObject({ certificates: repeated(RawBytes) })),
    tlogEntries: repeated(z.record(z.string(), z.unknown())),
  }),
  dsseEnvelope: z.looseObject({
    payload: z.string().min(1),
    signatures: z.array(z.looseObject({ sig: z.string().min(1) })).min(1),
  }),
});

/**
 * The PEP 740 attestation object for a stored attestation (kept as-is if it
 * already is one), or null for a bundle that cannot be one (no DSSE
 * envelope, no certificate): it is left out, never served half empty.
 */
export function toPep740(stored: unknown): Record<string, unknown> | null {
  if (Pep740Attestation.safeParse(stored).success) return stored as Record<string, unknown>;
  const parsed = DsseBundle.safeParse(stored);
  if (!parsed.success) return null;
  const { verificationMaterial: material, dsseEnvelope: envelope } = parsed.data;
  const certificate = material.certificate?.rawBytes ?? material.x509CertificateChain?.certificates[0]?.rawBytes;
  if (!certificate) return null;
  return {
    version: 1,
    verification_material: { certificate, transparency_entries: material.tlogEntries },
    envelope: { statement: envelope.payload, signature: envelope.signatures[0]?.sig },
  };
}

/**
 * The Trusted Publisher kinds PyPI reports in PEP 740 provenance (pypi-attestations' `Publisher` union).
 * Not ActiveState: PyPI's ActiveState Trusted Publisher has no attestation identity
 * (warehouse/oidc/models/activestate.py keeps the base class's `None`), so PyPI refuses
 * attestations uploaded through it, and Fulcio (config/identity/config.yaml) issues no
 * certificates for ActiveState tokens: no bundle can name such a publisher.
 */
export const PYPI_PUBLISHER_KINDS = ["GitHub", "GitLab", "Google"] as const;

/**
 * A PEP 740 publisher for a signer identity, in PyPI's shape for the
 * Trusted Publishers it knows (GitHub, GitLab, Google); otherwise
 * `{kind: "Sigstore", issuer, identity}`, which a PEP 740 repository refuses.
 */
export function publisherFor(signer: { issuer?: string; san?: string } | undefined): Record<string, unknown> {
  const san = signer?.san ?? "";
  const github = /^https:\/\/github\.com\/([^/]+\/[^/]+)\/\.github\/workflows\/([^@]+)@/.exec(san);
  if (signer?.issuer === "https://token.actions.githubusercontent.com" && github) {
    return { kind: "GitHub", repository: github[1], workflow: github[2]?.split("/").pop(), environment: null };
  }
  const gitlab = /^https:\/\/gitlab\.com\/(.+)\/\/(.+)@/.exec(san);
  if (signer?.issuer === "https://gitlab.com" && gitlab) {
    return { kind: "GitLab", repository: gitlab[1], workflow_filepath: gitlab[2], environment: null };
  }
  if (signer?.issuer === "https://accounts.google.com" && /^[^@\s]+@[^@\s]+$/.test(san)) {
    return { kind: "Google", email: san };
  }
  return { kind: "Sigstore", issuer: signer?.issuer ?? null, identity: san || null };
}
