/**
 * Public keys as Sigstore uses them (SubjectPublicKeyInfo DER) and signature
 * checks on WebCrypto. ECDSA signatures arrive ASN.1 DER encoded; WebCrypto
 * wants r||s, so they go through the same converter TUF uses.
 *
 * One case WebCrypto cannot do: ECDSA over a digest the caller already has
 * (a Sigstore message signature is over the artifact, and we are only given
 * the artifact's digest). That one goes to @noble/curves with `prehash: false`.
 * Node's own crypto cannot do it either; sigstore-js's conformance client uses
 * a JS curve library for the same reason.
 */
import * as ed from "@noble/ed25519";
import { p256, p384 } from "@noble/curves/nist.js";
import { derSignatureToRaw } from "../tuf/verify.ts";
import { decodeBitStringBytes, decodeOid, parseDer, sequence, TAG } from "./der.ts";

export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "ed25519";
export type HashName = "SHA-256" | "SHA-384" | "SHA-512";

const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_P256 = "1.2.840.10045.3.1.7";
const OID_P384 = "1.3.132.0.34";
const OID_ED25519 = "1.3.101.112";

export class UnsupportedKeyError extends Error {
  override name = "UnsupportedKeyError";
}

/** A parsed SubjectPublicKeyInfo. The CryptoKey is imported once, on first use. */
export class PublicKey {
  readonly spki: Uint8Array<ArrayBuffer>;
  readonly algorithm: KeyAlgorithm;
  /** The subjectPublicKey bits: an uncompressed EC point, or 32 Ed25519 bytes. */
  readonly raw: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;

  private constructor(spki: Uint8Array<ArrayBuffer>, algorithm: KeyAlgorithm, raw: Uint8Array) {
    this.spki = spki;
    this.algorithm = algorithm;
    this.raw = raw;
  }

  static fromSpki(spkiBytes: Uint8Array): PublicKey {
    const spki = new Uint8Array(spkiBytes);
    const [algorithmId, bits] = sequence(parseDer(spki), "SubjectPublicKeyInfo");
    const [oidNode, params] = sequence(algorithmId, "AlgorithmIdentifier");
    const oid = decodeOid(oidNode!);
    const raw = decodeBitStringBytes(bits!);
    if (oid === OID_EC_PUBLIC_KEY) {
      const curve = params && params.tag === TAG.OID ? decodeOid(params) : "";
      if (curve === OID_P256 && raw.length === 65 && raw[0] === 4) return new PublicKey(spki, "ecdsa-p256", raw);
      if (curve === OID_P384 && raw.length === 97 && raw[0] === 4) return new PublicKey(spki, "ecdsa-p384", raw);
      throw new UnsupportedKeyError(`unsupported EC key (curve ${curve || "?"})`);
    }
    if (oid === OID_ED25519 && params === undefined && raw.length === 32) return new PublicKey(spki, "ed25519", raw);
    throw new UnsupportedKeyError(`unsupported public key algorithm ${oid}`);
  }

  /** The hash a Sigstore signature by this key uses when nothing else says (Sigstore algorithm registry). */
  get defaultHash(): HashName {
    return this.algorithm === "ecdsa-p384" ? "SHA-384" : "SHA-256";
  }

  cryptoKey(): Promise<CryptoKey> {
    if (this.algorithm === "ed25519") throw new UnsupportedKeyError("Ed25519 keys are verified with @noble/ed25519");
    this.#cryptoKey ??= crypto.subtle.importKey(
      "spki",
      this.spki,
      { name: "ECDSA", namedCurve: this.algorithm === "ecdsa-p256" ? "P-256" : "P-384" },
      false,
      ["verify"],
    );
    return this.#cryptoKey;
  }

  /**
   * Verifies a signature over `message`. ECDSA signatures are DER; `hash`
   * defaults to the key's own (SHA-256 for P-256, SHA-384 for P-384).
   * A malformed signature is a signature that does not verify.
   */
  async verify(
    message: Uint8Array<ArrayBuffer>,
    signature: Uint8Array,
    hash: HashName = this.defaultHash,
  ): Promise<boolean> {
    try {
      if (this.algorithm === "ed25519") return await ed.verifyAsync(signature, message, this.raw);
      const raw = derSignatureToRaw(signature, this.algorithm === "ecdsa-p256" ? 32 : 48);
      return await crypto.subtle.verify({ name: "ECDSA", hash }, await this.cryptoKey(), raw, message);
    } catch {
      return false;
    }
  }

  /** Verifies a DER ECDSA signature over a message of which only the digest is known. */
  verifyDigest(digest: Uint8Array, signature: Uint8Array): boolean {
    const curve = this.algorithm === "ecdsa-p256" ? p256 : this.algorithm === "ecdsa-p384" ? p384 : undefined;
    if (!curve) return false; // Ed25519 signs messages, never digests.
    try {
      return curve.verify(signature, digest, this.raw, { prehash: false, format: "der", lowS: false });
    } catch {
      return false;
    }
  }
}
