/**
 * The shapes registries' clients already read:
 *   npm   GET /-/npm/v1/attestations/<name>@<version>
 *         {"attestations": [{"predicateType": …, "bundle": <Sigstore bundle>}]}
 *   PyPI  GET /integrity/<project>/<version>/<filename>/provenance  (PEP 740)
 *         {"version": 1, "attestation_bundles": [{"publisher": {…}, "attestations": [<attestation>]}]}
 * A PEP 740 attestation is a Sigstore v0.3 DSSE bundle in another dress:
 * {version: 1, verification_material: {certificate, transparency_entries}, envelope: {statement, signature}}.
 */

/** The PEP 740 attestation object for a stored attestation (kept as-is if it already is one). */
export function toPep740(stored: Record<string, unknown>): Record<string, unknown> {
  if (stored.version === 1 && "verification_material" in stored) return stored;
  const material = (stored.verificationMaterial ?? {}) as Record<string, unknown>;
  const certificate =
    (material.certificate as { rawBytes?: string } | undefined)?.rawBytes ??
    (material.x509CertificateChain as { certificates?: Array<{ rawBytes: string }> } | undefined)?.certificates?.[0]
      ?.rawBytes;
  const envelope = (stored.dsseEnvelope ?? {}) as { payload?: string; signatures?: Array<{ sig: string }> };
  return {
    version: 1,
    verification_material: { certificate, transparency_entries: material.tlogEntries ?? [] },
    envelope: { statement: envelope.payload, signature: envelope.signatures?.[0]?.sig },
  };
}

/** The Trusted Publisher kinds PyPI reports in PEP 740 provenance (pypi-attestations' `Publisher` union). */
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
