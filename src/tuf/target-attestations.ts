/**
 * How a target entry names its attestations: `custom.attestations`, a list of
 * `{predicate_type, sha256}` in the order they were accepted, so a client that
 * resolved the target can fetch each bundle and check it by digest. The same
 * binding for a target the service signs (durable-objects/attestations.ts)
 * and for one an offline role's owners sign (src/tuf/offline-draft.ts: an
 * attestation waits in their next version). Pure.
 */

/** One attestation as a target entry lists it (`predicate_type` "" for a bundle with none). */
export interface ListedAttestation {
  predicate_type: string;
  sha256: string;
}

/** The attestations `entry` lists (none if its custom field has no such list). */
export function listedAttestations(entry: { custom?: Record<string, unknown> } | undefined): ListedAttestation[] {
  const list = entry?.custom?.attestations;
  return Array.isArray(list) ? (list as ListedAttestation[]) : [];
}

/** Whether `entry` lists the attestation with bundle digest `sha256`. */
export function listsAttestation(entry: { custom?: Record<string, unknown> } | undefined, sha256: string): boolean {
  return listedAttestations(entry).some((a) => a.sha256 === sha256);
}

/** `entry` with `attestation` appended to its list (the same entry if it lists it already). */
export function withAttestation<T extends { custom?: Record<string, unknown> }>(
  entry: T,
  attestation: ListedAttestation,
): T {
  if (listsAttestation(entry, attestation.sha256)) return entry;
  const listed = listedAttestations(entry);
  const added = { predicate_type: attestation.predicate_type, sha256: attestation.sha256 };
  return { ...entry, custom: { ...entry.custom, attestations: [...listed, added] } };
}
