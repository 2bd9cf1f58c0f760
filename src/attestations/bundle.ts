/**
 * Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`, JSON
 * form), versions 0.1, 0.2 and 0.3, checked for shape and decoded. Nothing
 * here is trusted yet: this only turns JSON into bytes and typed fields, and
 * refuses what a well-formed bundle of the declared version cannot contain
 * (the same rules as @sigstore/bundle's validators).
 *
 * Also: converters from the two other containers the registries serve, PEP
 * 740 attestations (PyPI) and the npm attestations response.
 */
import { fromBase64, toBase64 } from "../tuf/encoding.ts";
import { Certificate } from "./x509.ts";

export const BUNDLE_MEDIA_TYPES = {
  "application/vnd.dev.sigstore.bundle+json;version=0.1": "0.1",
  "application/vnd.dev.sigstore.bundle+json;version=0.2": "0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.3": "0.3",
  "application/vnd.dev.sigstore.bundle.v0.3+json": "0.3",
} as const;

export type BundleVersion = (typeof BUNDLE_MEDIA_TYPES)[keyof typeof BUNDLE_MEDIA_TYPES];

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export class StructureError extends Error {
  override name = "StructureError";
}

export interface InclusionProof {
  readonly logIndex: bigint;
  readonly treeSize: bigint;
  readonly rootHash: Uint8Array;
  readonly hashes: readonly Uint8Array[];
  readonly checkpoint: string;
}

export interface TlogEntry {
  readonly logIndex: bigint;
  readonly logId: Uint8Array;
  readonly kind: string;
  readonly version: string;
  /** Seconds since the epoch; 0 when the bundle does not say (Rekor v2). */
  readonly integratedTime: bigint;
  readonly signedEntryTimestamp?: Uint8Array;
  readonly inclusionProof?: InclusionProof;
  readonly canonicalizedBody: Uint8Array<ArrayBuffer>;
  /** The body in standard padded base64, as the signed entry timestamp covers it. */
  readonly canonicalizedBodyBase64: string;
}

export type SignerMaterial =
  | { readonly kind: "certificate"; readonly certificate: Certificate }
  | { readonly kind: "publicKey"; readonly hint: string };

export type HashAlgorithm = "SHA2_256" | "SHA2_384" | "SHA2_512";

export type SignedContent =
  | {
      readonly kind: "messageSignature";
      readonly algorithm: HashAlgorithm;
      readonly digest: Uint8Array;
      readonly signature: Uint8Array;
    }
  | {
      readonly kind: "dsseEnvelope";
      readonly payloadType: string;
      readonly payload: Uint8Array<ArrayBuffer>;
      readonly signature: Uint8Array;
    };

export interface ParsedBundle {
  readonly mediaType: string;
  readonly version: BundleVersion;
  readonly signer: SignerMaterial;
  readonly tlogEntries: readonly TlogEntry[];
  /** RFC 3161 timestamps present (this verifier does not use them). */
  readonly rfc3161Timestamps: number;
  readonly content: SignedContent;
}

/** Decodes and shape-checks a bundle; throws StructureError. */
export function parseBundle(json: unknown): ParsedBundle {
  const bundle = object(json, "bundle");
  const mediaType = string(bundle.mediaType, "mediaType");
  const version = (BUNDLE_MEDIA_TYPES as Record<string, BundleVersion>)[mediaType];
  if (!version) throw new StructureError(`unsupported bundle media type ${mediaType}`);

  const material = object(bundle.verificationMaterial, "verificationMaterial");
  const signer = signerMaterial(material, version);
  const tlogEntries = array(material.tlogEntries ?? [], "verificationMaterial.tlogEntries").map((e, i) =>
    tlogEntry(e, `tlogEntries[${i}]`, version),
  );
  const timestampData = material.timestampVerificationData;
  const rfc3161Timestamps =
    timestampData === undefined
      ? 0
      : array(object(timestampData, "timestampVerificationData").rfc3161Timestamps ?? [], "rfc3161Timestamps").length;

  const hasMessage = bundle.messageSignature !== undefined;
  const hasDsse = bundle.dsseEnvelope !== undefined;
  if (hasMessage === hasDsse)
    throw new StructureError("a bundle holds exactly one of messageSignature and dsseEnvelope");
  const content = hasMessage ? messageSignature(bundle.messageSignature) : dsseEnvelope(bundle.dsseEnvelope);
  return { mediaType, version, signer, tlogEntries, rfc3161Timestamps, content };
}

