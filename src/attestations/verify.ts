/**
 * Offline verification of a Sigstore bundle for one artifact, on WebCrypto
 * (runs in workerd without nodejs_compat, and in Node).
 *
 * Order of the checks, and the code a failure maps to:
 *   structure       the bundle's shape (media type v0.1/v0.2/v0.3, material, content), the DSSE statement's shape
 *   missing_digest  the bundle names the artifact by a hash algorithm the artifact's hashes lack (sha384, say)
 *   subject_digest  (message signatures) the bundle's messageDigest is not the artifact's
 *   tlog            each tlog entry: a log of the trusted root, its signed entry timestamp (Rekor v1),
 *                   its inclusion proof and signed checkpoint (Rekor v1 and v2)
 *   unsupported_log_version  an entry of a kind/version this verifier does not know
 *   timestamp       each RFC 3161 timestamp: over the bundle's signature, signed by a timestamp
 *                   authority's certificate, valid at its time
 *   untrusted_timestamp_authority  a timestamp whose signer is not a timestamp authority of the trusted root
 *   tlog            at least one signing time: an integrated time a signed entry timestamp
 *                   authenticates, or a verified RFC 3161 timestamp
 *   chain           the leaf certificate chains to a trusted Fulcio CA at every signing time (with its SCTs),
 *                   or the public-key hint names a trusted key valid at every signing time
 *   unsupported_key_type  the signing key (or a certificate's) is of a type Sigstore does not allow
 *   signature       the DSSE PAE signature, or the message signature over the artifact's digest
 *   tlog            the logged entry records this signature, key and digest
 *   subject_digest  (in-toto) no subject has the artifact's digest, where they share an algorithm
 *   missing_digest  (in-toto) no subject shares a hash algorithm with the artifact's hashes
 *   subject_name    a subject has the digest but not the expected name
 *   predicate_type  the predicate type is not one of those allowed
 *   identity        the certificate's OIDC issuer or SAN is not the expected one
 */
import { sha256, sha512 } from "../lib/digest.ts";
import { toHex } from "../lib/bytes.ts";
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseBundle,
  type ParsedBundle,
  type SignedContent,
  StructureError,
  type TlogEntry,
} from "./bundle.ts";
import { ChainError, verifyCertificatePath } from "./chain.ts";
import { bytesEqual } from "../lib/bytes.ts";
import type { PublicKey } from "./keys.ts";
import { UnsupportedKeyError } from "./keys.ts";
import { verifyEmbeddedScts } from "./sct.ts";
import {
  type ArtifactDigest,
  parseStatement,
  preAuthEncoding,
  type Statement,
  type Subject,
  subjectMatchesDigest,
} from "./statement.ts";
import { UntrustedTimestampAuthorityError, verifyTimestamp } from "./timestamp.ts";
import {
  checkEntryKind,
  findLog,
  type SignerIdentityBytes,
  UnsupportedLogVersionError,
  verifyEntryBody,
  verifyInclusionProof,
  verifySignedEntryTimestamp,
} from "./tlog.ts";
import { type TrustedRoot, within } from "./trusted-root.ts";
import { type Certificate, OID } from "./x509.ts";

export type RejectionCode =
  | "structure"
  | "signature"
  | "chain"
  | "tlog"
  | "unsupported_log_version"
  | "timestamp"
  | "untrusted_timestamp_authority"
  | "unsupported_key_type"
  | "subject_digest"
  | "missing_digest"
  | "subject_name"
  | "predicate_type"
  | "identity";

export interface IdentityPolicy {
  /** The OIDC issuer, exactly (Fulcio extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1). */
  readonly issuer: string;
  /** The certificate's SAN (URI, e-mail or Fulcio otherName): equal to a string, or matched in full by a RegExp. */
  readonly subjectPattern: RegExp | string;
}

export interface Expectation {
  /** The artifact's digests, hex. At least one. */
  readonly digest: ArtifactDigest;
  /** The in-toto subject name the artifact must have (see subjectNameFor), or a predicate over it. */
  readonly name?: string | ((subjectName: string) => boolean);
  /** Allowed predicate types; any when absent. */
  readonly predicateTypes?: readonly string[];
  readonly identity?: IdentityPolicy;
}

export type BundleSigner =
  | {
      readonly kind: "certificate";
      readonly issuer?: string;
      readonly san?: string;
      /** Fulcio extensions (OID 1.3.6.1.4.1.57264.1.*) as text, e.g. ".1.12" source repository URI. */
      readonly extensions: Readonly<Record<string, string>>;
      readonly certificateAuthority: string;
    }
  | { readonly kind: "publicKey"; readonly keyHint: string };

