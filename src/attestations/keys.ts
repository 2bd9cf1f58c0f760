/**
 * Public keys as Sigstore uses them (SubjectPublicKeyInfo DER) and signature
 * checks on WebCrypto, for the algorithms of Sigstore's algorithm registry
 * (protobuf-specs `PublicKeyDetails`): ECDSA P-256, P-384 and P-521 with
 * SHA-256/384/512, RSA PKCS#1 v1.5 and RSA-PSS with 2048 to 4096-bit
 * moduli, and Ed25519.
 *
 * Some checks have no WebCrypto form and go elsewhere:
 *  - a signature over a message of which only the digest is known (a
 *    Sigstore message signature names its artifact by digest): ECDSA through
 *    @noble/curves with `prehash: false`, RSA by the RFC 8017 encoding
 *    checks below (EMSA-PKCS1-v1_5 and EMSA-PSS both start from the digest);
 *  - P-521, which workerd's WebCrypto does not offer: @noble/curves.
 * Ed25519 signs messages, never digests: a message signature by an Ed25519
 * key cannot be checked from a digest, and says so.
 */
import * as ed from "@noble/ed25519";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { derSignatureToRaw } from "../tuf/verify.ts";
import { children, DerError, decodeBitStringBytes, decodeOid, expectTag, parseDer, sequence, TAG } from "../lib/der.ts";

export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521" | "ed25519" | "rsa";
export type HashName = "SHA-256" | "SHA-384" | "SHA-512";
/** RSA signature padding: PKCS#1 v1.5, or PSS with the salt length given. */
export type RsaPadding = { readonly scheme: "pkcs1" } | { readonly scheme: "pss"; readonly saltLength: number };

const PKCS1: RsaPadding = { scheme: "pkcs1" };

const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const OID_ED25519 = "1.3.101.112";

const CURVES: Record<string, { algorithm: KeyAlgorithm; size: number }> = {
  "1.2.840.10045.3.1.7": { algorithm: "ecdsa-p256", size: 32 },
  "1.3.132.0.34": { algorithm: "ecdsa-p384", size: 48 },
  "1.3.132.0.35": { algorithm: "ecdsa-p521", size: 66 },
};

/** Names for the key types Sigstore does not allow, so a refusal says what the key is. */
const UNSUPPORTED_NAMES: Record<string, string> = {
  "1.2.840.10040.4.1": "DSA",
  "1.3.101.113": "Ed448",
  "1.3.101.110": "X25519",
  "1.3.101.111": "X448",
  "1.2.840.113549.1.1.10": "RSASSA-PSS-only key (id-RSASSA-PSS)",
  "1.3.132.0.10": "ECDSA secp256k1",
  "1.2.840.10045.3.1.1": "ECDSA P-192",
  "1.3.132.0.33": "ECDSA P-224",
  "1.3.36.3.3.2.8.1.1.7": "ECDSA brainpoolP256r1",
  "1.3.36.3.3.2.8.1.1.11": "ECDSA brainpoolP384r1",
};

/** The modulus sizes Sigstore's registry lists for RSA keys. */
const RSA_BITS = new Set([2048, 3072, 4096]);

export class UnsupportedKeyError extends Error {
  override name = "UnsupportedKeyError";
  /** The algorithm's name, e.g. "RSA-1024", "ECDSA secp256k1", "Ed448". */
  readonly algorithm: string;
  constructor(algorithm: string, detail?: string) {
    super(`unsupported key type ${algorithm}${detail ? ` (${detail})` : ""}`);
    this.algorithm = algorithm;
  }
}

const DIGEST_SIZE: Record<HashName, number> = { "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<HashName, number[]> = {
  "SHA-256": [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
  ],
  "SHA-384": [
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
  ],
  "SHA-512": [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
  ],
};

/** A parsed SubjectPublicKeyInfo. CryptoKeys are imported once per use, on first need. */
export class PublicKey {
  readonly spki: Uint8Array<ArrayBuffer>;
  readonly algorithm: KeyAlgorithm;
  /** The subjectPublicKey bits: an uncompressed EC point, 32 Ed25519 bytes, or the DER RSAPublicKey. */
  readonly raw: Uint8Array;
  /** RSA modulus and exponent; undefined for other keys. */
  readonly rsa: { readonly n: bigint; readonly e: bigint; readonly bits: number } | undefined;
  readonly #cryptoKeys = new Map<string, Promise<CryptoKey>>();

  private constructor(spki: Uint8Array<ArrayBuffer>, algorithm: KeyAlgorithm, raw: Uint8Array, rsa?: PublicKey["rsa"]) {
    this.spki = spki;
    this.algorithm = algorithm;
    this.raw = raw;
    this.rsa = rsa;
  }

