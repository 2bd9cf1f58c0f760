/**
 * Signers produce TUF signatures. The interface is async so that a key in
 * WebCrypto, a hardware token or a remote KMS can stand behind it.
 */
import * as ed from "@noble/ed25519";
import { toHex } from "./encoding.ts";
import { ed25519Key, keyId, type Key } from "./key.ts";

export interface Signer {
  readonly key: Key;
  readonly keyid: string;
  /** The raw signature over `message` (for ECDSA: DER). */
  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** An Ed25519 signer over a 32-byte secret seed, with @noble/ed25519. */
export class Ed25519Signer implements Signer {
  readonly key: Key;
  readonly keyid: string;
  readonly #seed: Uint8Array;

  private constructor(seed: Uint8Array, key: Key, keyid: string) {
    this.#seed = seed;
    this.key = key;
    this.keyid = keyid;
  }

  static async fromSeed(seed: Uint8Array): Promise<Ed25519Signer> {
    if (seed.length !== 32) throw new TypeError("an ed25519 seed is 32 bytes");
    const key = ed25519Key(toHex(await ed.getPublicKeyAsync(seed)));
    return new Ed25519Signer(seed.slice(), key, await keyId(key));
  }

  static async generate(): Promise<{ signer: Ed25519Signer; seed: Uint8Array }> {
    const seed = ed.utils.randomSecretKey();
    return { signer: await Ed25519Signer.fromSeed(seed), seed };
  }

  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return ed.signAsync(message, this.#seed);
  }
}