export interface Verified {
  readonly ok: true;
  readonly content: "dsseEnvelope" | "messageSignature";
  readonly mediaType: string;
  readonly predicateType?: string;
  readonly subjects: readonly Subject[];
  readonly statement?: Statement;
  readonly signer: BundleSigner;
  /** Seconds since the epoch: the earliest signing time (a signed entry timestamp's integrated time, or an RFC 3161 timestamp's). */
  readonly integratedTime: number;
  /** Where the signing times come from. */
  readonly timeSources: readonly ("transparency-log" | "timestamp-authority")[];
  readonly logIndex: number;
}

export interface Rejected {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly detail: string;
}

export type Verdict = Verified | Rejected;

class RejectionError extends Error {
  readonly code: RejectionCode;
  constructor(code: RejectionCode, detail: string) {
    super(detail);
    this.code = code;
  }
}

/**
 * Runs one stage; anything it throws that is not already a RejectionError becomes
 * `code`, except the errors that have a code of their own.
 */
async function stage<T>(code: RejectionCode, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RejectionError) throw error;
    if (error instanceof UnsupportedKeyError) throw new RejectionError("unsupported_key_type", error.message);
    if (error instanceof UnsupportedLogVersionError) throw new RejectionError("unsupported_log_version", error.message);
    if (error instanceof UntrustedTimestampAuthorityError)
      throw new RejectionError("untrusted_timestamp_authority", error.message);
    throw new RejectionError(code, error instanceof Error ? error.message : String(error));
  }
}

export async function verifyBundle(bundleJson: unknown, root: TrustedRoot, expectation: Expectation): Promise<Verdict> {
  if (expectation.digest.sha256 === undefined && expectation.digest.sha512 === undefined) {
    throw new TypeError("the expectation needs the artifact's sha256 or sha512");
  }
  try {
    return await verify(bundleJson, root, expectation);
  } catch (error) {
    if (error instanceof RejectionError) return { ok: false, code: error.code, detail: error.message };
    throw error;
  }
}

async function verify(bundleJson: unknown, root: TrustedRoot, expectation: Expectation): Promise<Verified> {
  const bundle = await stage("structure", () => parseBundle(bundleJson));
  const { content } = bundle;

  // A message signature names its artifact by digest only: check it before anything costly.
  let expectedDigest: Uint8Array | undefined;
  if (content.kind === "messageSignature") {
    expectedDigest = await stage("subject_digest", () => messageDigestOf(content, expectation.digest));
  }

  const logTimes = await stage("tlog", () => verifyTlogInclusion(bundle, root));
  const tsaTimes = await stage("timestamp", () => verifyTimestamps(bundle, root));
  const times = [...logTimes, ...tsaTimes].sort((a, b) => a.time.getTime() - b.time.getTime());
  if (times.length === 0) {
    throw new RejectionError(
      "tlog",
      "no authenticated signing time: no tlog entry has a signed entry timestamp and the bundle has no RFC 3161 timestamp",
    );
  }
  const signer = await stage("chain", () => verifySigner(bundle, root, times));

  await stage("signature", async () => {
    const ok =
      content.kind === "messageSignature"
        ? expectedDigest !== undefined &&
          (await signer.key.verifyDigest(expectedDigest, content.signature, MESSAGE_HASH[content.algorithm]))
        : await signer.key.verify(preAuthEncoding(content.payloadType, content.payload), content.signature);
    if (!ok)
      throw new RejectionError(
        "signature",
        content.kind === "messageSignature" ? "message signature does not verify" : "DSSE signature does not verify",
      );
  });

  await stage("tlog", async () => {
    for (const entry of bundle.tlogEntries) await verifyEntryBody(entry, content, signer.logged);
  });

  let statement: Statement | undefined;
  let subjects: readonly Subject[] = [];
  if (content.kind === "dsseEnvelope") {
    statement = await stage("structure", () => {
      if (content.payloadType !== IN_TOTO_PAYLOAD_TYPE)
        throw new StructureError(`unsupported DSSE payloadType ${content.payloadType}`);
      return parseStatement(content.payload);
    });
    subjects = matchSubjects(statement, expectation);
    if (expectation.predicateTypes && !expectation.predicateTypes.includes(statement.predicateType)) {
      throw new RejectionError("predicate_type", `predicate type ${statement.predicateType} is not allowed`);
    }
  } else if (expectation.predicateTypes) {
    throw new RejectionError("predicate_type", "a message signature carries no predicate");
  }

  if (expectation.identity) checkIdentity(signer.description, expectation.identity);

  const first = times[0] as VerifiedTime;
  return {
    ok: true,
    content: content.kind,
    mediaType: bundle.mediaType,
    ...(statement ? { predicateType: statement.predicateType, statement } : {}),
    subjects,
    signer: signer.description,
    integratedTime: Math.floor(first.time.getTime() / 1000),
    timeSources: [...new Set(times.map((t) => t.source))],
    logIndex: Number((bundle.tlogEntries[0] as TlogEntry).logIndex),
  };
}