  /** Parses a key; throws UnsupportedKeyError naming the algorithm of a key Sigstore does not allow. */
  static fromSpki(spkiBytes: Uint8Array): PublicKey {
    const spki = new Uint8Array(spkiBytes);
    const [algorithmId, bits] = sequence(parseDer(spki), "SubjectPublicKeyInfo");
    const [oidNode, params] = sequence(algorithmId, "AlgorithmIdentifier");
    const oid = decodeOid(expectTag(oidNode, TAG.OID, "algorithm"));
    const raw = decodeBitStringBytes(expectTag(bits, TAG.BIT_STRING, "subjectPublicKey"));
    if (oid === OID_EC_PUBLIC_KEY) {
      const curveOid = params && params.tag === TAG.OID ? decodeOid(params) : "";
      const curve = CURVES[curveOid];
      if (!curve) throw new UnsupportedKeyError(UNSUPPORTED_NAMES[curveOid] ?? `ECDSA on curve ${curveOid || "?"}`);
      if (raw.length !== 2 * curve.size + 1 || raw[0] !== 4)
        throw new UnsupportedKeyError(curve.algorithm, "not an uncompressed point");
      return new PublicKey(spki, curve.algorithm, raw);
    }
    if (oid === OID_ED25519 && params === undefined && raw.length === 32) return new PublicKey(spki, "ed25519", raw);
    if (oid === OID_RSA_ENCRYPTION) {
      const [modulus, exponent] = sequence(parseDer(raw), "RSAPublicKey");
      const n = unsignedInteger(expectTag(modulus, TAG.INTEGER, "modulus").content);
      const e = unsignedInteger(expectTag(exponent, TAG.INTEGER, "publicExponent").content);
      const size = n.toString(2).length;
      if (!RSA_BITS.has(size)) throw new UnsupportedKeyError(`RSA-${size}`, "Sigstore allows 2048, 3072 and 4096 bits");
      if (e < 3n || e % 2n === 0n) throw new UnsupportedKeyError(`RSA-${size}`, "bad public exponent");
      return new PublicKey(spki, "rsa", raw, { n, e, bits: size });
    }
    throw new UnsupportedKeyError(UNSUPPORTED_NAMES[oid] ?? `with algorithm OID ${oid}`);
  }

  /** A name for messages: "ECDSA P-256", "RSA-3072", "Ed25519". */
  get name(): string {
    if (this.rsa) return `RSA-${this.rsa.bits}`;
    if (this.algorithm === "ed25519") return "Ed25519";
    return `ECDSA ${this.algorithm.slice(6).toUpperCase().replace("P", "P-")}`;
  }

  /** The hash a Sigstore signature by this key uses when nothing else says (Sigstore algorithm registry). */
  get defaultHash(): HashName {
    if (this.algorithm === "ecdsa-p384") return "SHA-384";
    if (this.algorithm === "ecdsa-p521") return "SHA-512";
    return "SHA-256";
  }

  #cryptoKey(hash: HashName, padding: RsaPadding): Promise<CryptoKey> {
    const id = `${hash}/${padding.scheme}`;
    let key = this.#cryptoKeys.get(id);
    if (!key) {
      const algorithm =
        this.algorithm === "rsa"
          ? { name: padding.scheme === "pss" ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash }
          : { name: "ECDSA", namedCurve: this.algorithm === "ecdsa-p256" ? "P-256" : "P-384" };
      key = crypto.subtle.importKey("spki", this.spki, algorithm, false, ["verify"]);
      this.#cryptoKeys.set(id, key);
    }
    return key;
  }

  /**
   * Verifies a signature over `message`. ECDSA signatures are DER; `hash`
   * defaults to the key's own. A malformed signature is a signature that
   * does not verify.
   */
  async verify(
    message: Uint8Array<ArrayBuffer>,
    signature: Uint8Array,
    hash: HashName = this.defaultHash,
    padding: RsaPadding = PKCS1,
  ): Promise<boolean> {
    try {
      switch (this.algorithm) {
        case "ed25519":
          return await ed.verifyAsync(signature, message, this.raw);
        case "ecdsa-p521":
          return this.verifyDigest(new Uint8Array(await crypto.subtle.digest(hash, message)), signature, hash);
        case "rsa":
          return await crypto.subtle.verify(
            padding.scheme === "pss" ? { name: "RSA-PSS", saltLength: padding.saltLength } : "RSASSA-PKCS1-v1_5",
            await this.#cryptoKey(hash, padding),
            new Uint8Array(signature),
            message,
          );
        default: {
          const raw = derSignatureToRaw(signature, CURVE_SIZE[this.algorithm]);
          return await crypto.subtle.verify(
            { name: "ECDSA", hash },
            await this.#cryptoKey(hash, padding),
            raw,
            message,
          );
        }
      }
    } catch {
      return false;
    }
  }

  /**
   * Verifies a signature over a message of which only the digest (made with
   * `hash`) is known. Throws UnsupportedKeyError for Ed25519, which cannot.
   */
  async verifyDigest(
    digest: Uint8Array,
    signature: Uint8Array,
    hash: HashName = this.defaultHash,
    padding: RsaPadding = PKCS1,
  ): Promise<boolean> {
    if (this.algorithm === "ed25519")
      throw new UnsupportedKeyError("Ed25519", "an Ed25519 signature covers the artifact, not its digest");
    if (digest.length !== DIGEST_SIZE[hash]) return false;
    try {
      if (this.rsa) {
        const em = rsaOpen(this.rsa, signature);
        if (!em) return false;
        return padding.scheme === "pss"
          ? await pssVerify(digest, em, this.rsa.bits - 1, hash, padding.saltLength)
          : pkcs1Matches(em, digest, hash);
      }
      const curve = this.algorithm === "ecdsa-p256" ? p256 : this.algorithm === "ecdsa-p384" ? p384 : p521;
      return curve.verify(signature, digest, this.raw, { prehash: false, format: "der", lowS: false });
    } catch {
      return false;
    }
  }
}