function signerMaterial(material: Record<string, unknown>, version: BundleVersion): SignerMaterial {
  const present = (["x509CertificateChain", "certificate", "publicKey"] as const).filter(
    (k) => material[k] !== undefined,
  );
  if (present.length !== 1)
    throw new StructureError("verificationMaterial holds exactly one of x509CertificateChain, certificate, publicKey");
  const which = present[0]!;
  if (which === "publicKey") {
    return { kind: "publicKey", hint: string(object(material.publicKey, "publicKey").hint, "publicKey.hint") };
  }
  let rawBytes: unknown;
  if (which === "x509CertificateChain") {
    if (version === "0.3")
      throw new StructureError("a v0.3 bundle carries a single certificate, not x509CertificateChain");
    const certificates = array(
      object(material.x509CertificateChain, "x509CertificateChain").certificates,
      "certificates",
    );
    if (certificates.length === 0) throw new StructureError("empty x509CertificateChain");
    // Only the leaf is used: the rest of the path comes from the trusted root.
    rawBytes = object(certificates[0], "certificates[0]").rawBytes;
  } else {
    rawBytes = object(material.certificate, "certificate").rawBytes;
  }
  const der = bytes(rawBytes, "certificate rawBytes");
  try {
    return { kind: "certificate", certificate: Certificate.fromDer(der) };
  } catch (error) {
    throw new StructureError(`certificate does not parse: ${(error as Error).message}`);
  }
}

function tlogEntry(value: unknown, what: string, version: BundleVersion): TlogEntry {
  const entry = object(value, what);
  const kindVersion = object(entry.kindVersion, `${what}.kindVersion`);
  const promise =
    entry.inclusionPromise === undefined ? undefined : object(entry.inclusionPromise, `${what}.inclusionPromise`);
  const proofJson =
    entry.inclusionProof === undefined ? undefined : object(entry.inclusionProof, `${what}.inclusionProof`);
  if (version === "0.1" && !promise) throw new StructureError(`${what}: a v0.1 bundle needs an inclusionPromise`);
  if (version !== "0.1" && !proofJson)
    throw new StructureError(`${what}: a v${version} bundle needs an inclusionProof`);
  let inclusionProof: InclusionProof | undefined;
  if (proofJson) {
    const checkpoint =
      proofJson.checkpoint === undefined
        ? undefined
        : object(proofJson.checkpoint, `${what}.inclusionProof.checkpoint`);
    if (!checkpoint) throw new StructureError(`${what}: inclusionProof without a checkpoint`);
    inclusionProof = {
      logIndex: integer(proofJson.logIndex, `${what}.inclusionProof.logIndex`),
      treeSize: integer(proofJson.treeSize, `${what}.inclusionProof.treeSize`),
      rootHash: bytes(proofJson.rootHash, `${what}.inclusionProof.rootHash`),
      hashes: array(proofJson.hashes ?? [], `${what}.inclusionProof.hashes`).map((h) =>
        bytes(h, `${what}.inclusionProof.hashes[]`),
      ),
      checkpoint: string(checkpoint.envelope, `${what}.inclusionProof.checkpoint.envelope`),
    };
  }
  const body = bytes(entry.canonicalizedBody, `${what}.canonicalizedBody`);
  return {
    logIndex: integer(entry.logIndex, `${what}.logIndex`),
    logId: bytes(object(entry.logId, `${what}.logId`).keyId, `${what}.logId.keyId`),
    kind: string(kindVersion.kind, `${what}.kindVersion.kind`),
    version: string(kindVersion.version, `${what}.kindVersion.version`),
    integratedTime: entry.integratedTime === undefined ? 0n : integer(entry.integratedTime, `${what}.integratedTime`),
    ...(promise
      ? { signedEntryTimestamp: bytes(promise.signedEntryTimestamp, `${what}.inclusionPromise.signedEntryTimestamp`) }
      : {}),
    ...(inclusionProof ? { inclusionProof } : {}),
    canonicalizedBody: body,
    canonicalizedBodyBase64: isCanonicalBase64(entry.canonicalizedBody as string)
      ? (entry.canonicalizedBody as string)
      : toBase64(body),
  };
}

