/**
 * Attestations a repository accepted: verified offline against its policy
 * before anything is stored, kept in R2 under the SHA-256 of their bytes, and
 * bound into TUF: the target's entry in its bin lists, in `custom`, each
 * attestation's predicate type and digest, so a client that resolved the
 * target can fetch each attestation and check it by digest.
 */
import { bundleFromPep740 } from "../src/attestations/bundle.ts";
import {
  type AttestationPolicy,
  AttestationPolicySchema,
  DEFAULT_POLICY,
  expectedSubjectName,
  policyTrustedRoot,
  sigstoreTrustedRoot,
} from "../src/attestations/policy.ts";
import { PYPI_PUBLISHER_KINDS, publisherFor } from "../src/attestations/shapes.ts";
import type { TrustedRoot } from "../src/attestations/trusted-root.ts";
import { verifyBundle } from "../src/attestations/verify.ts";
import { type AttestationPolicyView, failure, type Failure } from "../src/repository-api.ts";
import { wellFormedJson } from "../src/schemas/safe-string.ts";
import type { Hashes } from "../src/tuf/targets.ts";
import { type ListedAttestation, listsAttestation, withAttestation } from "../src/tuf/target-attestations.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { utf8 } from "../src/lib/bytes.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { TargetsIndex } from "./targets-index.ts";
import type { TransparencyLog } from "./transparency-log.ts";
import type { TrustView } from "./sigstore-trust.ts";

/** The deployment's Sigstore trusted root and npm keys (durable-objects/sigstore-trust.ts): their texts only if `known` is stale. */
export type SigstoreTrustSource = (known: string | null) => Promise<TrustView>;

const POLICY = "attestation-policy";

export interface VerifiedAttestation {
  path: string;
  sha256: string;
  bytes: Uint8Array<ArrayBuffer>;
  predicateType: string | null;
  mediaType: string;
  publisher: Record<string, unknown>;
}

export interface AttestationRecord {
  sha256: string;
  predicateType: string | null;
  mediaType: string;
  publisher: Record<string, unknown>;
}

interface Row extends Record<string, SqlStorageValue> {
  sha256: string;
  path: string;
  predicate_type: string | null;
  media_type: string;
  publisher: string;
}

export class Attestations {
  readonly #sql: SqlStorage;
  readonly #kv: SyncKvStorage;
  readonly #repo: string;
  readonly #sigstoreTrust: SigstoreTrustSource;
  /** A policy's own trusted root, parsed once. */
  #custom: { policy: AttestationPolicy; root: TrustedRoot } | null = null;
  /** The deployment's trusted root as last fetched from the Sigstore trust object, parsed once per version. */
  #sigstore: { version: string; root: TrustedRoot } | null = null;

  constructor(deps: { sql: SqlStorage; kv: SyncKvStorage; repo: string; sigstoreTrust: SigstoreTrustSource }) {
    this.#sql = deps.sql;
    this.#kv = deps.kv;
    this.#repo = deps.repo;
    this.#sigstoreTrust = deps.sigstoreTrust;
  }

  policy(): AttestationPolicy {
    return this.#kv.get<AttestationPolicy>(POLICY) ?? DEFAULT_POLICY;
  }

  /** The policy as the admin API shows it (the trusted root itself is not echoed). */
  policyView(): AttestationPolicyView {
    const { trustedRoot, ...rest } = this.policy();
    return { ...rest, customTrustedRoot: trustedRoot !== undefined };
  }

