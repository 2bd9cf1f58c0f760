/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a
 * newline, a blank line, then one or more signature lines
 *
 *   — <key name> base64(uint32 key ID || signature)
 *
 * (em dash U+2014, space, name, space, base64, newline). The key ID of an
 * Ed25519 key (signature type 0x01) is
 *
 *   SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
 *
 * and its verifier key ("vkey") is `<name>+<hex key ID>+base64(0x01 || public key)`.
 * Witness cosignatures (type 0x04) are in checkpoint.ts.
 *
 * Verification follows the spec: signatures whose (name, key ID) no verifier
 * has are kept but ignored; a signature from a known key that fails rejects
 * the whole note; a note with no verified signature is rejected.
 */
import * as ed from "@noble/ed25519";
import { fromHex, fromUtf8, toBase64, toHex, utf8 } from "../lib/bytes.ts";
import { Ed25519Signer } from "../tuf/signer.ts";
import { sha256 } from "../lib/digest.ts";
import { bytesEqual, concatBytes, readUint32, writeUint32 } from "../lib/bytes.ts";
import { decodeBase64Strict } from "./errors.ts";
import { LogError } from "./errors.ts";

/** Signature type bytes (signed-note "Signature types"). */
export const SIGNATURE_TYPE_ED25519 = 0x01;
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** The most signature lines a note may carry here (the spec requires accepting at least 16). */
export const MAX_SIGNATURES = 100;

const EM_DASH_SPACE = "\u2014 ";

/** One signature line, decoded. `signature` is the bytes after the 4-byte key ID. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Uint8Array;
}

/** A note: its text (ending in a newline) and its signature lines in order. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
}

/** Something that can check one kind of signature by one key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key ID) is valid over the note text. */
  verify(text: Uint8Array<ArrayBuffer>, signature: Uint8Array): Promise<boolean>;
}

/** Something that signs note texts under one (name, key ID). */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes (without the key ID) over the note text. */
  sign(text: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** A parsed verifier key. */
export interface VerifierKey {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array<ArrayBuffer>;
}

/** Key names are non-empty and have no Unicode spaces and no '+'. */
export function isValidKeyName(name: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a key name may not contain control characters
  return name.length > 0 && !/[\s\u0085+]/u.test(name) && !/[\u0000-\u001f]/.test(name) && name.isWellFormed();
}

function requireKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new LogError("malformed_key", `not a note key name: ${JSON.stringify(name)}`);
}

/** SHA-256(name || 0x0A || type || public key)[:4], big-endian (signed-note "Signatures"). */
export async function noteKeyId(name: string, type: number, publicKey: Uint8Array): Promise<number> {
  requireKeyName(name);
  const digest = await sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey));
  return readUint32(digest);
}

/** `<name>+<hex key ID>+base64(type || public key)`. */
export async function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): Promise<string> {
  const keyId = await noteKeyId(name, type, publicKey);
  return `${name}+${toHex(writeUint32(keyId))}+${toBase64(concatBytes(new Uint8Array([type]), publicKey))}`;
}

/**
 * Parses a verifier key of type 0x01 (Ed25519) or 0x04 (Ed25519 cosignature),
 * checking that the key ID is the one the name and key derive.
 */
export async function parseVerifierKey(vkey: string): Promise<VerifierKey> {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new LogError("malformed_key", "a verifier key is <name>+<key ID>+<key>");
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  requireKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new LogError("malformed_key", "a verifier key ID is 8 lower-case hex digits");
  const material = decodeBase64Strict(vkey.slice(second + 1), "malformed_key", "verifier key material");
  const type = material[0];
  if (type !== SIGNATURE_TYPE_ED25519 && type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new LogError("malformed_key", `unsupported verifier key type ${String(type)}`);
  }
  const publicKey = material.slice(1);
  if (publicKey.length !== 32) throw new LogError("malformed_key", "an Ed25519 public key is 32 bytes");
  const keyId = readUint32(fromHex(idHex));
  if (keyId !== (await noteKeyId(name, type, publicKey))) {
    throw new LogError("malformed_key", "the verifier key ID does not match its name and key");
  }
  return { name, keyId, type, publicKey };
}