const CURVE_SIZE = { "ecdsa-p256": 32, "ecdsa-p384": 48 } as const;

function unsignedInteger(content: Uint8Array): bigint {
  let value = 0n;
  for (const byte of content) value = (value << 8n) | BigInt(byte);
  return value;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** RSAVP1 (RFC 8017 §5.2.2): the encoded message of `signature`, k bytes; undefined if out of range. */
function rsaOpen(key: { n: bigint; e: bigint; bits: number }, signature: Uint8Array): Uint8Array | undefined {
  const k = Math.ceil(key.bits / 8);
  if (signature.length !== k) return undefined;
  const s = unsignedInteger(signature);
  if (s >= key.n) return undefined;
  let m = modPow(s, key.e, key.n);
  const em = new Uint8Array(k);
  for (let i = k - 1; i >= 0; i--) {
    em[i] = Number(m & 0xffn);
    m >>= 8n;
  }
  return em;
}

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 DigestInfo digest, compared whole. */
function pkcs1Matches(em: Uint8Array, digest: Uint8Array, hash: HashName): boolean {
  const tail = [...DIGEST_INFO[hash], ...digest];
  const padding = em.length - tail.length - 3;
  if (padding < 8) return false;
  const expected = [0x00, 0x01, ...new Array<number>(padding).fill(0xff), 0x00, ...tail];
  let diff = 0;
  em.forEach((byte, i) => {
    diff |= byte ^ (expected[i] ?? 0x100);
  });
  return diff === 0;
}

async function mgf1(seed: Uint8Array, length: number, hash: HashName): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let counter = 0, offset = 0; offset < length; counter++) {
    const input = new Uint8Array(seed.length + 4);
    input.set(seed);
    new DataView(input.buffer).setUint32(seed.length, counter);
    const block = new Uint8Array(await crypto.subtle.digest(hash, input));
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
    offset += block.length;
  }
  return out;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) from the message digest. */
async function pssVerify(
  mHash: Uint8Array,
  encoded: Uint8Array,
  emBits: number,
  hash: HashName,
  saltLength: number,
): Promise<boolean> {
  const emLen = Math.ceil(emBits / 8);
  const em = encoded.subarray(encoded.length - emLen);
  if (encoded.length > emLen && encoded.subarray(0, encoded.length - emLen).some((b) => b !== 0)) return false;
  const hLen = DIGEST_SIZE[hash];
  if (emLen < hLen + saltLength + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const unused = 8 * emLen - emBits;
  if (((maskedDb[0] ?? 0) & (0xff << (8 - unused)) & 0xff) !== 0) return false;
  const mask = await mgf1(h, maskedDb.length, hash);
  const db = maskedDb.map((b, i) => b ^ (mask[i] ?? 0));
  db[0] = (db[0] ?? 0) & (0xff >> unused);
  const zeros = db.length - saltLength - 1;
  if (db.subarray(0, zeros).some((b) => b !== 0) || db[zeros] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength);
  const mPrime = new Uint8Array(8 + hLen + saltLength);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + hLen);
  const expected = new Uint8Array(await crypto.subtle.digest(hash, mPrime));
  return expected.every((b, i) => b === h[i]);
}

/** RSASSA-PSS-params (RFC 4055 §3.1): the hash and salt length; defaults SHA-1 and 20 are not allowed here. */
export function pssParameters(params: Uint8Array): { hash: HashName; saltLength: number } {
  let hash: HashName | undefined;
  let saltLength = 20;
  for (const field of children(parseDer(params))) {
    if (field.tag === 0xa0) {
      const [oid] = sequence(children(field)[0], "hashAlgorithm");
      hash = hashOfOid(decodeOid(expectTag(oid, TAG.OID, "hashAlgorithm")));
    } else if (field.tag === 0xa2)
      saltLength = Number(unsignedInteger(expectTag(children(field)[0], TAG.INTEGER, "saltLength").content));
  }
  if (!hash) throw new UnsupportedKeyError("RSA-PSS with SHA-1");
  return { hash, saltLength };
}

const HASH_OIDS: Record<string, HashName> = {
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};

/** The hash named by a digest AlgorithmIdentifier OID; throws for any other. */
export function hashOfOid(oid: string): HashName {
  const hash = HASH_OIDS[oid];
  if (!hash) throw new DerError(`unsupported digest algorithm ${oid}`);
  return hash;
}
