/**
 * Sealing secrets at rest with AES-GCM under the KEY_ENCRYPTION_KEY secret.
 * Each sealed value is bound to a context string (associated data), so it
 * cannot be moved to another repository, row or purpose.
 */
import { fromBase64, utf8 } from "../src/tuf/encoding.ts";

export interface Sealed {
  sealed: ArrayBuffer;
  iv: ArrayBuffer;
}

export class Sealer {
  readonly #secret: string;
  #key: Promise<CryptoKey> | undefined;

  constructor(keyEncryptionKey: string) {
    this.#secret = keyEncryptionKey;
  }

  async seal(plaintext: Uint8Array<ArrayBuffer>, context: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: utf8(context) },
      await this.#kek(),
      plaintext,
    );
    return { sealed, iv: iv.buffer };
  }

  async unseal({ sealed, iv }: Sealed, context: string): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(context) }, await this.#kek(), sealed),
    );
  }

  #kek(): Promise<CryptoKey> {
    this.#key ??= (async () => {
      let raw: Uint8Array<ArrayBuffer>;
      try {
        raw = fromBase64(this.#secret ?? "");
      } catch {
        raw = new Uint8Array();
      }
      if (raw.length !== 32) throw new Error("KEY_ENCRYPTION_KEY must be base64 of 32 bytes");
      return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    })();
    return this.#key;
  }
}