const DIGEST_ALGORITHMS = ["sha256", "sha384", "sha512"] as const;
const MESSAGE_HASH = { SHA2_256: "SHA-256", SHA2_384: "SHA-384", SHA2_512: "SHA-512" } as const;
const DIGEST_FIELD = { SHA2_256: "sha256", SHA2_384: "sha384", SHA2_512: "sha512" } as const;

function messageDigestOf(
  content: Extract<SignedContent, { kind: "messageSignature" }>,
  digest: ArtifactDigest,
): Uint8Array {
  const field = DIGEST_FIELD[content.algorithm];
  const hex = digest[field];
  if (hex === undefined) {
    const listed = DIGEST_ALGORITHMS.filter((alg) => digest[alg] !== undefined);
    throw new RejectionError(
      "missing_digest",
      `the bundle signs the artifact's ${field} (${content.algorithm}), and the artifact's hashes list only ${listed.join(", ")}: its ${field} is needed to check the signature`,
    );
  }
  if (toHex(content.digest) !== hex.toLowerCase()) {
    throw new RejectionError(
      "subject_digest",
      `the bundle's messageDigest ${toHex(content.digest)} is not the artifact's ${field} ${hex.toLowerCase()}`,
    );
  }
  return content.digest;
}

interface VerifiedTime {
  readonly source: "transparency-log" | "timestamp-authority";
  readonly time: Date;
}

/** Inclusion evidence of every entry; returns the integrated times that a signed entry timestamp authenticates. */
async function verifyTlogInclusion(bundle: ParsedBundle, root: TrustedRoot): Promise<VerifiedTime[]> {
  if (bundle.tlogEntries.length === 0) throw new RejectionError("tlog", "the bundle has no transparency log entry");
  const times: VerifiedTime[] = [];
  const seen: TlogEntry[] = [];
  for (const entry of bundle.tlogEntries) {
    if (
      seen.some((e) => bytesEqual(e.logId, entry.logId) && bytesEqual(e.canonicalizedBody, entry.canonicalizedBody))
    ) {
      throw new RejectionError("tlog", "duplicate tlog entry");
    }
    seen.push(entry);
    checkEntryKind(entry);
    const log = findLog(root.tlogs, entry.logId);
    if (!log) throw new RejectionError("tlog", "tlog entry from a log that is not in the trusted root");
    if (!entry.signedEntryTimestamp && !entry.inclusionProof)
      throw new RejectionError("tlog", "tlog entry has neither an inclusion promise nor a proof");
    if (entry.signedEntryTimestamp) {
      await verifySignedEntryTimestamp(entry, log);
      times.push({ source: "transparency-log", time: new Date(Number(entry.integratedTime) * 1000) });
    }
    if (entry.inclusionProof) await verifyInclusionProof(entry, log);
  }
  return times;
}

/** Every RFC 3161 timestamp must verify (as @sigstore/verify requires); each is a signing time. */
async function verifyTimestamps(bundle: ParsedBundle, root: TrustedRoot): Promise<VerifiedTime[]> {
  const signature = new Uint8Array(bundle.content.signature);
  const times: VerifiedTime[] = [];
  for (const der of bundle.rfc3161Timestamps) {
    const time = await verifyTimestamp(der, signature, root.timestampAuthorities);
    times.push({ source: "timestamp-authority", time });
  }
  return times;
}

interface VerifiedSigner {
  readonly key: PublicKey;
  readonly logged: SignerIdentityBytes;
  readonly description: BundleSigner;
}

