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
import { z } from "zod";
import { toBase64 } from "../lib/bytes.ts";
import { UnsupportedKeyError } from "./keys.ts";
import { bytes, firstIssue, nonEmptyString, optional, repeated, uint64 } from "./protobuf-json.ts";
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

export interface TlogInclusionProof {
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
  readonly inclusionProof?: TlogInclusionProof;
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
  /** The RFC 3161 signed timestamps (DER TimeStampResponse or TimeStampToken), in bundle order. */
  readonly rfc3161Timestamps: readonly Uint8Array<ArrayBuffer>[];
  readonly content: SignedContent;
}

// ---------------------------------------------------------------------------
// The JSON shape (protobuf JSON: null is absent, see protobuf-json.ts)

const InclusionProofJson = z.object({
  logIndex: uint64,
  treeSize: uint64,
  rootHash: bytes,
  hashes: repeated(bytes),
  checkpoint: optional(z.object({ envelope: nonEmptyString })),
});

const TlogEntryJson = z.object({
  logIndex: uint64,
  logId: z.object({ keyId: bytes }),
  kindVersion: z.object({ kind: nonEmptyString, version: nonEmptyString }),
  integratedTime: optional(uint64),
  inclusionPromise: optional(z.object({ signedEntryTimestamp: bytes })),
  inclusionProof: optional(InclusionProofJson),
  canonicalizedBody: nonEmptyString,
});

const CertificateJson = z.object({ rawBytes: bytes });

const BundleJson = z.object({
  mediaType: nonEmptyString,
  verificationMaterial: z.object({
    x509CertificateChain: optional(z.object({ certificates: repeated(CertificateJson) })),
    certificate: optional(CertificateJson),
    publicKey: optional(z.object({ hint: optional(z.string()) })),
    tlogEntries: repeated(TlogEntryJson),
    timestampVerificationData: optional(
      z.object({ rfc3161Timestamps: repeated(z.object({ signedTimestamp: bytes })) }),
    ),
  }),
  messageSignature: optional(
    z.object({
      messageDigest: optional(z.object({ algorithm: nonEmptyString, digest: bytes })),
      signature: bytes,
    }),
  ),
  dsseEnvelope: optional(
    z.object({
      payload: bytes,
      payloadType: nonEmptyString,
      signatures: repeated(z.object({ sig: bytes, keyid: optional(z.string()) })),
    }),
  ),
});

type BundleShape = z.output<typeof BundleJson>;

/** Decodes and shape-checks a bundle; throws StructureError. */
export function parseBundle(json: unknown): ParsedBundle {
  const parsed = BundleJson.safeParse(json);
  if (!parsed.success) throw new StructureError(firstIssue(parsed.error, "bundle"));
  const bundle = parsed.data;
  const { mediaType } = bundle;
  const version = (BUNDLE_MEDIA_TYPES as Record<string, BundleVersion>)[mediaType];
  if (!version) throw new StructureError(`unsupported bundle media type ${mediaType}`);

  const material = bundle.verificationMaterial;
  const signer = signerMaterial(material, version);
  const tlogEntries = material.tlogEntries.map((e, i) => tlogEntry(e, `tlogEntries[${i}]`, version));
  const rfc3161Timestamps = (material.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) => t.signedTimestamp);

  const { messageSignature: ms, dsseEnvelope: env } = bundle;
  if ((ms === undefined) === (env === undefined))
    throw new StructureError("a bundle holds exactly one of messageSignature and dsseEnvelope");
  const content = ms ? messageSignature(ms) : env ? dsseEnvelope(env) : undefined;
  if (!content) throw new StructureError("a bundle holds exactly one of messageSignature and dsseEnvelope");
  return { mediaType, version, signer, tlogEntries, rfc3161Timestamps, content };
}

function signerMaterial(material: BundleShape["verificationMaterial"], version: BundleVersion): SignerMaterial {
  const { x509CertificateChain: chain, certificate, publicKey } = material;
  if ([chain, certificate, publicKey].filter((m) => m !== undefined).length !== 1)
    throw new StructureError("verificationMaterial holds exactly one of x509CertificateChain, certificate, publicKey");
  if (publicKey) return { kind: "publicKey", hint: publicKey.hint ?? "" };
  let der: Uint8Array<ArrayBuffer> | undefined = certificate?.rawBytes;
  if (chain) {
    if (version === "0.3")
      throw new StructureError("a v0.3 bundle carries a single certificate, not x509CertificateChain");
    const [leaf] = chain.certificates;
    if (!leaf) throw new StructureError("empty x509CertificateChain");
    // Only the leaf is used: the rest of the path comes from the trusted root.
    der = leaf.rawBytes;
  }
  if (!der) throw new StructureError("no certificate");
  try {
    return { kind: "certificate", certificate: Certificate.fromDer(der) };
  } catch (error) {
    if (error instanceof UnsupportedKeyError) throw error; // its own failure code
    throw new StructureError(`certificate does not parse: ${(error as Error).message}`);
  }
}

