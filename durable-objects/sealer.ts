/**
 * Sealing secrets at rest with AES-GCM under a versioned key-encryption key
 * (KEK). Each sealed value records the id of the KEK it was sealed under and
 * is unsealed with that one; new values are sealed under the current KEK.
 * Each sealed value is bound to a context string (associated data), so it
 * cannot be moved to another repository, row or purpose.
 *
 * The KEY_ENCRYPTION_KEY secret holds either one key (base64 of 32 bytes,
 * id "default") or a key ring, as JSON:
 *   {"current": "2026-12", "keys": {"2026-12": "<base64 of 32 bytes>", "default": "<base64>"}}
 * Failures are `KekError`s with a stable code; no message ever holds key bytes.
 */
import { fromBase64, utf8 } from "../src/lib/bytes.ts";

/** The id of a KEK given as a bare base64 key (and of values sealed before KEKs had ids). */
export const DEFAULT_KEK_ID = "default";
export const KEK_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface Sealed {
  sealed: ArrayBuffer;
  iv: ArrayBuffer;
  /** The KEK it was sealed under; absent on values sealed before KEKs had ids (DEFAULT_KEK_ID). */
  kekId?: string;
}

export type KekErrorCode =
  /** KEY_ENCRYPTION_KEY is missing or malformed. */
  | "kek_not_configured"
  /** A sealed value names a KEK id that KEY_ENCRYPTION_KEY does not hold. */
  | "kek_unknown"
  /** The KEK under that id does not open the value (a different key was configured under the id). */
  | "kek_unseal_failed";

/** Why a sealed value cannot be sealed or opened. The code is stable; surface it as is. */
export class KekError extends Error {
  readonly code: KekErrorCode;
  constructor(code: KekErrorCode, message: string) {
    super(message);
    this.name = "KekError";
    this.code = code;
  }
}

export interface KeyRing {
  current: string;
  keys: Map<string, Uint8Array<ArrayBuffer>>;
}

function decodeKey(id: string, value: unknown): Uint8Array<ArrayBuffer> {
  let raw: Uint8Array<ArrayBuffer> = new Uint8Array();
  try {
    if (typeof value === "string") raw = fromBase64(value);
  } catch {
    // reported below, without the value
  }
  if (raw.length !== 32)
    throw new KekError("kek_not_configured", `KEY_ENCRYPTION_KEY: key "${id}" is not base64 of 32 bytes`);
  return raw;
}

/** Parses the KEY_ENCRYPTION_KEY secret: a bare base64 key or a JSON key ring. */
export function parseKeyRing(secret: string | undefined): KeyRing {
  const text = (secret ?? "").trim();
  if (!text) throw new KekError("kek_not_configured", "KEY_ENCRYPTION_KEY is not set");
  if (!text.startsWith("{"))
    return { current: DEFAULT_KEK_ID, keys: new Map([[DEFAULT_KEK_ID, decodeKey(DEFAULT_KEK_ID, text)]]) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KekError("kek_not_configured", "KEY_ENCRYPTION_KEY starts with { but is not JSON");
  }
  const { current, keys } = (json ?? {}) as { current?: unknown; keys?: unknown };
  if (typeof keys !== "object" || keys === null || Array.isArray(keys))
    throw new KekError("kek_not_configured", 'KEY_ENCRYPTION_KEY: "keys" must map key ids to base64 keys');
  const ring = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [id, value] of Object.entries(keys)) {
    if (!KEK_ID.test(id))
      throw new KekError(
        "kek_not_configured",
        `KEY_ENCRYPTION_KEY: "${id.slice(0, 64)}" is not a key id (1-64 of A-Z a-z 0-9 . _ -)`,
      );
    ring.set(id, decodeKey(id, value));
  }
  if (typeof current !== "string" || !ring.has(current))
    throw new KekError("kek_not_configured", 'KEY_ENCRYPTION_KEY: "current" must name one of its keys');
  return { current, keys: ring };
}

export class Sealer {
  readonly #secret: string | undefined;
  #ring: KeyRing | undefined;
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  constructor(keyEncryptionKey: string | undefined) {
    this.#secret = keyEncryptionKey;
  }

  /** The id new values are sealed under. Throws a KekError if the secret is unusable. */
  get currentId(): string {
    return this.#keyRing().current;
  }

  /** Whether a KEK with this id is configured. */
  has(id: string): boolean {
    return this.#keyRing().keys.has(id);
  }

  async seal(plaintext: Uint8Array<ArrayBuffer>, context: string): Promise<Required<Sealed>> {
    const kekId = this.currentId;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: utf8(context) },
      await this.#kek(kekId),
      plaintext,
    );
    return { sealed, iv: iv.buffer, kekId };
  }

  async unseal({ sealed, iv, kekId = DEFAULT_KEK_ID }: Sealed, context: string): Promise<Uint8Array<ArrayBuffer>> {
    const key = await this.#kek(kekId);
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(context) }, key, sealed),
      );
    } catch {
      throw new KekError(
        "kek_unseal_failed",
        `a value sealed under key-encryption key "${kekId}" does not open with the key configured under that id`,
      );
    }
  }

  /** Opens a value and seals it again under the current KEK. */
  async reseal(value: Sealed, context: string): Promise<Required<Sealed>> {
    const plaintext = await this.unseal(value, context);
    try {
      return await this.seal(plaintext, context);
    } finally {
      plaintext.fill(0);
    }
  }

  #keyRing(): KeyRing {
    this.#ring ??= parseKeyRing(this.#secret);
    return this.#ring;
  }

  #kek(id: string): Promise<CryptoKey> {
    const raw = this.#keyRing().keys.get(id);
    if (!raw) {
      return Promise.reject(
        new KekError(
          "kek_unknown",
          `a sealed value names key-encryption key "${id}", which KEY_ENCRYPTION_KEY does not hold`,
        ),
      );
    }
    let key = this.#imported.get(id);
    if (!key) {
      key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
      this.#imported.set(id, key);
    }
    return key;
  }
}
