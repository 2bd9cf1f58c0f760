/**
 * Signers produce TUF signatures. The interface is async so that a key in
 * WebCrypto, a hardware token or a remote KMS can stand behind it.
 */
import * as ed from "@noble/ed25519";
import { toHex } from "../lib/bytes.ts";
import { ed25519Key, keyId, type Key } from "./key.ts";

export interface Signer {
  readonly key: Key;
  readonly keyid: string;
  /** The raw signature over `message` (for ECDSA: DER). */
  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** PKCS#8 PrivateKeyInfo for an Ed25519 seed (RFC 8410): this prefix, then the 32 bytes. */
const PKCS8_ED25519_PREFIX = [
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/**
 * An Ed25519 signer over a 32-byte secret seed. Signs with the runtime's
 * WebCrypto Ed25519 where it has one (workerd and Node 24: about 10× faster
 * than JavaScript, which matters when thousands of bins are re-signed), and
 * with @noble/ed25519 otherwise; Ed25519 is deterministic, so both give the
 * same signature bytes.
 */
export class Ed25519Signer implements Signer {
  readonly key: Key;
  readonly keyid: string;
  readonly #seed: Uint8Array;
  readonly #webCryptoKey: CryptoKey | null;

  private constructor(seed: Uint8Array, key: Key, keyid: string, webCryptoKey: CryptoKey | null) {
    this.#seed = seed;
    this.key = key;
    this.keyid = keyid;
    this.#webCryptoKey = webCryptoKey;
  }

  static async fromSeed(seed: Uint8Array): Promise<Ed25519Signer> {
    if (seed.length !== 32) throw new TypeError("an ed25519 seed is 32 bytes");
    const key = ed25519Key(toHex(await ed.getPublicKeyAsync(seed)));
    return new Ed25519Signer(seed.slice(), key, await keyId(key), await importWebCryptoKey(seed));
  }

  static async generate(): Promise<{ signer: Ed25519Signer; seed: Uint8Array }> {
    const seed = ed.utils.randomSecretKey();
    return { signer: await Ed25519Signer.fromSeed(seed), seed };
  }

  async sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    if (this.#webCryptoKey) return new Uint8Array(await crypto.subtle.sign("Ed25519", this.#webCryptoKey, message));
    return ed.signAsync(message, this.#seed);
  }
}

async function importWebCryptoKey(seed: Uint8Array): Promise<CryptoKey | null> {
  const pkcs8 = new Uint8Array([...PKCS8_ED25519_PREFIX, ...seed]);
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  } catch {
    return null; // no Ed25519 in this runtime's WebCrypto
  } finally {
    pkcs8.fill(0);
  }
}