  /** Replaces the policy; a trusted root that does not parse is refused. */
  setPolicy(input: unknown): AttestationPolicy | Failure {
    const parsed = wellFormedJson(AttestationPolicySchema).safeParse(input);
    if (!parsed.success)
      return failure(
        400,
        "invalid_request",
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    try {
      policyTrustedRoot(parsed.data);
    } catch (error) {
      return failure(
        422,
        "invalid_request",
        `trustedRoot: ${error instanceof Error ? error.message : "not a trusted root"}`,
      );
    }
    this.#kv.put(POLICY, parsed.data);
    this.#custom = null;
    return parsed.data;
  }

  /**
   * Verifies one attestation about `path`, whose target has `hashes`: genuine
   * (signature, certificate chain, transparency log) and about that artifact
   * (subject digest and name), with an allowed predicate type and identity.
   */
  async verify(at: string, path: string, hashes: Hashes, text: string): Promise<VerifiedAttestation | Failure> {
    const reject = (code: string, detail: string) => ({
      ...failure(422, "attestation_rejected", `${at}: attestation rejected (${code}): ${detail}`),
      errors: [{ path: `${at}.bundle`, message: code }],
    });
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return reject("structure", "not JSON");
    }
    const policy = this.policy();
    const root = await this.#trustedRoot(policy);
    if (typeof root === "string") return reject("chain", root);
    const subjectName = expectedSubjectName(policy, path);
    if (subjectName === null)
      return reject("subject_name", `"${path}" does not follow the ${policy.flavour} naming of this repository`);
    let bundle: unknown = json;
    if (json.version === 1 && "verification_material" in json) {
      try {
        bundle = bundleFromPep740(json);
      } catch (error) {
        return reject("structure", error instanceof Error ? error.message : "not a PEP 740 attestation");
      }
    }
    const verdict = await verifyBundle(bundle, root, {
      digest: hashes,
      name: subjectName,
      ...(policy.predicateTypes ? { predicateTypes: policy.predicateTypes } : {}),
    });
    if (!verdict.ok) return reject(verdict.code, verdict.detail);
    if (policy.flavour !== "generic" && verdict.content === "messageSignature") {
      return reject(
        "structure",
        policy.flavour === "pypi"
          ? "a message-signature bundle cannot become a PEP 740 attestation (a DSSE envelope of an in-toto statement)"
          : "npm serves attestations by predicate type: a message-signature bundle has none",
      );
    }
    const signer = verdict.signer.kind === "certificate" ? verdict.signer : undefined;
    const publisher = publisherFor(signer);
    if (policy.flavour === "pypi" && !(PYPI_PUBLISHER_KINDS as readonly unknown[]).includes(publisher.kind)) {
      return reject(
        "identity",
        `signed by ${signer?.san ?? "a key"} (${signer?.issuer ?? "no issuer"}): not a Trusted Publisher kind PEP 740 provenance can name (${PYPI_PUBLISHER_KINDS.join(", ")})`,
      );
    }
    if (policy.identities && !policy.identities.some((id) => matchesIdentity(id, signer))) {
      return reject(
        "identity",
        `signed by ${signer?.san ?? "a key"} (${signer?.issuer ?? "no issuer"}), not a trusted publisher`,
      );
    }
    const bytes = utf8(text);
    return {
      path,
      sha256: await sha256Hex(bytes),
      bytes,
      predicateType: verdict.predicateType ?? null,
      mediaType: String(
        (bundle as { mediaType?: string }).mediaType ?? "application/vnd.dev.sigstore.bundle.v0.3+json",
      ),
      publisher,
    };
  }

  /**
   * PyPI allows one attestation per predicate type per file: refuses
   * `attestation` if the target (or an earlier event of the same push) has
   * another one of its predicate type. The same attestation again is fine.
   * `listed`: for a target an offline role lists, the attestations its entry
   * will list once its owners sign what waits for them (instead of those recorded).
   */
  duplicatePredicate(
    at: string,
    attestation: VerifiedAttestation,
    earlier: readonly VerifiedAttestation[],
    listed?: readonly ListedAttestation[],
  ): Failure | null {
    if (this.policy().flavour !== "pypi" || attestation.predicateType === null) return null;
    const same = (other: { sha256: string; predicateType: string | null }) =>
      other.predicateType === attestation.predicateType && other.sha256 !== attestation.sha256;
    const stored = listed
      ? listed.map((l) => ({ sha256: l.sha256, predicateType: l.predicate_type }))
      : this.forPath(attestation.path);
    const pending = earlier.filter((e) => e.path === attestation.path);
    if (!stored.some(same) && !pending.some(same)) return null;
    return {
      ...failure(
        409,
        "duplicate_predicate_type",
        `${at}: ${attestation.path} already has a ${attestation.predicateType} attestation (PEP 740: one per predicate type per file)`,
      ),
      errors: [{ path: `${at}.bundle`, message: "duplicate_predicate_type" }],
    };
  }

  /** Stores the bytes (content-addressed, so storing twice is harmless). */
  async store(bucket: RepositoryBucket, attestation: VerifiedAttestation): Promise<void> {
    await bucket.putAttestation(attestation.sha256, attestation.bytes);
  }