async function verifySigner(
  bundle: ParsedBundle,
  root: TrustedRoot,
  times: readonly VerifiedTime[],
): Promise<VerifiedSigner> {
  if (bundle.signer.kind === "publicKey") {
    const { hint } = bundle.signer;
    const trusted = root.keys.get(hint);
    if (!trusted) throw new RejectionError("chain", `no trusted key with hint ${hint}`);
    for (const { time } of times) {
      if (!within(trusted.validFor, time))
        throw new RejectionError("chain", `key ${hint} was not valid at ${time.toISOString()}`);
    }
    return {
      key: trusted.key,
      logged: { der: trusted.key.spki, pemLabel: "PUBLIC KEY" },
      description: { kind: "publicKey", keyHint: hint },
    };
  }
  const leaf = bundle.signer.certificate;
  let authority = "";
  for (const { time } of times) {
    const { path, authority: ca } = await verifyCertificatePath(leaf, time, root);
    authority = ca.uri;
    const issuer = path[1];
    if (!issuer) throw new ChainError("the leaf certificate has no issuer in its path");
    const scts = await verifyEmbeddedScts(leaf, issuer, root.ctlogs);
    if (scts === 0) throw new RejectionError("chain", "the certificate has no signed certificate timestamp");
  }
  return {
    key: leaf.publicKey,
    logged: { der: leaf.der, pemLabel: "CERTIFICATE" },
    description: describeCertificate(leaf, authority),
  };
}

function describeCertificate(leaf: Certificate, certificateAuthority: string): BundleSigner {
  const issuer = leaf.fulcioExtension(OID.FULCIO_ISSUER_V2) ?? leaf.fulcioExtension(OID.FULCIO_ISSUER_V1);
  const names = leaf.subjectAltNames;
  const san = names.uris[0] ?? names.emails[0] ?? names.others[0];
  const extensions: Record<string, string> = {};
  for (const ext of leaf.extensions) {
    if (!ext.oid.startsWith("1.3.6.1.4.1.57264.1.")) continue;
    const text = leaf.fulcioExtension(ext.oid);
    if (text !== undefined) extensions[ext.oid] = text;
  }
  return {
    kind: "certificate",
    ...(issuer === undefined ? {} : { issuer }),
    ...(san === undefined ? {} : { san }),
    extensions,
    certificateAuthority,
  };
}

function matchSubjects(statement: Statement, expectation: Expectation): readonly Subject[] {
  const byDigest = statement.subjects.filter((s) => subjectMatchesDigest(s, expectation.digest));
  if (byDigest.length === 0) {
    const listed = DIGEST_ALGORITHMS.filter((alg) => expectation.digest[alg] !== undefined);
    const wanted = listed.map((alg) => `${alg}:${expectation.digest[alg]?.toLowerCase()}`).join(", ");
    const comparable = statement.subjects.some((s) => listed.some((alg) => s.digest[alg] !== undefined));
    if (!comparable) {
      const theirs = [...new Set(statement.subjects.flatMap((s) => Object.keys(s.digest)))].join(", ");
      throw new RejectionError(
        "missing_digest",
        `the statement's subjects are named by ${theirs || "no digest"}, the artifact's hashes by ${listed.join(", ")}: nothing to compare`,
      );
    }
    throw new RejectionError("subject_digest", `no subject of the statement has the artifact's digest (${wanted})`);
  }
  const rule = expectation.name;
  if (rule === undefined) return byDigest;
  const accepts = typeof rule === "string" ? (name: string) => name === rule : rule;
  const named = byDigest.filter((s) => s.name !== undefined && accepts(s.name));
  if (named.length === 0) {
    const names = byDigest.map((s) => JSON.stringify(s.name ?? null)).join(", ");
    throw new RejectionError(
      "subject_name",
      `the subject with the artifact's digest is named ${names}${typeof rule === "string" ? `, not ${JSON.stringify(rule)}` : ""}`,
    );
  }
  return named;
}

function checkIdentity(signer: BundleSigner, policy: IdentityPolicy): void {
  if (signer.kind !== "certificate")
    throw new RejectionError("identity", `signed by key ${signer.keyHint}, not by a Fulcio identity`);
  if (signer.issuer !== policy.issuer) {
    throw new RejectionError(
      "identity",
      `OIDC issuer ${JSON.stringify(signer.issuer ?? null)} is not ${JSON.stringify(policy.issuer)}`,
    );
  }
  const san = signer.san;
  if (san === undefined || !fullMatch(policy.subjectPattern, san)) {
    throw new RejectionError(
      "identity",
      `certificate identity ${JSON.stringify(san ?? null)} does not match ${String(policy.subjectPattern)}`,
    );
  }
}

function fullMatch(pattern: RegExp | string, value: string): boolean {
  if (typeof pattern === "string") return value === pattern;
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
  const match = re.exec(value);
  return match !== null && match.index === 0 && match[0].length === value.length;
}

/** The sha256 and sha512 of `bytes`, hex: for callers that have the artifact itself. */
export async function artifactDigest(bytes: Uint8Array<ArrayBuffer>): Promise<ArtifactDigest> {
  return { sha256: toHex(await sha256(bytes)), sha512: toHex(await sha512(bytes)) };
}
