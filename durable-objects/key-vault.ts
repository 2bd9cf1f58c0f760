/**
 * The repository's online signing keys. Generated inside the service, sealed
 * with AES-GCM under the current key-encryption key (sealer.ts; the repository name and
 * keyid are bound in as associated data, so a sealed key cannot be moved to
 * another repository or row), never returned and never logged. Only this class
 * writes the `online_keys` rows that find() reads (kek-reseal.ts re-seals the
 * sealed columns, which find() does not read), so its cache is dropped here.
 */
import type { Key } from "../src/tuf/key.ts";
import { Ed25519Signer } from "../src/tuf/signer.ts";
import { ReadCache } from "./read-cache.ts";
import { onlineKeyContext } from "./seal-contexts.ts";
import type { Sealer } from "./sealer.ts";

export type OnlineKeyState = "pending" | "active" | "retired";

export interface OnlineKey {
  keyid: string;
  key: Key;
  state: OnlineKeyState;
}

/** What a component that keeps sealed values in the repository's tables is given. */
export interface SealedStateDeps {
  sql: SqlStorage;
  repo: string;
  sealer: Sealer;
}

export class KeyVault {
  readonly #sql: SqlStorage;
  readonly #repo: string;
  readonly #sealer: Sealer;
  readonly #signers = new Map<string, Ed25519Signer>();
  /** find()'s answers: every push's blocked-key check and every signature ask for the active key. */
  readonly #found = new ReadCache<OnlineKeyState, OnlineKey | null>();

  constructor(deps: SealedStateDeps) {
    this.#sql = deps.sql;
    this.#repo = deps.repo;
    this.#sealer = deps.sealer;
  }

  /** The key in `state` (the newest if several), or null. */
  find(state: OnlineKeyState): OnlineKey | null {
    return this.#found.get(state, () => {
      const row = this.#sql
        .exec<{ keyid: string; public_key: string }>(
          "SELECT keyid, public_key FROM online_keys WHERE state = +? ORDER BY created_at DESC LIMIT 1",
          state,
        )
        .toArray()[0];
      return row ? { keyid: row.keyid, key: JSON.parse(row.public_key) as Key, state } : null;
    });
  }

  /** Generates a key and stores it sealed, in state `state`. */
  async generate(state: OnlineKeyState): Promise<OnlineKey> {
    const { signer, seed } = await Ed25519Signer.generate();
    const { sealed, iv, kekId } = await this.#sealer.seal(
      seed as Uint8Array<ArrayBuffer>,
      onlineKeyContext(this.#repo, signer.keyid),
    );
    seed.fill(0);
    this.#found.invalidate();
    this.#sql.exec(
      "INSERT INTO online_keys (keyid, public_key, sealed, iv, kek_id, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      signer.keyid,
      JSON.stringify(signer.key),
      sealed,
      iv,
      kekId,
      state,
      Date.now(),
    );
    this.#signers.set(signer.keyid, signer);
    return { keyid: signer.keyid, key: signer.key, state };
  }

  setState(keyid: string, state: OnlineKeyState): void {
    this.#found.invalidate();
    this.#sql.exec("UPDATE online_keys SET state = ? WHERE keyid = ?", state, keyid);
  }

  /** Retires a key and erases its sealed private key: nothing can sign with it again. */
  destroy(keyid: string): void {
    this.#found.invalidate();
    this.#sql.exec(
      "UPDATE online_keys SET state = 'retired', sealed = zeroblob(0), iv = zeroblob(0) WHERE keyid = ?",
      keyid,
    );
    this.#signers.delete(keyid);
  }

  /** When a key was generated (ms since the epoch). */
  createdAt(keyid: string): number {
    return this.#sql.exec<{ created_at: number }>("SELECT created_at FROM online_keys WHERE keyid = ?", keyid).one()
      .created_at;
  }

  /** A signer for a stored key; unsealed once, then kept in memory. */
  async signer(keyid: string): Promise<Ed25519Signer> {
    const cached = this.#signers.get(keyid);
    if (cached) return cached;
    const row = this.#sql
      .exec<{ sealed: ArrayBuffer; iv: ArrayBuffer; kek_id: string }>(
        "SELECT sealed, iv, kek_id FROM online_keys WHERE keyid = ?",
        keyid,
      )
      .toArray()[0];
    if (!row) throw new Error(`online key ${keyid} is not in the vault`);
    const seed = await this.#sealer.unseal(
      { sealed: row.sealed, iv: row.iv, kekId: row.kek_id },
      onlineKeyContext(this.#repo, keyid),
    );
    const signer = await Ed25519Signer.fromSeed(seed);
    seed.fill(0);
    this.#signers.set(keyid, signer);
    return signer;
  }
}