function tlogEntry(entry: z.output<typeof TlogEntryJson>, what: string, version: BundleVersion): TlogEntry {
  const promise = entry.inclusionPromise;
  const proof = entry.inclusionProof;
  if (version === "0.1" && !promise) throw new StructureError(`${what}: a v0.1 bundle needs an inclusionPromise`);
  if (version !== "0.1" && !proof) throw new StructureError(`${what}: a v${version} bundle needs an inclusionProof`);
  const checkpoint = proof?.checkpoint?.envelope;
  if (proof && !checkpoint) throw new StructureError(`${what}: inclusionProof without a checkpoint`);
  const body = bytes.safeParse(entry.canonicalizedBody);
  if (!body.success) throw new StructureError(`${what}.canonicalizedBody: not base64`);
  const text = entry.canonicalizedBody;
  return {
    logIndex: entry.logIndex,
    logId: entry.logId.keyId,
    kind: entry.kindVersion.kind,
    version: entry.kindVersion.version,
    integratedTime: entry.integratedTime ?? 0n,
    ...(promise ? { signedEntryTimestamp: promise.signedEntryTimestamp } : {}),
    ...(proof && checkpoint
      ? {
          inclusionProof: {
            logIndex: proof.logIndex,
            treeSize: proof.treeSize,
            rootHash: proof.rootHash,
            hashes: proof.hashes,
            checkpoint,
          },
        }
      : {}),
    canonicalizedBody: body.data,
    canonicalizedBodyBase64: isCanonicalBase64(text) ? text : toBase64(body.data),
  };
}

const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["SHA2_256", "SHA2_384", "SHA2_512"];

function messageSignature(ms: NonNullable<BundleShape["messageSignature"]>): SignedContent {
  const md = ms.messageDigest;
  if (!md) throw new StructureError("messageSignature.messageDigest: absent");
  if (!(HASH_ALGORITHMS as readonly string[]).includes(md.algorithm))
    throw new StructureError(`unsupported messageDigest algorithm ${md.algorithm}`);
  return {
    kind: "messageSignature",
    algorithm: md.algorithm as HashAlgorithm,
    digest: md.digest,
    signature: ms.signature,
  };
}

function dsseEnvelope(env: NonNullable<BundleShape["dsseEnvelope"]>): SignedContent {
  const [only, ...more] = env.signatures;
  if (!only || more.length) throw new StructureError("a bundle's DSSE envelope carries exactly one signature");
  return { kind: "dsseEnvelope", payloadType: env.payloadType, payload: env.payload, signature: only.sig };
}

// ---------------------------------------------------------------------------
// Other containers

const Pep740Json = z.object({
  version: z.literal(1, "unsupported PEP 740 attestation version"),
  verification_material: z.object({
    certificate: nonEmptyString,
    transparency_entries: z.array(z.unknown()),
  }),
  envelope: z.object({ statement: nonEmptyString, signature: nonEmptyString }),
});

/**
 * A PEP 740 attestation (PyPI; `{version: 1, verification_material, envelope}`)
 * as the equivalent v0.3 bundle: its envelope is a DSSE envelope of an in-toto
 * statement, whose signature and statement are stored without the DSSE frame.
 */
export function bundleFromPep740(attestation: unknown): Record<string, unknown> {
  const parsed = Pep740Json.safeParse(attestation);
  if (!parsed.success) throw new StructureError(firstIssue(parsed.error, "attestation"));
  const { verification_material: material, envelope } = parsed.data;
  return {
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: {
      certificate: { rawBytes: material.certificate },
      tlogEntries: material.transparency_entries,
    },
    dsseEnvelope: {
      payload: envelope.statement,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: envelope.signature }],
    },
  };
}

const NpmAttestationsJson = z.object({
  attestations: z.array(z.object({ predicateType: nonEmptyString, bundle: z.unknown() })),
});

/** The `{attestations: [{predicateType, bundle}]}` answer of registry.npmjs.org/-/npm/v1/attestations/<name>@<version>. */
export function npmAttestations(response: unknown): { predicateType: string; bundle: unknown }[] {
  const parsed = NpmAttestationsJson.safeParse(response);
  if (!parsed.success) throw new StructureError(firstIssue(parsed.error, "npm attestations"));
  return parsed.data.attestations;
}

// ---------------------------------------------------------------------------

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Whether `text` is exactly what toBase64 would produce for its bytes: standard alphabet, padded, zero pad bits. */
function isCanonicalBase64(text: string): boolean {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return false;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (pad === 0) return true;
  const last = BASE64_ALPHABET.indexOf(text.charAt(text.length - pad - 1));
  return (last & (pad === 1 ? 0x03 : 0x0f)) === 0;
}
