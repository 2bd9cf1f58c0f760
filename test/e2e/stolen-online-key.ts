/**
 * The attacker of the e2e tests who holds a copy of the key-encryption key and
 * of a local instance's storage: reads the active online key's sealed row from
 * the repository's SQLite file and unseals it, as the object would. What a
 * test then signs with it is what a thief of the online key could sign.
 */
import { queryLocalDurableObject } from "../../scripts/lib/local-do-sqlite.ts";
import { onlineKeyContext } from "../../durable-objects/seal-contexts.ts";
import { Sealer } from "../../durable-objects/sealer.ts";
import { Ed25519Signer } from "../../src/tuf/signer.ts";

interface SealedRow {
  keyid: string;
  sealed: Uint8Array;
  iv: Uint8Array;
  kek_id: string;
}

/** The active online key's sealed row, read from the instance's SQLite file behind the Worker's back. */
export async function onlineKeyRow(persistTo: string, repo: string) {
  const [row] = await queryLocalDurableObject<SealedRow>(
    persistTo,
    { className: "Repository", name: repo },
    "SELECT keyid, sealed, iv, kek_id FROM online_keys WHERE state = 'active'",
  );
  if (!row) throw new Error("no active online key");
  return { ...row, sealed: new Uint8Array(row.sealed).buffer, iv: new Uint8Array(row.iv).buffer };
}

/** The repository's actual online signing key, unsealed with `kek` (KEY_ENCRYPTION_KEY as the instance has it). */
export async function stealOnlineKey(persistTo: string, repo: string, kek: string) {
  const row = await onlineKeyRow(persistTo, repo);
  const seed = await new Sealer(kek).unseal(
    { sealed: row.sealed, iv: row.iv, kekId: row.kek_id },
    onlineKeyContext(repo, row.keyid),
  );
  return { row, seed, signer: await Ed25519Signer.fromSeed(seed) };
}