async function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  try {
    // RFC 8032 verification (signed-note: "Ed25519 signatures are generated according to RFC 8032").
    return await ed.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A verifier key of `type` for an Ed25519 public key: its key ID computed from name, type and key. */
export async function ed25519VerifierKey(name: string, type: number, publicKey: Uint8Array): Promise<VerifierKey> {
  if (publicKey.length !== 32) throw new LogError("malformed_key", "an Ed25519 public key is 32 bytes");
  const key = Uint8Array.from(publicKey);
  return { name, type, keyId: await noteKeyId(name, type, key), publicKey: key };
}

/** Parses a vkey string that must be of `type` (`what` names it in the error). */
export async function parseVerifierKeyOfType(vkey: string, type: number, what: string): Promise<VerifierKey> {
  const key = await parseVerifierKey(vkey);
  if (key.type !== type) throw new LogError("malformed_key", `not ${what} verifier key`);
  return key;
}

/**
 * What every Ed25519-keyed verifier holds (a note signature 0x01 or a
 * cosignature 0x04): the key's name, ID and public key. Subclasses build it
 * from a verifier key of their own type and say how a signature is checked.
 */
export abstract class Ed25519KeyedVerifier implements NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array<ArrayBuffer>;

  protected constructor(key: VerifierKey) {
    this.name = key.name;
    this.keyId = key.keyId;
    this.publicKey = key.publicKey;
  }

  abstract verify(text: Uint8Array<ArrayBuffer>, signature: Uint8Array): Promise<boolean>;
}

/** Verifies Ed25519 (type 0x01) note signatures. */
export class Ed25519NoteVerifier extends Ed25519KeyedVerifier {
  static async create(name: string, publicKey: Uint8Array): Promise<Ed25519NoteVerifier> {
    return new Ed25519NoteVerifier(await ed25519VerifierKey(name, SIGNATURE_TYPE_ED25519, publicKey));
  }

  /** From a vkey string of type 0x01. */
  static async fromKey(vkey: string): Promise<Ed25519NoteVerifier> {
    return new Ed25519NoteVerifier(await parseVerifierKeyOfType(vkey, SIGNATURE_TYPE_ED25519, "an Ed25519 (0x01)"));
  }

  verify(text: Uint8Array<ArrayBuffer>, signature: Uint8Array): Promise<boolean> {
    return ed25519Verify(signature, text, this.publicKey);
  }
}

/**
 * What every Ed25519-keyed signer holds: the key's name, ID, public key, the
 * verifier key to publish, and the key itself (never exposed), which signs
 * as the TUF signer does (src/tuf/signer.ts: the runtime's WebCrypto where it
 * has Ed25519; the same bytes either way, Ed25519 being deterministic).
 */
