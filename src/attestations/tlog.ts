/**
 * Transparency-log evidence in a bundle, for Rekor v1 and Rekor v2 (tiles):
 *  - the signed entry timestamp (inclusionPromise, Rekor v1 only): the log's
 *    signature over the canonical JSON {body, integratedTime, logID,
 *    logIndex}; the only thing that authenticates integratedTime;
 *  - the inclusion proof: an RFC 9162 audit path from the entry's leaf hash
 *    to the root hash of a checkpoint, and the checkpoint's signature (a
 *    C2SP signed note) by the same log. Notes, checkpoints and Merkle proofs
 *    are src/log's, the same code that serves tuf-edge's own log;
 *  - that the logged entry records this bundle's signature, key and digest:
 *    Rekor v1 hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2; Rekor v2
 *    hashedrekord 0.0.2 and dsse 0.0.2 (protobuf JSON of rekor.v2.Entry).
 */
import { z } from "zod";
import { readUint32 } from "../lib/bytes.ts";
import { parseCheckpoint } from "../log/checkpoint.ts";
import { LogError } from "../log/errors.ts";
import { leafHash, verifyInclusion } from "../log/merkle.ts";
import { type NoteVerifier, noteKeyId, openNote, SIGNATURE_TYPE_ED25519 } from "../log/note.ts";
import { fromBase64, fromUtf8, toHex, utf8 } from "../lib/bytes.ts";
import { sha256 } from "../lib/digest.ts";
import { pemToDer } from "../tuf/pem.ts";
import type { SignedContent, TlogEntry } from "./bundle.ts";
import { bytesEqual } from "../lib/bytes.ts";
import { bytes, firstIssue, nonEmptyString, optional, repeated } from "./protobuf-json.ts";
import { preAuthEncoding } from "./statement.ts";
import { type TransparencyLog, within } from "./trusted-root.ts";

export class TlogError extends Error {
  override name = "TlogError";
}

/** A tlog entry of a kind or version this verifier does not know. */
export class UnsupportedLogVersionError extends TlogError {
  override name = "UnsupportedLogVersionError";
}

/** The entry kinds and versions whose bodies this verifier can compare with a bundle. */
export const SUPPORTED_ENTRY_KINDS: readonly string[] = [
  "hashedrekord/0.0.1",
  "hashedrekord/0.0.2",
  "dsse/0.0.1",
  "dsse/0.0.2",
  "intoto/0.0.2",
];

/** Refuses an entry of a kind or version this verifier does not know, before any work on it. */
export function checkEntryKind(entry: TlogEntry): void {
  const kv = `${entry.kind}/${entry.version}`;
  if (!SUPPORTED_ENTRY_KINDS.includes(kv)) {
    throw new UnsupportedLogVersionError(
      `unsupported tlog entry kind ${kv} (supported: ${SUPPORTED_ENTRY_KINDS.join(", ")})`,
    );
  }
}

export function findLog(logs: readonly TransparencyLog[], logId: Uint8Array): TransparencyLog | undefined {
  return logs.find((log) => bytesEqual(log.logId, logId));
}

/** Checks the signed entry timestamp; the log key must have been valid at integratedTime. */
export async function verifySignedEntryTimestamp(entry: TlogEntry, log: TransparencyLog): Promise<void> {
  if (!entry.signedEntryTimestamp) throw new TlogError("no inclusion promise");
  if (!within(log.validFor, new Date(Number(entry.integratedTime) * 1000))) {
    throw new TlogError("the log key was not valid at the entry's integrated time");
  }
  // Keys in lexicographic order: body, integratedTime, logID, logIndex.
  const payload =
    `{"body":"${entry.canonicalizedBodyBase64}",` +
    `"integratedTime":${entry.integratedTime},` +
    `"logID":"${toHex(entry.logId)}",` +
    `"logIndex":${entry.logIndex}}`;
  if (!(await log.key.verify(utf8(payload), entry.signedEntryTimestamp))) {
    throw new TlogError("inclusion promise (signed entry timestamp) does not verify");
  }
}

// ---------------------------------------------------------------------------
// Checkpoints

/** Checks a log's note signatures with the log's key (ECDSA for Rekor v1, Ed25519 or ECDSA for Rekor v2). */
class LogNoteVerifier implements NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly #log: TransparencyLog;

  constructor(log: TransparencyLog, keyId: number) {
    this.name = log.origin;
    this.keyId = keyId;
    this.#log = log;
  }

  verify(text: Uint8Array<ArrayBuffer>, signature: Uint8Array): Promise<boolean> {
    return this.#log.key.verify(text, signature);
  }
}

/**
 * The note verifiers of `log`: its name is its base URL's host; its key ID
 * the first 4 bytes of its log ID (Rekor's convention), and for an Ed25519
 * key also the C2SP signed-note key ID, if that differs.
 */
async function noteVerifiers(log: TransparencyLog): Promise<NoteVerifier[]> {
  const ids = [readUint32(log.logId)];
  if (log.key.algorithm === "ed25519") {
    const c2sp = await noteKeyId(log.origin, SIGNATURE_TYPE_ED25519, log.key.raw);
    if (c2sp !== ids[0]) ids.push(c2sp);
  }
  return ids.map((id) => new LogNoteVerifier(log, id));
}

