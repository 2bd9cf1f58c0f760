/**
 * Re-sealing a repository's secrets under the current key-encryption key:
 * its online keys, its registries' webhook secrets and its transparency-log
 * key. Each value records the KEK it is sealed under, so the work is its own
 * progress record: every step re-seals a bounded number of values, each
 * written with a compare-and-set on its old KEK id, and the next invocation
 * (after a crash, a timeout or a deliberate budget) continues with whatever
 * is still under an old KEK. Nothing here returns or logs secret bytes.
 */
import type { KekStatus } from "../src/repository-api.ts";
import { logKeyContext, onlineKeyContext, webhookSecretContext } from "./seal-contexts.ts";
import { DEFAULT_KEK_ID, KekError, type Sealed, type Sealer } from "./sealer.ts";
import { LOG_KEY_ENTRY } from "./log-checkpoint.ts";
import { sqlLimit } from "./stable-plans.ts";

/** One kind of sealed value a repository keeps. */
interface SealedStore {
  /** How many values are sealed under each KEK id. */
  countByKek(): Record<string, number>;
  /** Re-seals up to `limit` values that are not under the current KEK; returns how many it did. */
  reseal(limit: number): Promise<number>;
}

/** A SQL table with `sealed`, `iv` and `kek_id` columns, keyed by `idColumn`. */
function sqlStore(
  sql: SqlStorage,
  sealer: Sealer,
  table: "online_keys" | "registry_credentials",
  idColumn: "keyid" | "id",
  context: (id: string) => string,
): SealedStore {
  // Destroyed online keys keep an empty blob; Ed25519 credentials have none.
  const holdsSecret = "sealed IS NOT NULL AND length(sealed) > 0";
  return {
    countByKek() {
      const out: Record<string, number> = {};
      for (const row of sql.exec<{ kek_id: string; n: number }>(
        `SELECT kek_id, COUNT(*) AS n FROM ${table} WHERE ${holdsSecret} GROUP BY kek_id`,
      ))
        out[row.kek_id] = row.n;
      return out;
    },
    async reseal(limit) {
      const current = sealer.currentId;
      const rows = sql
        .exec<{ id: string; sealed: ArrayBuffer; iv: ArrayBuffer; kek_id: string }>(
          `SELECT ${idColumn} AS id, sealed, iv, kek_id FROM ${table} WHERE ${holdsSecret} AND kek_id != ? ${sqlLimit(limit)}`,
          current,
        )
        .toArray();
      let done = 0;
      for (const row of rows) {
        const next = await sealer.reseal({ sealed: row.sealed, iv: row.iv, kekId: row.kek_id }, context(row.id));
        const cursor = sql.exec(
          `UPDATE ${table} SET sealed = ?, iv = ?, kek_id = ? WHERE ${idColumn} = ? AND kek_id = ? AND ${holdsSecret}`,
          next.sealed,
          next.iv,
          next.kekId,
          row.id,
          row.kek_id,
        );
        done += cursor.rowsWritten > 0 ? 1 : 0;
      }
      return done;
    },
  };
}

/** The transparency log's note key, kept in the object's synchronous KV storage. */
function logKeyStore(kv: SyncKvStorage, sealer: Sealer, origin: string): SealedStore {
  return {
    countByKek() {
      const stored = kv.get<Sealed>(LOG_KEY_ENTRY);
      return stored ? { [stored.kekId ?? DEFAULT_KEK_ID]: 1 } : {};
    },
    async reseal(limit) {
      const stored = kv.get<Sealed>(LOG_KEY_ENTRY);
      if (!stored || limit < 1 || (stored.kekId ?? DEFAULT_KEK_ID) === sealer.currentId) return 0;
      const next = await sealer.reseal(stored, logKeyContext(origin));
      // Compare-and-set: only if nobody replaced it meanwhile.
      const now = kv.get<Sealed>(LOG_KEY_ENTRY);
      if (!now || (now.kekId ?? DEFAULT_KEK_ID) !== (stored.kekId ?? DEFAULT_KEK_ID)) return 0;
      kv.put(LOG_KEY_ENTRY, next);
      return 1;
    },
  };
}

export class KekReseal {
  readonly #sealer: Sealer;
  readonly #stores: SealedStore[];

  constructor(deps: { sql: SqlStorage; kv: SyncKvStorage; sealer: Sealer; repo: string; logOrigin: string }) {
    const { sql, kv, sealer, repo, logOrigin } = deps;
    this.#sealer = sealer;
    this.#stores = [
      sqlStore(sql, sealer, "online_keys", "keyid", (id) => onlineKeyContext(repo, id)),
      sqlStore(sql, sealer, "registry_credentials", "id", (id) => webhookSecretContext(repo, id)),
      logKeyStore(kv, sealer, logOrigin),
    ];
  }

  /** Where the repository's sealed values stand. Throws a KekError if KEY_ENCRYPTION_KEY is unusable. */
  status(): KekStatus {
    const current = this.#sealer.currentId;
    const sealedUnder: Record<string, number> = {};
    for (const store of this.#stores)
      for (const [id, n] of Object.entries(store.countByKek())) sealedUnder[id] = (sealedUnder[id] ?? 0) + n;
    const remaining = Object.entries(sealedUnder)
      .filter(([id]) => id !== current)
      .reduce((sum, [, n]) => sum + n, 0);
    const unconfigured = Object.keys(sealedUnder)
      .filter((id) => !this.#sealer.has(id))
      .sort();
    return { current, sealedUnder, remaining, unconfigured };
  }

  /**
   * Re-seals up to `budget` values under the current KEK. Refuses (a KekError
   * "kek_unknown", naming the ids) before touching anything if any value is
   * sealed under a KEK that is not configured.
   */
  async step(budget: number): Promise<{ resealed: number; status: KekStatus }> {
    const before = this.status();
    if (before.unconfigured.length > 0) {
      const ids = before.unconfigured.map((id) => `"${id}" (${before.sealedUnder[id]} value(s))`).join(", ");
      throw new KekError(
        "kek_unknown",
        `sealed values name key-encryption key(s) ${ids} that KEY_ENCRYPTION_KEY does not hold: add them back to the key ring before re-sealing`,
      );
    }
    let resealed = 0;
    for (const store of this.#stores) {
      if (resealed >= budget) break;
      resealed += await store.reseal(budget - resealed);
    }
    return { resealed, status: this.status() };
  }
}