  /** Records an accepted attestation (inside the change's transaction): table, target custom field, log. */
  record(index: TargetsIndex, log: TransparencyLog, attestation: VerifiedAttestation, seq: number): void {
    const target = index.get(attestation.path);
    if (!target)
      throw new Error(`attestation for ${attestation.path}: the target is not listed (checked before apply)`);
    if (listsAttestation(target, attestation.sha256)) return;
    this.#insert(log, attestation);
    index.upsert(
      withAttestation(target, { predicate_type: attestation.predicateType ?? "", sha256: attestation.sha256 }),
      seq,
    );
  }

  /**
   * Records an attestation an offline role's owners published (inside the
   * transaction that stores their version, which lists it: offline-queue.ts):
   * table and log; the entry is theirs.
   */
  recordSigned(log: TransparencyLog, attestation: Omit<VerifiedAttestation, "bytes">): void {
    this.#insert(log, attestation);
  }

  /** The attestations row (whose triggers queue the public documents) and the log entry. */
  #insert(log: TransparencyLog, attestation: Omit<VerifiedAttestation, "bytes">): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO attestations (sha256, path, filename, predicate_type, media_type, publisher, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      attestation.sha256,
      attestation.path,
      attestation.path.slice(attestation.path.lastIndexOf("/") + 1),
      attestation.predicateType,
      attestation.mediaType,
      JSON.stringify(attestation.publisher),
      Date.now(),
    );
    log.append({
      type: "attestation.add",
      repository: this.#repo,
      path: attestation.path,
      bundle_sha256: attestation.sha256,
      predicate_type: attestation.predicateType ?? "none",
    });
  }

  /** A target's attestations, oldest first. */
  forPath(path: string): AttestationRecord[] {
    return this.#rows("SELECT * FROM attestations WHERE path = ? ORDER BY created_at, rowid", path);
  }

  /** Attestations of the targets whose file name is `filename` (PyPI's integrity API). */
  forFilename(filename: string): Array<AttestationRecord & { path: string }> {
    return this.#sql
      .exec<Row>("SELECT * FROM attestations WHERE filename = +? ORDER BY created_at, rowid", filename)
      .toArray()
      .map((r) => ({ ...toRecord(r), path: r.path }));
  }

  #rows(query: string, ...args: SqlStorageValue[]): AttestationRecord[] {
    return this.#sql
      .exec<Row>(query, ...args)
      .toArray()
      .map(toRecord);
  }

  /**
   * The trusted root to verify with: the policy's own, else the deployment's
   * (kept fresh through TUF by the Sigstore trust object; re-parsed only when
   * it changed). A string says why there is none.
   */
  async #trustedRoot(policy: AttestationPolicy): Promise<TrustedRoot | string> {
    if (policy.trustedRoot) {
      this.#custom ??= { policy, root: policyTrustedRoot(policy) }; // setPolicy forgets it
      return this.#custom.root;
    }
    let view: TrustView;
    try {
      view = await this.#sigstoreTrust(this.#sigstore?.version ?? null);
    } catch (error) {
      if (this.#sigstore) return this.#sigstore.root; // the object is unreachable: keep what was trusted
      throw error;
    }
    if (view.version === null)
      return `no Sigstore trusted root yet: ${view.url} has not been fetched (${view.error?.detail ?? "no refresh so far"})`;
    if (view.trustedRoot !== undefined && view.version !== this.#sigstore?.version) {
      const npmKeys = view.npmKeys === undefined ? undefined : JSON.parse(view.npmKeys);
      this.#sigstore = { version: view.version, root: sigstoreTrustedRoot(JSON.parse(view.trustedRoot), npmKeys) };
    }
    return this.#sigstore?.root ?? `the Sigstore trust object did not send trusted root ${view.version}`;
  }
}

function toRecord(r: Row): AttestationRecord {
  return {
    sha256: r.sha256,
    predicateType: r.predicate_type,
    mediaType: r.media_type,
    publisher: JSON.parse(r.publisher),
  };
}

function matchesIdentity(
  id: { issuer: string; subjectPattern: string },
  signer: { issuer?: string; san?: string } | undefined,
): boolean {
  if (!signer?.san || signer.issuer !== id.issuer) return false;
  try {
    return new RegExp(`^(?:${id.subjectPattern})$`).test(signer.san);
  } catch {
    return false;
  }
}
