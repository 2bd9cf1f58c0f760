/**
 * Rekor (v1) transparency-log evidence in a bundle:
 *  - the signed entry timestamp (inclusionPromise): the log's signature over
 *    the canonical JSON {body, integratedTime, logID, logIndex}; the only
 *    thing that authenticates integratedTime;
 *  - the inclusion proof: an RFC 6962 / RFC 9162 audit path from the entry's
 *    leaf hash to the root hash of a checkpoint, and the checkpoint's own
 *    signature (a signed note, C2SP tlog-checkpoint) by the same log;
 *  - that the logged entry (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2)
 *    records this bundle's signature, key and digest.
 */
import { fromBase64, fromUtf8, sha256, toHex, utf8 } from "../tuf/encoding.ts";
import { pemToDer } from "../tuf/pem.ts";
import type { SignedContent, TlogEntry } from "./bundle.ts";
import { bytesEqual, concatBytes } from "./der.ts";
import { type TransparencyLog, within } from "./trusted-root.ts";

export class TlogError extends Error {
  override name = "TlogError";
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
// Checkpoints (signed notes)

export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: bigint;
  readonly rootHash: Uint8Array;
}

interface NoteSignature {
  readonly name: string;
  readonly keyHint: Uint8Array;
  readonly signature: Uint8Array;
}

/** Parses a signed note: the text up to and including the first blank line's "\n", then "— name base64\n" lines. */
export function parseSignedNote(envelope: string): { note: string; signatures: NoteSignature[] } {
  const split = envelope.indexOf("\n\n");
  if (split < 0) throw new TlogError("checkpoint has no signature block");
  const note = envelope.slice(0, split + 1);
  const signatures: NoteSignature[] = [];
  for (const line of envelope.slice(split + 2).split("\n")) {
    if (line === "") continue;
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match) throw new TlogError("malformed checkpoint signature line");
    const blob = fromBase64(match[2]!);
    if (blob.length < 5) throw new TlogError("checkpoint signature too short");
    signatures.push({ name: match[1]!, keyHint: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length === 0) throw new TlogError("checkpoint is not signed");
  return { note, signatures };
}

export function parseCheckpointBody(note: string): Checkpoint {
  const lines = note.split("\n");
  // origin, size, root hash, optional extension lines, then the final "" after the last "\n".
  if (lines.length < 4 || lines[lines.length - 1] !== "") throw new TlogError("malformed checkpoint body");
  const [origin, size, hash] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]{0,19})$/.test(size)) throw new TlogError("malformed checkpoint tree size");
  const rootHash = fromBase64(hash);
  if (rootHash.length !== 32) throw new TlogError("malformed checkpoint root hash");
  return { origin, treeSize: BigInt(size), rootHash };
}

/**
 * Verifies the checkpoint's signature by `log` and returns its body. A line
 * counts if its name is the log's host and its key hint is the log's: the
 * first 4 bytes of the log ID for Rekor v1's ECDSA key, or the C2SP signed
 * note key ID for an Ed25519 key.
 */
export async function verifyCheckpoint(envelope: string, log: TransparencyLog): Promise<Checkpoint> {
  const { note, signatures } = parseSignedNote(envelope);
  const noteBytes = utf8(note);
  const hint = await keyHint(log);
  let candidates = 0;
  for (const sig of signatures) {
    if (sig.name !== log.origin || !bytesEqual(sig.keyHint, hint)) continue;
    candidates++;
    if (await log.key.verify(noteBytes, sig.signature)) return parseCheckpointBody(note);
  }
  throw new TlogError(
    candidates ? "checkpoint signature does not verify" : `checkpoint is not signed by ${log.origin}`,
  );
}

async function keyHint(log: TransparencyLog): Promise<Uint8Array> {
  if (log.key.algorithm !== "ed25519") return log.logId.subarray(0, 4);
  // C2SP signed-note: SHA-256(name || "\n" || 0x01 || public key)[:4].
  return (await sha256(concatBytes(utf8(log.origin), utf8("\n"), new Uint8Array([0x01]), log.key.raw))).subarray(0, 4);
}

// ---------------------------------------------------------------------------
// Merkle inclusion (RFC 9162 §2.1.3.2)

export async function leafHash(leaf: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(new Uint8Array([0x00]), leaf));
}

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(new Uint8Array([0x01]), left, right));
}