const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["SHA2_256", "SHA2_384", "SHA2_512"];

function messageSignature(value: unknown): SignedContent {
  const ms = object(value, "messageSignature");
  const md = object(ms.messageDigest, "messageSignature.messageDigest");
  const algorithm = string(md.algorithm, "messageDigest.algorithm");
  if (!(HASH_ALGORITHMS as readonly string[]).includes(algorithm))
    throw new StructureError(`unsupported messageDigest algorithm ${algorithm}`);
  return {
    kind: "messageSignature",
    algorithm: algorithm as HashAlgorithm,
    digest: bytes(md.digest, "messageDigest.digest"),
    signature: bytes(ms.signature, "messageSignature.signature"),
  };
}

function dsseEnvelope(value: unknown): SignedContent {
  const env = object(value, "dsseEnvelope");
  const signatures = array(env.signatures, "dsseEnvelope.signatures");
  if (signatures.length !== 1) throw new StructureError("a bundle's DSSE envelope carries exactly one signature");
  return {
    kind: "dsseEnvelope",
    payloadType: string(env.payloadType, "dsseEnvelope.payloadType"),
    payload: bytes(env.payload, "dsseEnvelope.payload"),
    signature: bytes(object(signatures[0], "signatures[0]").sig, "signatures[0].sig"),
  };
}

// ---------------------------------------------------------------------------
// Other containers

/**
 * A PEP 740 attestation (PyPI; `{version: 1, verification_material, envelope}`)
 * as the equivalent v0.3 bundle: its envelope is a DSSE envelope of an in-toto
 * statement, whose signature and statement are stored without the DSSE frame.
 */
export function bundleFromPep740(attestation: unknown): Record<string, unknown> {
  const a = object(attestation, "attestation");
  if (a.version !== 1) throw new StructureError(`unsupported PEP 740 attestation version ${String(a.version)}`);
  const material = object(a.verification_material, "verification_material");
  const envelope = object(a.envelope, "envelope");
  return {
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: {
      certificate: { rawBytes: string(material.certificate, "verification_material.certificate") },
      tlogEntries: array(material.transparency_entries, "verification_material.transparency_entries"),
    },
    dsseEnvelope: {
      payload: string(envelope.statement, "envelope.statement"),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: string(envelope.signature, "envelope.signature") }],
    },
  };
}

/** The `{attestations: [{predicateType, bundle}]}` answer of registry.npmjs.org/-/npm/v1/attestations/<name>@<version>. */
export function npmAttestations(response: unknown): { predicateType: string; bundle: unknown }[] {
  return array(object(response, "npm attestations").attestations, "attestations").map((entry) => {
    const e = object(entry, "attestation");
    return { predicateType: string(e.predicateType, "predicateType"), bundle: e.bundle };
  });
}

// ---------------------------------------------------------------------------
// JSON helpers

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new StructureError(`${what}: not an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new StructureError(`${what}: not an array`);
  return value;
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw new StructureError(`${what}: not a non-empty string`);
  return value;
}

/** protobuf JSON int64: a decimal string (or a number). */
function integer(value: unknown, what: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^(0|[1-9][0-9]{0,18})$/.test(value)) return BigInt(value);
  throw new StructureError(`${what}: not a non-negative integer`);
}

/** protobuf JSON bytes: base64, standard or URL-safe, padding optional. Never empty here. */
function bytes(value: unknown, what: string): Uint8Array<ArrayBuffer> {
  const text = string(value, what).replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new StructureError(`${what}: not base64`);
  try {
    const out = fromBase64(text);
    if (out.length === 0) throw new StructureError(`${what}: empty`);
    return out;
  } catch (error) {
    if (error instanceof StructureError) throw error;
    throw new StructureError(`${what}: not base64`);
  }
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Whether `text` is exactly what toBase64 would produce for its bytes: standard alphabet, padded, zero pad bits. */
function isCanonicalBase64(text: string): boolean {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return false;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (pad === 0) return true;
  const last = BASE64_ALPHABET.indexOf(text[text.length - pad - 1]!);
  return (last & (pad === 1 ? 0x03 : 0x0f)) === 0;
}
