/**
 * An accepted attestation in plain words, for the target page: who published
 * it (the Fulcio certificate's identity and its GitHub/GitLab build
 * extensions, or the registry key that signed it), what it claims (predicate
 * type, subjects), when it was signed and where Rekor logged it. Pure: bytes
 * in, a summary out; nothing here is trusted more than the stored bytes (the
 * repository verified them on the way in).
 */
import { bundleFromPep740, parseBundle } from "../attestations/bundle.ts";
import { parseStatement, type Statement } from "../attestations/statement.ts";
import { publisherFor } from "../attestations/shapes.ts";
import type { Certificate } from "../attestations/x509.ts";
import { toBase64 } from "../lib/bytes.ts";

/** Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
const FULCIO = (arc: number) => `1.3.6.1.4.1.57264.1.${arc}`;

export interface AttestationSummary {
  sha256: string;
  format: string;
  predicateType: string | null;
  publisherKind: string;
  identity: string | null;
  issuer: string | null;
  sourceRepository: string | null;
  workflow: string | null;
  ref: string | null;
  commit: string | null;
  /** https links only, built from the certificate's own URIs. */
  commitUrl: string | null;
  runUrl: string | null;
  builder: string | null;
  trigger: string | null;
  subjects: Array<{ name: string | null; digest: string }>;
  signedAt: string | null;
  rekorLogIndex: string | null;
  rekorUrl: string | null;
  /** Why the bytes could not be read as an attestation (then only sha256 is meaningful). */
  problem: string | null;
}

const empty = (sha256: string, problem: string | null): AttestationSummary => ({
  sha256,
  format: "unknown",
  predicateType: null,
  publisherKind: "unknown",
  identity: null,
  issuer: null,
  sourceRepository: null,
  workflow: null,
  ref: null,
  commit: null,
  commitUrl: null,
  runUrl: null,
  builder: null,
  trigger: null,
  subjects: [],
  signedAt: null,
  rekorLogIndex: null,
  rekorUrl: null,
  problem,
});

/** An https URL as given, or null: only such links are ever rendered. */
export function httpsUrl(text: string | null | undefined): string | null {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function builderOf(statement: Statement | null): string | null {
  const predicate = statement?.predicate as
    | { runDetails?: { builder?: { id?: unknown } }; builder?: { id?: unknown } }
    | undefined;
  const id = predicate?.runDetails?.builder?.id ?? predicate?.builder?.id;
  return typeof id === "string" ? id : null;
}

function fromCertificate(summary: AttestationSummary, cert: Certificate): void {
  const ext = (arc: number) => cert.fulcioExtension(FULCIO(arc)) ?? null;
  const san = cert.subjectAltNames;
  const identity = san.uris[0] ?? san.emails[0] ?? san.others[0] ?? null;
  const issuer = ext(8) ?? ext(1);
  const publisher = publisherFor({ issuer: issuer ?? undefined, san: identity ?? undefined });
  summary.publisherKind = String(publisher.kind);
  summary.identity = identity;
  summary.issuer = issuer;
  const repositoryUri = ext(12) ?? (ext(5) ? `https://github.com/${ext(5)}` : null);
  summary.sourceRepository = repositoryUri;
  summary.workflow = ext(18) ?? ext(4);
  summary.ref = ext(14) ?? ext(6);
  summary.commit = ext(13) ?? ext(3);
  const repoUrl = httpsUrl(repositoryUri);
  summary.commitUrl =
    repoUrl && summary.commit && /^[0-9a-f]{7,64}$/.test(summary.commit)
      ? `${repoUrl.replace(/\/$/, "")}/commit/${summary.commit}`
      : null;
  summary.runUrl = httpsUrl(ext(21));
  summary.trigger = ext(20) ?? ext(2);
  summary.builder = ext(11) ? `${ext(11)} runner` : null;
}

/** The summary of a stored attestation (a Sigstore bundle or a PEP 740 attestation). */
export function summarizeAttestation(sha256: string, bytes: Uint8Array): AttestationSummary {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return empty(sha256, "not JSON");
  }
  const pep740 = typeof json === "object" && json !== null && "verification_material" in json;
  let bundle: ReturnType<typeof parseBundle>;
  try {
    bundle = parseBundle(pep740 ? bundleFromPep740(json) : json);
  } catch (error) {
    return empty(sha256, error instanceof Error ? error.message : "not a bundle");
  }
  const summary = empty(sha256, null);
  summary.format = pep740 ? "PEP 740 attestation" : `Sigstore bundle ${bundle.version}`;
  let statement: Statement | null = null;
  if (bundle.content.kind === "dsseEnvelope") {
    try {
      statement = parseStatement(bundle.content.payload);
    } catch {
      statement = null;
    }
  }
  summary.predicateType = statement?.predicateType ?? null;
  summary.subjects = (statement?.subjects ?? []).map((s) => ({
    name: s.name ?? null,
    digest: Object.entries(s.digest)
      .map(([alg, hex]) => `${alg}:${hex}`)
      .join(" "),
  }));
  if (bundle.signer.kind === "certificate") fromCertificate(summary, bundle.signer.certificate);
  else {
    summary.publisherKind = "Registry key";
    summary.identity = bundle.signer.hint || null;
  }
  summary.builder = builderOf(statement) ?? summary.builder;
  const tlog = bundle.tlogEntries[0];
  if (tlog) {
    if (tlog.integratedTime > 0n)
      summary.signedAt = new Date(Number(tlog.integratedTime) * 1000).toISOString().replace(".000Z", "Z");
    summary.rekorLogIndex = tlog.logIndex.toString();
    // Only the public-good Rekor has a public search page.
    summary.rekorUrl =
      toBase64(tlog.logId) === "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="
        ? `https://search.sigstore.dev/?logIndex=${tlog.logIndex}`
        : null;
  }
  return summary;
}
