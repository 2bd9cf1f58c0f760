/**
 * The transparency log's checkpoint (C2SP tlog-checkpoint): the signed note
 * that commits to the published tree, its note key, and the witnesses'
 * cosignatures served with it (C2SP tlog-cosignature).
 *
 * The note key is generated on first use and kept sealed under the KEK
 * (LOG_KEY_ENTRY; kek-reseal.ts re-seals it). The served checkpoint is
 * replaced at each publish (transparency-log.ts), which drops the
 * cosignatures of the one before: a witness cosigns a tree, not the log.
 */
import { fromHex, utf8 } from "../src/lib/bytes.ts";
import { addCosignatures, CosignatureV1Verifier, signCheckpoint, verifyCosignatures } from "../src/log/checkpoint.ts";
import { Ed25519NoteSigner, type NoteSignature, parseNote } from "../src/log/note.ts";
import { purgeCached } from "../src/storage/edge-cache.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { logKeyContext } from "./seal-contexts.ts";
import type { Sealed, Sealer } from "./sealer.ts";

/** The synchronous-KV entry holding the log's sealed note key. */
export const LOG_KEY_ENTRY = "log-key";
const WITNESSES = "log-witnesses";
const COSIGNED = "log-cosignatures";
const PUBLISHED = "log-published-size";
const CHECKPOINT = "log-checkpoint";

export class LogCheckpoint {
  readonly #kv: SyncKvStorage;
  readonly #sealer: Sealer;
  readonly origin: string;
  #signer: Promise<Ed25519NoteSigner> | null = null;

  constructor(deps: { kv: SyncKvStorage; sealer: Sealer; origin: string }) {
    this.#kv = deps.kv;
    this.#sealer = deps.sealer;
    this.origin = deps.origin;
  }

  /** The served tree size (what the last checkpoint signs). */
  publishedSize(): number {
    return this.#kv.get<number>(PUBLISHED) ?? 0;
  }

  /** The last checkpoint signed, without cosignatures, or null before the first. */
  note(): string | null {
    return this.#kv.get<string>(CHECKPOINT) ?? null;
  }

  /** Signs a checkpoint of the tree of `size` with `rootHash` (hex) and serves it, replacing the one before. */
  async sign(bucket: RepositoryBucket, size: number, rootHash: string): Promise<void> {
    const note = await signCheckpoint({ origin: this.origin, size, rootHash: fromHex(rootHash) }, await this.signer());
    await this.#serve(bucket, note);
    this.#kv.put(PUBLISHED, size);
    this.#kv.put(CHECKPOINT, note);
    this.#kv.delete(COSIGNED);
  }

  /** The log's note signer; its key is generated on first use and kept sealed. */
  signer(): Promise<Ed25519NoteSigner> {
    this.#signer ??= (async () => {
      const context = logKeyContext(this.origin);
      let stored = this.#kv.get<Sealed>(LOG_KEY_ENTRY);
      if (!stored) {
        const seed = crypto.getRandomValues(new Uint8Array(32));
        stored = await this.#sealer.seal(seed, context);
        this.#kv.put(LOG_KEY_ENTRY, stored);
      }
      return Ed25519NoteSigner.fromSeed(this.origin, await this.#sealer.unseal(stored, context));
    })();
    return this.#signer;
  }

  /** The witnesses whose cosignatures the served checkpoint carries (C2SP tlog-cosignature verifier keys). */
  witnesses(): string[] {
    return this.#kv.get<string[]>(WITNESSES) ?? [];
  }

  async setWitnesses(keys: string[]): Promise<void> {
    for (const key of keys) await CosignatureV1Verifier.fromKey(key); // refuses a malformed key
    this.#kv.put(WITNESSES, keys);
  }

  /**
   * Adds a witness's cosignature lines to the current checkpoint: each must be
   * by a configured witness and verify over this checkpoint. Returns the
   * served note.
   */
  async addCosignatures(
    bucket: RepositoryBucket,
    signedNote: string,
  ): Promise<{ ok: true; note: string } | { ok: false; detail: string }> {
    const current = this.note();
    if (!current) return { ok: false, detail: "the log has no checkpoint yet" };
    const witnesses = await Promise.all(this.witnesses().map((k) => CosignatureV1Verifier.fromKey(k)));
    try {
      const note = parseNote(signedNote);
      if (note.text !== parseNote(current).text)
        return { ok: false, detail: "the cosigned note is not the current checkpoint" };
      const verified = await verifyCosignatures(note, witnesses);
      if (verified.length === 0) return { ok: false, detail: "no cosignature by a configured witness verifies" };
      const lines = note.signatures.filter((sig) => verified.some((v) => v.name === sig.name && v.keyId === sig.keyId));
      const kept = [
        ...(this.#kv.get<NoteSignature[]>(COSIGNED) ?? []).filter((old) => !lines.some((l) => l.name === old.name)),
        ...lines,
      ];
      this.#kv.put(COSIGNED, kept);
      const served = addCosignatures(current, kept);
      await this.#serve(bucket, served);
      return { ok: true, note: served };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : "malformed note" };
    }
  }

  /** Replaces the served checkpoint, and drops the old one from this location's edge cache. */
  async #serve(bucket: RepositoryBucket, note: string): Promise<void> {
    await bucket.putLog("checkpoint", utf8(note), false);
    await purgeCached(bucket.logKey("checkpoint")).catch(() => undefined);
  }
}
