/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) and Ed25519
 * witness cosignatures, C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature).
 *
 * A checkpoint is a signed note whose text is
 *
 *   <origin>\n<tree size in decimal>\n<base64 root hash>\n[<extension line>\n]*
 *
 * A cosignature v1 is a note signature of type 0x04, key ID
 * SHA-256(name || 0x0A || 0x04 || Ed25519 public key)[:4], whose bytes after
 * the key ID are a big-endian uint64 POSIX timestamp followed by an Ed25519
 * signature over
 *
 *   "cosignature/v1\ntime <timestamp>\n" || <checkpoint note text>
 */
import * as ed from "@noble/ed25519";
import { toBase64, utf8 } from "../lib/bytes.ts";
import type { Ed25519Signer } from "../tuf/signer.ts";
import { concatBytes, readUint64, writeUint64 } from "../lib/bytes.ts";
import { decodeBase64Strict } from "./errors.ts";
import { LogError } from "./errors.ts";
import { HASH_SIZE } from "./merkle.ts";
import {
  addSignatures,
  checkNoteText,
  Ed25519KeyedSigner,
  Ed25519KeyedVerifier,
  ed25519VerifierKey,
  Ed25519NoteVerifier,
  type Note,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  type OpenedNote,
  type VerifierKey,
  parseNote,
  parseVerifierKey,
  parseVerifierKeyOfType,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  signNote,
} from "./note.ts";

/** The mandatory lines of a checkpoint, and any extension lines. */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}

function badCheckpoint(message: string): LogError {
  return new LogError("malformed_checkpoint", message);
}

/** The checkpoint's note text. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (origin.length === 0 || origin.includes("\n")) throw badCheckpoint("the origin is one non-empty line");
  if (!Number.isSafeInteger(size) || size < 0) throw badCheckpoint("the tree size is a non-negative integer");
  if (rootHash.length !== HASH_SIZE) throw badCheckpoint(`the root hash is ${HASH_SIZE} bytes`);
  for (const line of extensions) {
    if (line.length === 0 || line.includes("\n")) throw badCheckpoint("an extension line is one non-empty line");
  }
  const text = [origin, String(size), toBase64(rootHash), ...extensions].map((l) => `${l}\n`).join("");
  try {
    checkNoteText(text);
  } catch (cause) {
    throw new LogError("malformed_checkpoint", "a checkpoint is a valid note text", { cause });
  }
  return text;
}

/** Parses a checkpoint note text (not a signed note: see {@link openCheckpoint}). */
export function parseCheckpoint(text: string): Checkpoint {
  try {
    checkNoteText(text);
  } catch (cause) {
    throw new LogError("malformed_checkpoint", "a checkpoint is a valid note text", { cause });
  }
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw badCheckpoint("a checkpoint has an origin, a tree size and a root hash");
  if (lines.some((l) => l.length === 0)) throw badCheckpoint("checkpoint lines are not empty");
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) throw badCheckpoint("the tree size is decimal with no leading zeroes");
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw badCheckpoint("the tree size is too large for this implementation");
  const rootHash = decodeBase64Strict(rootText, "malformed_checkpoint", "the root hash");
  if (rootHash.length !== HASH_SIZE) throw badCheckpoint(`the root hash is ${HASH_SIZE} bytes`);
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint with the log's key(s); the result is the note to serve at <prefix>/checkpoint. */
export function signCheckpoint(
  checkpoint: Checkpoint,
  signers: NoteSigner | readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): Promise<string> {
  return signNote(formatCheckpoint(checkpoint), Array.isArray(signers) ? signers : [signers as NoteSigner], existing);
}

/** The message an Ed25519 cosignature v1 signs: "cosignature/v1\ntime <t>\n" followed by the note text. */
export function cosignatureMessage(timestamp: number, text: string): Uint8Array<ArrayBuffer> {
  requireTimestamp(timestamp);
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

function requireTimestamp(timestamp: number): void {
  // The spec allows up to 2**63 − 1; a JavaScript number is exact up to 2**53.
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new LogError("invalid_argument", `a cosignature timestamp is a non-negative integer, not ${timestamp}`);
  }
}

/** The timestamped_signature of a cosignature v1: a uint64 timestamp and a 64-byte Ed25519 signature. */
export interface TimestampedSignature {
  timestamp: number;
  signature: Uint8Array<ArrayBuffer>;
}

/** Splits the bytes after the key ID of a type 0x04 signature. */
export function parseTimestampedSignature(bytes: Uint8Array): TimestampedSignature {
  if (bytes.length !== 8 + 64)
    throw new LogError("malformed_note", "a cosignature is an 8-byte timestamp and a 64-byte signature");
  const timestamp = readUint64(bytes);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER))
    throw new LogError("malformed_note", "a cosignature timestamp is out of range");
  return { timestamp: Number(timestamp), signature: bytes.slice(8) };
}

/** Verifies Ed25519 cosignatures v1 (type 0x04) by one witness. */
export class CosignatureV1Verifier extends Ed25519KeyedVerifier {
  static async create(name: string, publicKey: Uint8Array): Promise<CosignatureV1Verifier> {
    return new CosignatureV1Verifier(await ed25519VerifierKey(name, SIGNATURE_TYPE_COSIGNATURE_V1, publicKey));
  }