/** Verifies the checkpoint's signature by `log` and returns its size and root hash. */
export async function verifyCheckpoint(
  envelope: string,
  log: TransparencyLog,
): Promise<{ size: number; rootHash: Uint8Array }> {
  try {
    const note = await openNote(envelope, await noteVerifiers(log));
    return parseCheckpoint(note.text);
  } catch (error) {
    if (!(error instanceof LogError)) throw error;
    if (error.code === "unverified_note") throw new TlogError(`checkpoint is not signed by ${log.origin}`);
    if (error.code === "invalid_signature") throw new TlogError("checkpoint signature does not verify");
    throw new TlogError(`malformed checkpoint: ${error.message}`);
  }
}

/** Checks the inclusion proof and its checkpoint. */
export async function verifyInclusionProof(entry: TlogEntry, log: TransparencyLog): Promise<void> {
  const proof = entry.inclusionProof;
  if (!proof) throw new TlogError("no inclusion proof");
  const checkpoint = await verifyCheckpoint(proof.checkpoint, log);
  if (BigInt(checkpoint.size) !== proof.treeSize || !bytesEqual(checkpoint.rootHash, proof.rootHash)) {
    throw new TlogError("inclusion proof disagrees with its checkpoint");
  }
  if (proof.logIndex >= proof.treeSize)
    throw new TlogError(`leaf index ${proof.logIndex} outside a tree of ${proof.treeSize}`);
  const included = await verifyInclusion(
    await leafHash(entry.canonicalizedBody),
    Number(proof.logIndex),
    checkpoint.size,
    proof.hashes,
    checkpoint.rootHash,
  );
  if (!included) throw new TlogError("inclusion proof does not lead to the checkpoint's root hash");
}

// ---------------------------------------------------------------------------
// The logged entry must be this bundle's

export interface SignerIdentityBytes {
  /** The DER the log must have recorded as the verifier: the leaf certificate, or the public key's SPKI. */
  readonly der: Uint8Array;
  readonly pemLabel: "CERTIFICATE" | "PUBLIC KEY";
}

/** Base64 text (standard, padded or not), decoded; the bodies carry it inside their JSON. */
const base64Text = z.string().transform((text, ctx): Uint8Array => {
  try {
    return fromBase64(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "not base64" });
    return z.NEVER;
  }
});

const Header = z.object({ kind: z.string(), apiVersion: z.string(), spec: z.unknown() });

const HashedRekordV001 = z.object({
  data: z.object({ hash: z.object({ algorithm: z.string(), value: z.string() }) }),
  signature: z.object({ content: base64Text, publicKey: z.object({ content: base64Text }) }),
});

const DsseV001 = z.object({
  payloadHash: z.object({ algorithm: z.string(), value: z.string() }),
  signatures: z.array(z.object({ signature: base64Text, verifier: base64Text })),
});

const IntotoV002 = z.object({
  content: z.object({
    payloadHash: z.object({ algorithm: z.string(), value: z.string() }),
    envelope: z.object({
      payloadType: z.string(),
      signatures: z.array(z.object({ sig: base64Text, publicKey: base64Text })),
    }),
  }),
});

/** rekor.v2 Verifier: a certificate or a public key, protobuf JSON. */
const VerifierV2 = z.object({
  keyDetails: optional(z.string()),
  x509Certificate: optional(z.object({ rawBytes: bytes })),
  publicKey: optional(z.object({ rawBytes: bytes })),
});
const SignatureV2 = z.object({ content: bytes, verifier: VerifierV2 });
const HashV2 = z.object({ algorithm: nonEmptyString, digest: bytes });

const HashedRekordV002 = z.object({
  hashedRekordV002: z.object({ data: HashV2, signature: SignatureV2 }),
});

const DsseV002 = z.object({
  dsseV002: z.object({ payloadHash: HashV2, signatures: repeated(SignatureV2) }),
});

function shape<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TlogError(`malformed ${what} body: ${firstIssue(parsed.error, "spec")}`);
  return parsed.data;
}

const HEX_NAMES = { SHA2_256: "sha256", SHA2_384: "sha384", SHA2_512: "sha512" } as const;

/**
 * Checks that the canonicalized body records the bundle's signature, signing
 * key (or certificate) and content digest. For a message signature the
 * digest is the bundle's messageDigest, already compared with the artifact.
 */
