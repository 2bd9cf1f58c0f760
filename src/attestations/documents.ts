/**
 * The public attestation documents, as bytes: what the repository object
 * publishes to R2 when a target's attestations change, and what the Worker
 * serves unchanged (durable-objects/public-documents.ts writes them):
 *   list     GET /{repo}/attestations/{path}
 *            {"target", "attestations": [{predicateType, sha256, mediaType, publisher, url}]}
 *   npm      GET /{repo}/-/npm/v1/attestations/{name}@{version}: npm's shape, the
 *            publish attestation first, then the others in push order
 *   PEP 740  GET /{repo}/integrity/{project}/{version}/{file}/provenance: the
 *            attestations of every target with that file name, grouped by publisher
 *   index    {"flavour", "complete"}: the repository's flavour (which routes
 *            answer) and whether every document of attestations accepted so far
 *            is in R2 (until then a missing document is not an answer)
 * Pure: no I/O; the caller reads the stored bundles.
 */
import { utf8 } from "../lib/bytes.ts";
import type { AttestationPolicy } from "./policy.ts";
import { toPep740 } from "./shapes.ts";

/** One accepted attestation of a listed target, in the order it was accepted. */
export interface AttestationEntry {
  path: string;
  sha256: string;
  predicateType: string | null;
  mediaType: string;
  publisher: Record<string, unknown>;
}

export interface AttestationIndex {
  flavour: AttestationPolicy["flavour"];
  complete: boolean;
}

/** npm's publish attestation; the registry lists it before the provenance. */
export const NPM_PUBLISH = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

export function listDocument(
  repo: string,
  path: string,
  entries: readonly AttestationEntry[],
): Uint8Array<ArrayBuffer> {
  return utf8(
    JSON.stringify({
      target: path,
      attestations: entries.map((a) => ({
        predicateType: a.predicateType,
        sha256: a.sha256,
        mediaType: a.mediaType,
        publisher: a.publisher,
        url: `/${repo}/attestation-bundles/${a.sha256}.json`,
      })),
    }),
  );
}

/** The entries npm's shape lists (those with a predicate type), publish attestation first; [] when none. */
export function npmEntries(entries: readonly AttestationEntry[]): AttestationEntry[] {
  return entries
    .filter((a) => a.predicateType !== null)
    .map((a, i) => ({ a, rank: a.predicateType === NPM_PUBLISH ? -1 : i }))
    .sort((x, y) => x.rank - y.rank)
    .map(({ a }) => a);
}

/** npm's document for `entries` (from npmEntries) and their stored bundles, in the same order. */
export function npmDocument(
  entries: readonly AttestationEntry[],
  bundles: ReadonlyArray<Record<string, unknown>>,
): Uint8Array<ArrayBuffer> {
  return utf8(
    JSON.stringify({ attestations: entries.map((a, i) => ({ predicateType: a.predicateType, bundle: bundles[i] })) }),
  );
}

/** PEP 740's provenance for `entries` (every target with one file name) and their stored bundles. */
export function pep740Document(
  entries: readonly AttestationEntry[],
  bundles: ReadonlyArray<Record<string, unknown>>,
): Uint8Array<ArrayBuffer> {
  const byPublisher = new Map<
    string,
    { publisher: Record<string, unknown>; attestations: Array<Record<string, unknown>> }
  >();
  entries.forEach((a, i) => {
    const json = bundles[i];
    const attestation = json ? toPep740(json) : null;
    if (!attestation) return;
    const key = JSON.stringify(a.publisher);
    const group = byPublisher.get(key) ?? { publisher: a.publisher, attestations: [] };
    group.attestations.push(attestation);
    byPublisher.set(key, group);
  });
  return utf8(JSON.stringify({ version: 1, attestation_bundles: [...byPublisher.values()] }));
}

export function indexDocument(index: AttestationIndex): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify({ flavour: index.flavour, complete: index.complete }));
}
