/**
 * The registries allowed to push to a repository, and their webhook
 * credentials. HMAC secrets are generated here, returned once, and kept
 * sealed; Ed25519 public keys are registered by the registry. Rotating a
 * credential keeps the previous one valid for an overlap period.
 */
import { toBase64, toHex } from "../src/lib/bytes.ts";
import { decodePublicKey, type WebhookCredential } from "../src/webhooks/standard-webhooks.ts";
import { webhookSecretContext } from "./seal-contexts.ts";
import { ReadCache } from "./read-cache.ts";
import type { SealedStateDeps } from "./key-vault.ts";
import type { Sealer } from "./sealer.ts";
import { MAX_CREDENTIALS_PER_REGISTRY } from "../src/schemas/registry-name.ts";

export { MAX_CREDENTIALS_PER_REGISTRY };

export interface CredentialInfo {
  id: string;
  kind: "hmac" | "ed25519";
  createdAt: string;
  /** Set while the credential is being replaced: it stops verifying then. */
  notAfter: string | null;
}

export interface RegistryInfo {
  name: string;
  createdAt: string;
  credentials: CredentialInfo[];
}

interface CredentialRow extends Record<string, SqlStorageValue> {
  id: string;
  registry: string;
  kind: "hmac" | "ed25519";
  public_key: string | null;
  sealed: ArrayBuffer | null;
  iv: ArrayBuffer | null;
  kek_id: string;
  created_at: number;
  not_after: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Registries {
  readonly #sql: SqlStorage;
  readonly #repo: string;
  readonly #sealer: Sealer;
  /** Unsealed credentials, by id. */
  readonly #cache = new Map<string, WebhookCredential>();
  /** Each registry's credential rows, as current() reads them on every push. */
  readonly #credentials = new ReadCache<string, CredentialRow[]>();
  /** sole()'s answer. */
  readonly #sole = new ReadCache<null, string | null>();

  constructor(deps: SealedStateDeps) {
    this.#sql = deps.sql;
    this.#repo = deps.repo;
    this.#sealer = deps.sealer;
  }

  exists(name: string): boolean {
    return this.#sql.exec("SELECT 1 FROM registries WHERE name = ?", name).toArray().length > 0;
  }

  list(): RegistryInfo[] {
    const registries = this.#sql
      .exec<{ name: string; created_at: number }>("SELECT * FROM registries ORDER BY name")
      .toArray();
    return registries.map((r) => ({
      name: r.name,
      createdAt: iso(r.created_at),
      credentials: this.#sql
        .exec<CredentialRow>("SELECT * FROM registry_credentials WHERE registry = +? ORDER BY created_at", r.name)
        .toArray()
        .map((c) => ({
          id: c.id,
          kind: c.kind,
          createdAt: iso(c.created_at),
          notAfter: c.not_after === null ? null : iso(c.not_after),
        })),
    }));
  }

  /**
   * Adds a credential to a registry (creating the registry if new). Existing
   * credentials stay valid for `overlapSeconds`, then stop verifying.
   * Returns the new HMAC secret (the only time it is shown) if one was made.
   */
  async addCredential(
    registry: string,
    credential: { kind: "hmac" } | { kind: "ed25519"; publicKey: string },
    overlapSeconds: number,
    now: number,
  ): Promise<{ credential: CredentialInfo; secret?: string } | { full: number }> {
    const held = this.#sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM registry_credentials WHERE registry = ? AND (not_after IS NULL OR not_after > ?)",
        registry,
        now,
      )
      .one().n;
    if (held >= MAX_CREDENTIALS_PER_REGISTRY) return { full: held };
    const id = toHex(crypto.getRandomValues(new Uint8Array(8)));
    let secret: string | undefined;
    let sealed: { sealed: ArrayBuffer; iv: ArrayBuffer; kekId: string } | null = null;
    let publicKey: string | null = null;
    if (credential.kind === "hmac") {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      secret = `whsec_${toBase64(bytes)}`;
      sealed = await this.#sealer.seal(bytes, webhookSecretContext(this.#repo, id));
    } else {
      decodePublicKey(credential.publicKey); // validates
      publicKey = credential.publicKey;
    }
    this.#changed();
    this.#sql.exec(
      "INSERT INTO registries (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
      registry,
      now,
    );
    this.#sql.exec(
      "UPDATE registry_credentials SET not_after = ? WHERE registry = ? AND (not_after IS NULL OR not_after > ?)",
      now + overlapSeconds * 1000,
      registry,
      now + overlapSeconds * 1000,
    );
    this.#sql.exec(
      "INSERT INTO registry_credentials (id, registry, kind, public_key, sealed, iv, kek_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      id,
      registry,
      credential.kind,
      publicKey,
      sealed?.sealed ?? null,
      sealed?.iv ?? null,
      sealed?.kekId ?? this.#sealer.currentId,
      now,
    );
    const info: CredentialInfo = { id, kind: credential.kind, createdAt: iso(now), notAfter: null };
    return secret ? { credential: info, secret } : { credential: info };
  }

  /** Revokes one credential at once. */
  revoke(registry: string, id: string): boolean {
    this.#cache.delete(id);
    this.#changed();
    return (
      this.#sql
        .exec("DELETE FROM registry_credentials WHERE registry = ? AND id = ? RETURNING id", registry, id)
        .toArray().length > 0
    );
  }

  remove(registry: string): boolean {
    this.#changed();
    for (const row of this.#sql.exec<{ id: string }>(
      "SELECT id FROM registry_credentials WHERE registry = ?",
      registry,
    )) {
      this.#cache.delete(row.id);
    }
    this.#sql.exec("DELETE FROM registry_credentials WHERE registry = ?", registry);
    return this.#sql.exec("DELETE FROM registries WHERE name = ? RETURNING name", registry).toArray().length > 0;
  }

  /** The registry's credentials valid at `now` (at most MAX_CREDENTIALS_PER_REGISTRY). */
  async current(registry: string, now: number): Promise<WebhookCredential[]> {
    // Every credential of the registry is kept in memory between pushes (adding, revoking or removing
    // one drops the copy); which of them are valid is decided here, at `now`, as the query did.
    const rows = this.#credentials
      .get(registry, () =>
        this.#sql.exec<CredentialRow>("SELECT * FROM registry_credentials WHERE registry = ?", registry).toArray(),
      )
      .filter((row) => row.not_after === null || row.not_after > now)
      .slice(0, MAX_CREDENTIALS_PER_REGISTRY);
    return Promise.all(rows.map((row) => this.#credential(row)));
  }

  /** The registry's name when the repository has exactly one (a push may then leave it unnamed). */
  sole(): string | null {
    return this.#sole.get(null, () => {
      const rows = this.#sql.exec<{ name: string }>("SELECT name FROM registries LIMIT 2").toArray();
      const [only, ...others] = rows;
      return only && others.length === 0 ? only.name : null;
    });
  }

  /** Drops what current() and sole() keep: call with every write of the registries or their credentials. */
  #changed(): void {
    this.#credentials.invalidate();
    this.#sole.invalidate();
  }

  async #credential(row: CredentialRow): Promise<WebhookCredential> {
    const cached = this.#cache.get(row.id);
    if (cached) return cached;
    let credential: WebhookCredential;
    if (row.kind === "hmac") {
      if (!row.sealed || !row.iv) throw new Error(`credential ${row.id}: an HMAC credential without its sealed secret`);
      const sealed = { sealed: row.sealed, iv: row.iv, kekId: row.kek_id };
      credential = {
        kind: "hmac",
        secret: await this.#sealer.unseal(sealed, webhookSecretContext(this.#repo, row.id)),
      };
    } else {
      if (!row.public_key) throw new Error(`credential ${row.id}: an Ed25519 credential without its public key`);
      credential = { kind: "ed25519", publicKey: decodePublicKey(row.public_key) };
    }
    this.#cache.set(row.id, credential);
    return credential;
  }
}