export async function verifyEntryBody(
  entry: TlogEntry,
  content: SignedContent,
  signer: SignerIdentityBytes,
): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(entry.canonicalizedBody));
  } catch {
    throw new TlogError("canonicalizedBody is not JSON");
  }
  const body = shape(Header, json, "tlog entry");
  if (body.kind !== entry.kind || body.apiVersion !== entry.version) {
    throw new TlogError(
      `kindVersion ${entry.kind}/${entry.version} disagrees with the body's ${body.kind}/${body.apiVersion}`,
    );
  }
  const kv = `${entry.kind}/${entry.version}`;
  const signature = content.signature;
  switch (kv) {
    case "hashedrekord/0.0.1": {
      const spec = shape(HashedRekordV001, body.spec, kv);
      const { algorithm, digest } = await signedDigest(content);
      if (spec.data.hash.algorithm !== HEX_NAMES[algorithm] || spec.data.hash.value !== toHex(digest))
        throw new TlogError("logged digest differs from the bundle's");
      same(spec.signature.content, signature, "logged signature differs from the bundle's");
      samePem(spec.signature.publicKey.content, signer);
      return;
    }
    case "hashedrekord/0.0.2": {
      const spec = shape(HashedRekordV002, body.spec, kv).hashedRekordV002;
      const { algorithm, digest } = await signedDigest(content);
      if (spec.data.algorithm !== algorithm || !bytesEqual(spec.data.digest, digest))
        throw new TlogError("logged digest differs from the bundle's");
      same(spec.signature.content, signature, "logged signature differs from the bundle's");
      sameVerifier(spec.signature.verifier, signer);
      return;
    }
  }
  if (content.kind !== "dsseEnvelope") {
    if (kv === "dsse/0.0.1" || kv === "dsse/0.0.2" || kv === "intoto/0.0.2")
      throw new TlogError(`a message signature cannot be logged as ${kv}`);
    throw new UnsupportedLogVersionError(`unsupported tlog entry kind ${kv}`);
  }
  const payloadHash = await sha256(content.payload);
  switch (kv) {
    case "dsse/0.0.1": {
      const spec = shape(DsseV001, body.spec, kv);
      samePayloadHash(spec.payloadHash.algorithm === "sha256" && spec.payloadHash.value === toHex(payloadHash));
      const logged = onlySignature(spec.signatures);
      same(logged.signature, signature, "logged signature differs from the envelope's");
      samePem(logged.verifier, signer);
      return;
    }
    case "dsse/0.0.2": {
      const spec = shape(DsseV002, body.spec, kv).dsseV002;
      samePayloadHash(spec.payloadHash.algorithm === "SHA2_256" && bytesEqual(spec.payloadHash.digest, payloadHash));
      const logged = onlySignature(spec.signatures);
      same(logged.content, signature, "logged signature differs from the envelope's");
      sameVerifier(logged.verifier, signer);
      return;
    }
    case "intoto/0.0.2": {
      const spec = shape(IntotoV002, body.spec, kv).content;
      samePayloadHash(spec.payloadHash.algorithm === "sha256" && spec.payloadHash.value === toHex(payloadHash));
      if (spec.envelope.payloadType !== content.payloadType)
        throw new TlogError("logged payloadType differs from the envelope's");
      const logged = onlySignature(spec.envelope.signatures);
      // intoto 0.0.2 stores the signature base64-encoded twice.
      same(decodeBase64(fromUtf8(logged.sig)), signature, "logged signature differs from the envelope's");
      samePem(logged.publicKey, signer);
      return;
    }
    default:
      throw new UnsupportedLogVersionError(`unsupported tlog entry kind ${kv}`);
  }
}

/**
 * The digest of what was signed: the message digest of a message signature,
 * or SHA-256 of the DSSE pre-authentication encoding (how a hashedrekord
 * entry records a DSSE envelope).
 */
async function signedDigest(
  content: SignedContent,
): Promise<{ algorithm: keyof typeof HEX_NAMES; digest: Uint8Array }> {
  if (content.kind === "messageSignature") return { algorithm: content.algorithm, digest: content.digest };
  return { algorithm: "SHA2_256", digest: await sha256(preAuthEncoding(content.payloadType, content.payload)) };
}

function samePayloadHash(equal: boolean): void {
  if (!equal) throw new TlogError("logged payload hash differs from the envelope's");
}

/** A logged envelope's one signature (a bundle's envelope has exactly one). */
function onlySignature<T>(signatures: readonly T[]): T {
  const [logged, ...more] = signatures;
  if (!logged || more.length) throw new TlogError("logged envelope does not have exactly one signature");
  return logged;
}

function decodeBase64(text: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch {
    throw new TlogError("malformed base64 in tlog body");
  }
}

function samePem(pem: Uint8Array, signer: SignerIdentityBytes): void {
  let der: Uint8Array;
  try {
    der = pemToDer(fromUtf8(pem), signer.pemLabel);
  } catch {
    throw new TlogError(`logged verifier is not a PEM ${signer.pemLabel}`);
  }
  same(der, signer.der, "logged signing key differs from the bundle's");
}

function sameVerifier(verifier: z.output<typeof VerifierV2>, signer: SignerIdentityBytes): void {
  const logged = signer.pemLabel === "CERTIFICATE" ? verifier.x509Certificate : verifier.publicKey;
  if (!logged) throw new TlogError("logged verifier is not the bundle's kind of key material");
  same(logged.rawBytes, signer.der, "logged signing key differs from the bundle's");
}

function same(a: Uint8Array, b: Uint8Array, message: string): void {
  if (!bytesEqual(a, b)) throw new TlogError(message);
}