export abstract class Ed25519KeyedSigner implements NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array<ArrayBuffer>;
  /** The verifier key to publish for this signer. */
  readonly verifierKey: string;
  readonly #signer: Ed25519Signer;

  protected constructor(key: VerifierKey, verifierKey: string, signer: Ed25519Signer) {
    this.name = key.name;
    this.keyId = key.keyId;
    this.publicKey = key.publicKey;
    this.verifierKey = verifierKey;
    this.#signer = signer;
  }

  /** The verifier key (parsed and as text) of `type` for a key name and seed, checked, and the key that signs. */
  protected static async keyOf(
    name: string,
    type: number,
    seed: Uint8Array,
  ): Promise<{ key: VerifierKey; verifierKey: string; signer: Ed25519Signer }> {
    requireKeyName(name);
    if (seed.length !== 32) throw new LogError("malformed_key", "an Ed25519 seed is 32 bytes");
    const signer = await Ed25519Signer.fromSeed(seed);
    const key = await ed25519VerifierKey(name, type, fromHex(signer.key.keyval.public));
    return { key, verifierKey: await formatVerifierKey(name, type, key.publicKey), signer };
  }

  /** An Ed25519 signature with this key over `message`. */
  protected signBytes(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return this.#signer.sign(message);
  }

  abstract sign(text: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** Signs notes with an Ed25519 key (type 0x01). */
export class Ed25519NoteSigner extends Ed25519KeyedSigner {
  /** From a key name and a 32-byte RFC 8032 secret seed. */
  static async fromSeed(name: string, seed: Uint8Array): Promise<Ed25519NoteSigner> {
    const { key, verifierKey, signer } = await Ed25519KeyedSigner.keyOf(name, SIGNATURE_TYPE_ED25519, seed);
    return new Ed25519NoteSigner(key, verifierKey, signer);
  }

  /**
   * From a signer key in the format of golang.org/x/mod/sumdb/note
   * (`PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)`), so keys made with
   * Go's note.GenerateKey can be used.
   */
  static async fromSignerKey(skey: string): Promise<Ed25519NoteSigner> {
    const prefix = "PRIVATE+KEY+";
    if (!skey.startsWith(prefix)) throw new LogError("malformed_key", "a signer key starts with PRIVATE+KEY+");
    const rest = skey.slice(prefix.length);
    const first = rest.indexOf("+");
    const second = rest.indexOf("+", first + 1);
    if (first < 0 || second < 0)
      throw new LogError("malformed_key", "a signer key is PRIVATE+KEY+<name>+<key ID>+<key>");
    const idHex = rest.slice(first + 1, second);
    if (!/^[0-9a-f]{8}$/.test(idHex)) throw new LogError("malformed_key", "a signer key ID is 8 lower-case hex digits");
    const material = decodeBase64Strict(rest.slice(second + 1), "malformed_key", "signer key material");
    if (material.length !== 33 || material[0] !== SIGNATURE_TYPE_ED25519) {
      throw new LogError("malformed_key", "a signer key is 0x01 followed by a 32-byte Ed25519 seed");
    }
    const signer = await Ed25519NoteSigner.fromSeed(rest.slice(0, first), material.slice(1));
    if (signer.keyId !== readUint32(fromHex(idHex))) {
      throw new LogError("malformed_key", "the signer key ID does not match its name and key");
    }
    return signer;
  }

  /** A verifier for this signer's signatures. */
  verifier(): Promise<Ed25519NoteVerifier> {
    return Ed25519NoteVerifier.create(this.name, this.publicKey);
  }

  sign(text: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return this.signBytes(text);
  }
}

function checkNoteCharacters(message: string): void {
  if (!message.isWellFormed()) throw new LogError("malformed_note", "a note is valid UTF-8");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the note text may not contain control characters other than newline
  if (/[\u0000-\u0009\u000b-\u001f]/.test(message)) {
    throw new LogError("malformed_note", "a note has no control characters other than newline");
  }
}

/** Checks a note text: non-empty, valid, no control characters but newlines, ends in a newline. */
export function checkNoteText(text: string): void {
  checkNoteCharacters(text);
  if (!text.endsWith("\n")) throw new LogError("malformed_note", "a note text ends with a newline");
}

/** `— <name> base64(key ID || signature)` followed by a newline. */
export function formatSignatureLine(sig: NoteSignature): string {
  requireKeyName(sig.name);
  if (!Number.isInteger(sig.keyId) || sig.keyId < 0 || sig.keyId > 0xffffffff) {
    throw new LogError("invalid_argument", "a key ID is a uint32");
  }
  if (sig.signature.length < 1) throw new LogError("invalid_argument", "a signature is not empty");
  return `${EM_DASH_SPACE}${sig.name} ${toBase64(concatBytes(writeUint32(sig.keyId), sig.signature))}\n`;
}

/** Parses one signature line (without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_SPACE))
    throw new LogError("malformed_note", "a signature line starts with an em dash and a space");
  const parts = line.slice(EM_DASH_SPACE.length).split(" ");
  const [name = "", base64 = ""] = parts;
  if (parts.length !== 2 || !isValidKeyName(name)) {
    throw new LogError("malformed_note", "a signature line is — <name> <base64>");
  }
  const bytes = decodeBase64Strict(base64, "malformed_note", "a note signature");
  if (bytes.length < 5) throw new LogError("malformed_note", "a note signature is a key ID and at least one byte");
  return { name, keyId: readUint32(bytes), signature: bytes.slice(4) };
}

/**
 * Splits a signed note into its text and signature lines, without verifying
 * anything. Unknown signatures are kept, in order.
 */
export function parseNote(message: string | Uint8Array): Note {
  let text: string;
  if (typeof message === "string") {
    text = message;
  } else {
    try {
      text = fromUtf8(message);
    } catch (cause) {
      throw new LogError("malformed_note", "a note is valid UTF-8", { cause });
    }
  }
  checkNoteCharacters(text);
  if (!text.endsWith("\n")) throw new LogError("malformed_note", "a note ends with a newline");
  const split = text.lastIndexOf("\n\n");
  if (split < 0) throw new LogError("malformed_note", "a note has a blank line before its signatures");
  const lines = text.slice(split + 2, -1).split("\n");
  if (lines.length > MAX_SIGNATURES)
    throw new LogError("malformed_note", `a note has at most ${MAX_SIGNATURES} signatures`);
  return { text: text.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

/** The text, a blank line, and the signature lines. */
export function formatNote(note: Note): string {
  checkNoteText(note.text);
  if (note.signatures.length < 1) throw new LogError("invalid_argument", "a signed note has at least one signature");
  if (note.signatures.length > MAX_SIGNATURES) {
    throw new LogError("invalid_argument", `a note has at most ${MAX_SIGNATURES} signatures`);
  }
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join("")}`;
}

function sameSignature(a: NoteSignature, b: NoteSignature): boolean {
  return a.name === b.name && a.keyId === b.keyId && bytesEqual(a.signature, b.signature);
}

function sameKey(a: { name: string; keyId: number }, b: { name: string; keyId: number }): boolean {
  return a.name === b.name && a.keyId === b.keyId;
}

/** Signatures with exact duplicates removed, first occurrence kept. */
function dedupe(signatures: readonly NoteSignature[]): NoteSignature[] {
  const out: NoteSignature[] = [];
  for (const sig of signatures) if (!out.some((s) => sameSignature(s, sig))) out.push(sig);
  return out;
}

/**
 * Signs `text` with each signer and returns the signed note. Signatures in
 * `existing` (say, parsed from an earlier version of the note) are kept after
 * the new ones, except those by the same (name, key ID) as a signer.
 */
export async function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): Promise<string> {
  checkNoteText(text);
  const bytes = utf8(text);
  const fresh: NoteSignature[] = [];
  for (const signer of signers) {
    fresh.push({ name: signer.name, keyId: signer.keyId, signature: await signer.sign(bytes) });
  }
  const kept = existing.filter((sig) => !signers.some((s) => sameKey(s, sig)));
  return formatNote({ text, signatures: dedupe([...fresh, ...kept]) });
}

/** Appends signature lines (a witness's cosignature, say) to a signed note, skipping exact duplicates. */
export function addSignatures(message: string, signatures: readonly NoteSignature[]): string {
  const note = parseNote(message);
  return formatNote({ text: note.text, signatures: dedupe([...note.signatures, ...signatures]) });
}

/** A note whose signatures have been checked. */
export interface OpenedNote extends Note {
  /** Signatures that a verifier accepted, in note order. */
  verified: NoteSignature[];
  /** Signatures by keys no verifier has (kept, not trusted). */
  unverified: NoteSignature[];
}

/**
 * Parses and verifies a signed note. Throws `malformed_note` if it cannot be
 * parsed, `invalid_signature` if a signature by a known key fails, and
 * `unverified_note` if no signature is by a known key.
 */
export async function openNote(message: string | Uint8Array, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  const note = parseNote(message);
  const signatures = dedupe(note.signatures);
  const text = utf8(note.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of signatures) {
    const [verifier, ...others] = verifiers.filter((v) => sameKey(v, sig));
    if (!verifier) {
      unverified.push(sig);
      continue;
    }
    if (others.length > 0) {
      throw new LogError("invalid_argument", `ambiguous verifier key ${sig.name}+${toHex(writeUint32(sig.keyId))}`);
    }
    if (!(await verifier.verify(text, sig.signature))) {
      throw new LogError("invalid_signature", `invalid signature by ${sig.name}+${toHex(writeUint32(sig.keyId))}`);
    }
    verified.push(sig);
  }
  if (verified.length === 0) throw new LogError("unverified_note", "the note has no signature by a known key");
  return { text: note.text, signatures, verified, unverified };
}