  /** From a vkey string of type 0x04. */
  static async fromKey(vkey: string): Promise<CosignatureV1Verifier> {
    return new CosignatureV1Verifier(
      await parseVerifierKeyOfType(vkey, SIGNATURE_TYPE_COSIGNATURE_V1, "a cosignature (0x04)"),
    );
  }

  async verify(text: Uint8Array<ArrayBuffer>, signature: Uint8Array): Promise<boolean> {
    let parsed: TimestampedSignature;
    let message: Uint8Array;
    try {
      parsed = parseTimestampedSignature(signature);
      message = concatBytes(utf8(`cosignature/v1\ntime ${parsed.timestamp}\n`), text);
    } catch {
      return false;
    }
    try {
      return await ed.verifyAsync(parsed.signature, message, this.publicKey, { zip215: false });
    } catch {
      return false;
    }
  }
}

/** Makes Ed25519 cosignatures v1 as a witness (for tests and for a log that also witnesses). */
export class CosignatureV1Signer extends Ed25519KeyedSigner {
  readonly #now: () => number;

  private constructor(key: VerifierKey, verifierKey: string, signer: Ed25519Signer, now: () => number) {
    super(key, verifierKey, signer);
    this.#now = now;
  }

  /** `now` returns the timestamp to sign, in seconds since the epoch. */
  static async fromSeed(
    name: string,
    seed: Uint8Array,
    now: () => number = () => Math.floor(Date.now() / 1000),
  ): Promise<CosignatureV1Signer> {
    const { key, verifierKey, signer } = await Ed25519KeyedSigner.keyOf(name, SIGNATURE_TYPE_COSIGNATURE_V1, seed);
    return new CosignatureV1Signer(key, verifierKey, signer, now);
  }

  verifier(): Promise<CosignatureV1Verifier> {
    return CosignatureV1Verifier.create(this.name, this.publicKey);
  }

  async sign(text: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    const timestamp = this.#now();
    requireTimestamp(timestamp);
    const message = concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text);
    return concatBytes(writeUint64(timestamp), await this.signBytes(message));
  }
}

/**
 * A verifier for a vkey string: Ed25519 note signatures (0x01) or Ed25519
 * cosignatures v1 (0x04).
 */
export async function verifierFromKey(vkey: string): Promise<NoteVerifier> {
  const key = await parseVerifierKey(vkey);
  return key.type === SIGNATURE_TYPE_ED25519 ? Ed25519NoteVerifier.fromKey(vkey) : CosignatureV1Verifier.fromKey(vkey);
}

/** A cosignature line as a witness returns it (tlog-witness), for a signed checkpoint. */
export async function cosign(message: string, witness: NoteSigner): Promise<NoteSignature> {
  const note = parseNote(message);
  return { name: witness.name, keyId: witness.keyId, signature: await witness.sign(utf8(note.text)) };
}

/** Adds cosignature lines to a signed checkpoint (or any signed note). */
export function addCosignatures(message: string, cosignatures: readonly NoteSignature[]): string {
  return addSignatures(message, cosignatures);
}

/** A witness cosignature that verified. */
export interface VerifiedCosignature {
  name: string;
  keyId: number;
  timestamp: number;
}

/**
 * The cosignatures in `note` by the given witnesses that verify. A witness
 * whose line is there but does not verify makes this throw
 * `invalid_signature` (signed-note: a failing signature by a known key
 * rejects the note); lines by other keys are ignored.
 */
export async function verifyCosignatures(
  note: string | Note,
  witnesses: readonly CosignatureV1Verifier[],
): Promise<VerifiedCosignature[]> {
  const parsed = typeof note === "string" ? parseNote(note) : note;
  const text = utf8(parsed.text);
  const out: VerifiedCosignature[] = [];
  for (const sig of parsed.signatures) {
    const witness = witnesses.find((w) => w.name === sig.name && w.keyId === sig.keyId);
    if (witness === undefined) continue;
    if (!(await witness.verify(text, sig.signature))) {
      throw new LogError("invalid_signature", `invalid cosignature by ${sig.name}`);
    }
    if (out.some((c) => c.name === sig.name && c.keyId === sig.keyId)) continue;
    out.push({ name: sig.name, keyId: sig.keyId, timestamp: parseTimestampedSignature(sig.signature).timestamp });
  }
  return out;
}

/** A checkpoint whose log signature verified. */
export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  note: OpenedNote;
  /** Cosignatures by the witnesses passed in, that verified. */
  cosignatures: VerifiedCosignature[];
}

/**
 * Opens a signed checkpoint: the log's signature must verify (openNote's
 * rules), the origin must match if given, and cosignatures by the given
 * witnesses are verified too.
 */
export async function openCheckpoint(
  message: string | Uint8Array,
  log: NoteVerifier | readonly NoteVerifier[],
  options: { origin?: string; witnesses?: readonly CosignatureV1Verifier[] } = {},
): Promise<OpenedCheckpoint> {
  const logVerifiers = Array.isArray(log) ? log : [log as NoteVerifier];
  const note = await openNote(message, logVerifiers);
  const checkpoint = parseCheckpoint(note.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new LogError(
      "malformed_checkpoint",
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`,
    );
  }
  const cosignatures = await verifyCosignatures(note, options.witnesses ?? []);
  return { checkpoint, note, cosignatures };
}
