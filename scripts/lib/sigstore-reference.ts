/**
 * The reference comparison on the corpus (sigstore-corpus.ts): each case
 * verified by @sigstore/verify under Node (the reference) and by tuf-edge's
 * verifier, and whether they agree (both accept or both refuse). Used by
 * test/e2e/attestations-reference.test.ts and by the bench's attestations
 * section, which reports the agreement count.
 *
 * @sigstore/verify does not look at in-toto subjects or predicate types, so
 * the harness checks those itself on the statement it authenticated, and
 * reports SUBJECT_DIGEST / SUBJECT_NAME / PREDICATE_TYPE.
 */
import { bundleFromJSON } from "@sigstore/bundle";
import { type PublicKey as KeyMaterial, TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { npmAttestationKeys, trustedRootFromJSON, verifyBundle } from "../../src/attestations/index.ts";
import { PublicKey } from "../../src/attestations/keys.ts";
import { type CorpusCase, loadCorpus, publicKeyHint } from "./sigstore-corpus.ts";

export interface ReferenceInput {
  readonly bundle: unknown;
  readonly root: unknown;
  readonly keys: Record<string, KeyMaterial>;
  readonly artifact?: Buffer | Uint8Array;
  readonly digest: { readonly sha256?: string; readonly sha512?: string };
  readonly identity?: { readonly issuer: string; readonly subjectPattern: string | RegExp };
  readonly subjectName?: string;
  readonly predicateTypes?: readonly string[];
}

/** The npm registry keys file as @sigstore/verify's key material, by key ID. */
export function npmKeyMaterial(npmKeys: unknown): Record<string, KeyMaterial> {
  const keys: Record<string, KeyMaterial> = {};
  for (const k of (
    npmKeys as {
      keys: {
        keyId: string;
        keyUsage: string;
        publicKey: { rawBytes: string; keyDetails: string; validFor: { start: string; end?: string } };
      }[];
    }
  ).keys) {
    if (k.keyUsage !== "npm:attestations") continue;
    keys[k.keyId] = {
      rawBytes: Buffer.from(k.publicKey.rawBytes, "base64"),
      keyDetails: k.publicKey.keyDetails as unknown as KeyMaterial["keyDetails"],
      validFor: {
        start: new Date(k.publicKey.validFor.start),
        ...(k.publicKey.validFor.end ? { end: new Date(k.publicKey.validFor.end) } : {}),
      },
    };
  }
  return keys;
}

/** "ok", or why the reference rejects. */
export function referenceVerdict(input: ReferenceInput): string {
  try {
    const bundle = bundleFromJSON(input.bundle);
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(input.root), input.keys));
    const policy = input.identity
      ? { subjectAlternativeName: input.identity.subjectPattern, extensions: { issuer: input.identity.issuer } }
      : undefined;
    const artifact = input.artifact === undefined ? undefined : Buffer.from(input.artifact);
    verifier.verify(toSignedEntity(bundle, artifact), policy);
    if (bundle.content.$case === "dsseEnvelope") {
      const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString("utf8")) as {
        subject: { name?: string; digest: Record<string, string> }[];
        predicateType: string;
      };
      const want = input.digest;
      const byDigest = statement.subject.filter((s) =>
        (["sha256", "sha512"] as const).some((alg) => want[alg] !== undefined && s.digest[alg] === want[alg]),
      );
      if (byDigest.length === 0) return "SUBJECT_DIGEST";
      if (input.subjectName !== undefined && !byDigest.some((s) => s.name === input.subjectName)) return "SUBJECT_NAME";
      if (input.predicateTypes && !input.predicateTypes.includes(statement.predicateType)) return "PREDICATE_TYPE";
    } else if (input.predicateTypes) {
      return "PREDICATE_TYPE";
    }
    return "ok";
  } catch (error) {
    // VerificationError and PolicyError carry a code; @sigstore/bundle and @sigstore/core throw named classes.
    const e = error as Error & { code?: string };
    return (
      e.code ?? (e.constructor?.name && e.constructor.name !== "Error" ? e.constructor.name : `${e.name}: ${e.message}`)
    );
  }
}

/** The case's bundle, or the reason it is not JSON (a case of its own: a malformed bundle). */
function corpusBundle(c: CorpusCase): { bundle: unknown } | { error: string } {
  try {
    return { bundle: c.bundle() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

export async function oursOnCorpus(c: CorpusCase): Promise<{ ok: boolean; verdict: string }> {
  const parsed = corpusBundle(c);
  if ("error" in parsed) return { ok: false, verdict: parsed.error };
  const { bundle } = parsed;
  const keys = c.npmKeys ? npmAttestationKeys(c.npmKeys) : [];
  const hint = publicKeyHint(bundle);
  if (c.key && hint !== undefined) {
    try {
      keys.push({ hint, key: PublicKey.fromSpki(c.key), validFor: { start: new Date(0) } });
    } catch (error) {
      return { ok: false, verdict: `key: ${(error as Error).message}` };
    }
  }
  let root: ReturnType<typeof trustedRootFromJSON>;
  try {
    root = trustedRootFromJSON(c.trustedRoot, keys);
  } catch (error) {
    return { ok: false, verdict: `trusted root: ${(error as Error).message}` };
  }
  const verdict = await verifyBundle(bundle, root, {
    digest: c.digest,
    ...(c.identity ? { identity: c.identity } : {}),
  });
  return { ok: verdict.ok, verdict: verdict.ok ? "ok" : `${verdict.code}: ${verdict.detail}` };
}

export function referenceOnCorpus(c: CorpusCase): string {
  const parsed = corpusBundle(c);
  if ("error" in parsed) return parsed.error;
  const { bundle } = parsed;
  const keys = c.npmKeys ? npmKeyMaterial(c.npmKeys) : {};
  const hint = publicKeyHint(bundle);
  if (c.key && hint !== undefined) {
    keys[hint] = {
      rawBytes: Buffer.from(c.key),
      keyDetails: 0 as KeyMaterial["keyDetails"],
      validFor: { start: new Date(0) },
    };
  }
  return referenceVerdict({
    bundle,
    root: c.trustedRoot,
    keys,
    ...(c.artifact ? { artifact: c.artifact } : {}),
    digest: c.digest,
    ...(c.identity ? { identity: c.identity } : {}),
  });
}

export interface CorpusRow {
  readonly id: string;
  /** "ok", or our failure code and detail. */
  readonly ours: string;
  /** "ok", or the reference's error code. */
  readonly reference: string;
  readonly agree: boolean;
}

/** Every case of the corpus through both verifiers. */
export async function compareOnCorpus(corpus: readonly CorpusCase[] = loadCorpus()): Promise<CorpusRow[]> {
  const rows: CorpusRow[] = [];
  for (const c of corpus) {
    const reference = referenceOnCorpus(c);
    const ours = await oursOnCorpus(c);
    rows.push({ id: c.id, ours: ours.verdict, reference, agree: ours.ok === (reference === "ok") });
  }
  return rows;
}
