/**
 * The corpus of real, public Sigstore bundles in
 * test/unit/attestations/fixtures/corpus (corpus.json lists every case and
 * cites every file's repository, path and commit; PROVENANCE.md is its
 * readable form). Node-side: the reference comparison test and the bench
 * read it from disk.
 *
 * A case is one bundle to verify for one artifact under one trust
 * material: a Sigstore bundle, a PEP 740 attestation (converted to the
 * equivalent v0.3 bundle), or one attestation of an npm attestations
 * response.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleFromPep740, npmAttestations } from "../../src/attestations/bundle.ts";
import { pemToDer } from "../../src/tuf/pem.ts";
import { PROJECT_ROOT } from "./local-instance.ts";

export const CORPUS_DIR = join(PROJECT_ROOT, "test/unit/attestations/fixtures/corpus");

interface Source {
  readonly repository: string;
  readonly path: string;
  readonly commit: string;
}

interface ArtifactRef {
  readonly file?: string;
  readonly sha256?: string;
  readonly sha512?: string;
  /** Digests taken from the statement's first subject (no artifact published upstream). */
  readonly fromStatement?: boolean;
  readonly from?: Source;
}

interface CaseEntry {
  readonly id: string;
  readonly container: "bundle" | "pep740" | "npm";
  readonly file: string;
  readonly index?: number;
  readonly artifact: ArtifactRef;
  readonly trustedRoot: string;
  readonly npmKeys?: string;
  readonly key?: string;
  readonly identity?: { readonly issuer: string; readonly subject: string };
  /** What upstream says of it, where it says (a `_fail` directory, an invalid-signature copy). */
  readonly upstream?: "valid" | "invalid";
}

interface Manifest {
  readonly files: Record<string, Source & { sha256: string; bytes: number; derived?: string }>;
  readonly cases: readonly CaseEntry[];
}

export interface CorpusCase {
  readonly id: string;
  readonly container: CaseEntry["container"];
  readonly upstream?: "valid" | "invalid";
  /** The Sigstore bundle JSON to verify (freshly parsed: callers may edit it). */
  bundle(): unknown;
  readonly trustedRoot: unknown;
  readonly npmKeys?: unknown;
  /** A managed key (key.pub), DER SubjectPublicKeyInfo, for the bundle's publicKey hint. */
  readonly key?: Uint8Array<ArrayBuffer>;
  readonly artifact?: Uint8Array<ArrayBuffer>;
  readonly digest: { readonly sha256?: string; readonly sha512?: string };
  readonly identity?: { readonly issuer: string; readonly subjectPattern: string };
}

const read = (path: string): Buffer => readFileSync(join(CORPUS_DIR, path));
const json = (path: string): unknown => JSON.parse(read(path).toString("utf8"));

export function loadManifest(): Manifest {
  return json("corpus.json") as Manifest;
}

export function loadCorpus(): CorpusCase[] {
  return loadManifest().cases.map((c): CorpusCase => {
    const text = read(c.file).toString("utf8");
    const bundle = (): unknown => {
      const parsed = JSON.parse(text) as unknown;
      if (c.container === "pep740") return bundleFromPep740(parsed);
      if (c.container === "npm") return npmAttestations(parsed)[c.index ?? 0]?.bundle;
      return parsed;
    };
    const { sha256, sha512 } = c.artifact;
    return {
      id: c.id,
      container: c.container,
      ...(c.upstream ? { upstream: c.upstream } : {}),
      bundle,
      trustedRoot: json(c.trustedRoot),
      ...(c.npmKeys ? { npmKeys: json(c.npmKeys) } : {}),
      ...(c.key ? { key: pemToDer(read(c.key).toString("utf8"), "PUBLIC KEY") } : {}),
      ...(c.artifact.file ? { artifact: new Uint8Array(read(c.artifact.file)) } : {}),
      digest: { ...(sha256 ? { sha256 } : {}), ...(sha512 ? { sha512 } : {}) },
      ...(c.identity ? { identity: { issuer: c.identity.issuer, subjectPattern: c.identity.subject } } : {}),
    };
  });
}

/** The bundle's `verificationMaterial.publicKey.hint`, if it names its key by hint. */
export function publicKeyHint(bundle: unknown): string | undefined {
  const material = (bundle as { verificationMaterial?: { publicKey?: { hint?: unknown } } }).verificationMaterial;
  const hint = material?.publicKey?.hint;
  return typeof hint === "string" ? hint : undefined;
}