/** The root hash the audit path leads to from `leaf` at `index` in a tree of `size` leaves. */
export async function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
): Promise<Uint8Array> {
  if (index < 0n || index >= size) throw new TlogError(`leaf index ${index} outside a tree of ${size}`);
  let fn = index;
  let sn = size - 1n;
  let r = await leafHash(leaf);
  for (const p of path) {
    if (p.length !== 32) throw new TlogError("inclusion proof hash is not 32 bytes");
    if (sn === 0n) throw new TlogError("inclusion proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new TlogError("inclusion proof is too short");
  return r;
}

/** Checks the inclusion proof and its checkpoint. */
export async function verifyInclusionProof(entry: TlogEntry, log: TransparencyLog): Promise<void> {
  const proof = entry.inclusionProof;
  if (!proof) throw new TlogError("no inclusion proof");
  const checkpoint = await verifyCheckpoint(proof.checkpoint, log);
  if (checkpoint.treeSize !== proof.treeSize || !bytesEqual(checkpoint.rootHash, proof.rootHash)) {
    throw new TlogError("inclusion proof disagrees with its checkpoint");
  }
  const root = await rootFromInclusionProof(proof.logIndex, checkpoint.treeSize, entry.canonicalizedBody, proof.hashes);
  if (!bytesEqual(root, checkpoint.rootHash))
    throw new TlogError("inclusion proof does not lead to the checkpoint's root hash");
}

// ---------------------------------------------------------------------------
// The logged entry must be this bundle's

export interface SignerIdentityBytes {
  /** The DER the log must have recorded as the verifier: the leaf certificate, or the public key's SPKI. */
  readonly der: Uint8Array;
  readonly pemLabel: "CERTIFICATE" | "PUBLIC KEY";
}

/**
 * Checks that the canonicalized body records the bundle's signature, signing
 * key (or certificate) and content digest. `messageDigest` is, for a message
 * signature, the digest of the artifact the caller expects.
 */
export async function verifyEntryBody(
  entry: TlogEntry,
  content: SignedContent,
  signer: SignerIdentityBytes,
): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(fromUtf8(entry.canonicalizedBody)) as Record<string, unknown>;
  } catch {
    throw new TlogError("canonicalizedBody is not JSON");
  }
  if (body.kind !== entry.kind || body.apiVersion !== entry.version) {
    throw new TlogError(
      `kindVersion ${entry.kind}/${entry.version} disagrees with the body's ${String(body.kind)}/${String(body.apiVersion)}`,
    );
  }
  const spec = obj(body.spec);
  const kv = `${entry.kind}/${entry.version}`;
  if (content.kind === "messageSignature") {
    if (kv !== "hashedrekord/0.0.1") throw new TlogError(`a message signature cannot be logged as ${kv}`);
    const hash = obj(obj(spec.data).hash);
    const algorithm = { SHA2_256: "sha256", SHA2_384: "sha384", SHA2_512: "sha512" }[content.algorithm];
    if (hash.algorithm !== algorithm || hash.value !== toHex(content.digest))
      throw new TlogError("logged digest differs from the bundle's");
    const signature = obj(spec.signature);
    same(b64(signature.content), content.signature, "logged signature differs from the bundle's");
    sameKey(obj(signature.publicKey).content, signer);
    return;
  }
  const payloadHash = toHex(await sha256(content.payload));
  if (kv === "dsse/0.0.1") {
    const hash = obj(spec.payloadHash);
    if (hash.algorithm !== "sha256" || hash.value !== payloadHash)
      throw new TlogError("logged payload hash differs from the envelope's");
    const signatures = arr(spec.signatures);
    if (signatures.length !== 1) throw new TlogError("logged envelope has more than one signature");
    const sig = obj(signatures[0]);
    same(b64(sig.signature), content.signature, "logged signature differs from the envelope's");
    sameKey(sig.verifier, signer);
    return;
  }
  if (kv === "intoto/0.0.2") {
    const c = obj(spec.content);
    const hash = obj(c.payloadHash);
    if (hash.algorithm !== "sha256" || hash.value !== payloadHash)
      throw new TlogError("logged payload hash differs from the envelope's");
    const envelope = obj(c.envelope);
    if (envelope.payloadType !== content.payloadType)
      throw new TlogError("logged payloadType differs from the envelope's");
    const signatures = arr(envelope.signatures);
    if (signatures.length !== 1) throw new TlogError("logged envelope has more than one signature");
    const sig = obj(signatures[0]);
    // intoto 0.0.2 stores the signature base64-encoded twice.
    same(b64(fromUtf8(b64(sig.sig))), content.signature, "logged signature differs from the envelope's");
    sameKey(sig.publicKey, signer);
    return;
  }
  throw new TlogError(`unsupported tlog entry kind ${kv} for a DSSE envelope`);
}

function sameKey(value: unknown, signer: SignerIdentityBytes): void {
  let der: Uint8Array;
  try {
    der = pemToDer(fromUtf8(b64(value)), signer.pemLabel);
  } catch {
    throw new TlogError(`logged verifier is not a PEM ${signer.pemLabel}`);
  }
  same(der, signer.der, "logged signing key differs from the bundle's");
}

function same(a: Uint8Array, b: Uint8Array, message: string): void {
  if (!bytesEqual(a, b)) throw new TlogError(message);
}

function b64(value: unknown): Uint8Array {
  if (typeof value !== "string") throw new TlogError("malformed tlog body");
  try {
    return fromBase64(value);
  } catch {
    throw new TlogError("malformed base64 in tlog body");
  }
}

function obj(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TlogError("malformed tlog body");
  return value as Record<string, unknown>;
}

function arr(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new TlogError("malformed tlog body");
  return value;
}
