/** Shared helpers for the unit tests of src/tuf (they run inside workerd: Web APIs only). */
import { utf8 } from "../../src/lib/bytes.ts";
import { ecdsaP256Key, keyId, type Key } from "../../src/tuf/key.ts";
import { type Envelope, parseEnvelope, type RoleType } from "../../src/tuf/metadata.ts";
import { derToPem } from "../../src/tuf/pem.ts";
import { Ed25519Signer, type Signer } from "../../src/tuf/signer.ts";
import { rawSignatureToDer } from "../../src/tuf/verify.ts";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";

/** The envelope of a published metadata file given as its exact text. */
export function envelopeOf(text: string, type: RoleType): Envelope<Record<string, unknown>> {
  return parseEnvelope(utf8(text), type);
}

/** A deep copy through JSON, for tampering with fixtures without touching the originals. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A deterministic Ed25519 signer: the seed is 32 copies of `n`. */
export function ed25519Signer(n: number): Promise<Ed25519Signer> {
  return Ed25519Signer.fromSeed(new Uint8Array(32).fill(n));
}

/** One deterministic Ed25519 signer per seed, typed as a tuple of the same length. */
export async function ed25519Signers<const Seeds extends readonly number[]>(
  ...seeds: Seeds
): Promise<{ -readonly [K in keyof Seeds]: Ed25519Signer }> {
  return (await Promise.all(seeds.map(ed25519Signer))) as { -readonly [K in keyof Seeds]: Ed25519Signer };
}

/** A P-256 signer on WebCrypto that emits DER signatures, as TUF expects. */
export class EcdsaP256Signer implements Signer {
  readonly key: Key;
  readonly keyid: string;
  readonly #privateKey: CryptoKey;

  private constructor(key: Key, keyid: string, privateKey: CryptoKey) {
    this.key = key;
    this.keyid = keyid;
    this.#privateKey = privateKey;
  }

  static async generate(): Promise<EcdsaP256Signer> {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
    const key = ecdsaP256Key(derToPem(spki, "PUBLIC KEY"));
    return new EcdsaP256Signer(key, await keyId(key), pair.privateKey);
  }

  /** The raw r||s signature WebCrypto produces. */
  async signRaw(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.#privateKey, message));
  }

  async sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return rawSignatureToDer(await this.signRaw(message));
  }
}

/** `text` with the first occurrence of `from` replaced by `to`; fails loudly if absent. */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The error `fn` throws; fails the test if it returns normally. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, none was thrown");
}

/** The reason `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

/**
 * Canonical JSON as go-securesystemslib writes it (keys sorted with `sort.Strings`,
 * by UTF-8 bytes, which is also python-securesystemslib's code-point order): an
 * oracle independent of @tufjs/canonical-json's UTF-16 sort.
 */
export function canonicalByUtf8(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalByUtf8).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => {
      const [x, y] = [utf8(a), utf8(b)];
      const i = x.findIndex((byte, j) => byte !== y[j]);
      return i < 0 || i >= y.length ? x.length - y.length : (x[i] ?? 0) - (y[i] ?? 0);
    });
    const members = keys.map((k) => `${canonicalByUtf8(k)}:${canonicalByUtf8((value as Record<string, unknown>)[k])}`);
    return `{${members.join(",")}}`;
  }
  if (typeof value === "string") return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  return JSON.stringify(value);
}

/** A CPU profile of `nodes` (profile-sides.ts's SampledProfile) with samples given as [node id, ms since the sample before]. */
export function sampledProfile(nodes: SampledProfile["nodes"], samples: Array<[number, number]>): SampledProfile {
  return { nodes, samples: samples.map(([node]) => node), timeDeltas: samples.map(([, ms]) => ms * 1000) };
}
