/**
 * One repository's Durable Object: the only writer of its state. Every
 * change is applied here, one at a time, and published by the Publisher;
 * the Worker only reads what this object has stored in R2.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { purgeCached } from "../src/http/edge-cache.ts";
import { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { fromUtf8 } from "../src/tuf/encoding.ts";
import { serialize } from "../src/tuf/metadata.ts";
import {
  type BootstrapRequest,
  failure,
  type OnlineKeyInfo,
  type PublishedVersions,
  type RepositoryStatus,
  type Result,
  type TargetsChange,
} from "../src/repository-api.ts";
import { verifyBootstrapRoot } from "./bootstrap.ts";
import { KeyVault } from "./key-vault.ts";
import { Publisher } from "./publisher.ts";
import { GroupCommit } from "./group-commit.ts";
import { hashBins, loadSettings, saveSettings, type Settings, SettingsSchema } from "./settings.ts";
import { migrate } from "./schema.ts";
import { TargetsIndex } from "./targets-index.ts";

export class Repository extends DurableObject<Env> {
  readonly #name: string;
  readonly #sql: SqlStorage;
  readonly #vault: KeyVault;
  readonly #targets: TargetsIndex;
  readonly #publisher: Publisher;
  readonly #commits: GroupCommit;
  #settings: Settings | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name;
    if (!name) throw new Error("a Repository is addressed by name (idFromName / getByName)");
    this.#name = name;
    this.#sql = ctx.storage.sql;
    this.#vault = new KeyVault(this.#sql, name, env.KEY_ENCRYPTION_KEY);
    this.#targets = new TargetsIndex(this.#sql);
    this.#publisher = new Publisher({
      sql: this.#sql,
      bucket: new RepositoryBucket(env.BUCKET, name),
      targets: this.#targets,
      settings: () => this.#requireSettings(),
      signer: () => this.#activeSigner(),
      now: () => new Date(),
      purge: purgeCached,
    });
    this.#commits = new GroupCommit(this.#publisher, (at) => ctx.storage.setAlarm(at));
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.#sql);
      this.#settings = loadSettings(this.#sql);
    });
  }

  /** The online public key a root must name; generated on first request, before bootstrap. */
  async onlineKey(): Promise<OnlineKeyInfo> {
    const existing = this.#vault.find("active") ?? this.#vault.find("pending");
    const key = existing ?? (await this.#vault.generate("pending"));
    return { keyid: key.keyid, key: key.key };
  }

  /**
   * Bootstrap: verify root v1 (signed by a threshold of its root keys, naming
   * this repository's online key for every online role), then sign and
   * publish every online role. A root that fails any check changes nothing.
   */
  async bootstrap(request: BootstrapRequest): Promise<Result<{ versions: PublishedVersions }>> {
    if (this.#settings) return failure(409, "already_bootstrapped", `repository "${this.#name}" is already bootstrapped`);
    const settings = SettingsSchema.safeParse(request.settings ?? {});
    if (!settings.success) return failure(422, "invalid_settings", z.prettifyError(settings.error));
    const online = this.#vault.find("pending");
    if (!online) return failure(409, "invalid_root", "fetch the online key (GET …/admin/online-key) before bootstrapping");
    const verified = await verifyBootstrapRoot(request.root, online.keyid, new Date());
    if (!verified.ok) return verified;

    // Nothing was written above; from here on one synchronous transaction.
    if (this.#settings) return failure(409, "already_bootstrapped", `repository "${this.#name}" is already bootstrapped`);
    const file = serialize(request.root);
    this.ctx.storage.transactionSync(() => {
      saveSettings(this.#sql, settings.data);
      this.#sql.exec(
        "INSERT INTO roots (version, bytes, expires, published_at) VALUES (1, ?, ?, ?)",
        file.bytes.buffer,
        verified.root.expires,
        Date.now(),
      );
      this.#publisher.roles.create(["targets", ...hashBins(settings.data).names()]);
      this.#vault.setState(online.keyid, "active");
    });
    this.#settings = settings.data;
    const versions = await this.#commits.publish(this.#publisher.roles.nextSeq());
    return { ok: true, versions };
  }

  /** Adds and removes targets as one change, published together. */
  async changeTargets(change: TargetsChange): Promise<Result<{ versions: PublishedVersions; removed: number }>> {
    const settings = this.#settings;
    if (!settings) return failure(409, "not_bootstrapped", `repository "${this.#name}" is not bootstrapped`);
    const bins = hashBins(settings);
    const add = change.add ?? [];
    const withBins = await Promise.all(add.map(async (t) => ({ ...t, bin: await bins.binFor(t.path) })));
    let removed = 0;
    let seq = 0;
    this.ctx.storage.transactionSync(() => {
      seq = this.#publisher.roles.nextSeq();
      for (const path of change.remove ?? []) if (this.#targets.remove(path, seq)) removed++;
      for (const target of withBins) this.#targets.upsert(target, seq);
    });
    const versions = await this.#commits.publish(seq);
    return { ok: true, versions, removed };
  }

  /** A target's stored entry (the Worker resolves sha512-prefixed names with it). */
  async target(path: string): Promise<Result<{ target: { length: number; hashes: Record<string, string> } }>> {
    const target = this.#targets.get(path);
    if (!target) return failure(404, "not_found", `no target "${path}"`);
    return { ok: true, target: { length: target.length, hashes: target.hashes as Record<string, string> } };
  }

  async status(): Promise<RepositoryStatus> {
    const roles = this.#publisher.roles;
    const root = this.#sql
      .exec<{ version: number; expires: string }>("SELECT version, expires FROM roots ORDER BY version DESC LIMIT 1")
      .toArray()[0];
    const role = (name: string) => {
      const r = roles.published(name);
      return r ? { version: r.version, expires: r.expires } : null;
    };
    const firstBin = roles.earliestExpiries(16).find((r) => !["targets", "snapshot", "timestamp"].includes(r.name));
    return {
      repository: this.#name,
      bootstrapped: this.#settings !== null,
      onlineKeyId: this.#vault.find("active")?.keyid ?? null,
      targetsCount: this.#settings ? this.#targets.count() : 0,
      bins: this.#settings?.bins ?? 0,
      roles: {
        root: root ?? null,
        targets: role("targets"),
        snapshot: role("snapshot"),
        timestamp: role("timestamp"),
        bins: firstBin ?? null,
      },
      pendingChanges: roles.hasChanges() || roles.roundActive(),
    };
  }

  /** The latest root's bytes, as served (for operators and tests). */
  async latestRoot(): Promise<string | null> {
    const row = this.#sql.exec<{ bytes: ArrayBuffer }>("SELECT bytes FROM roots ORDER BY version DESC LIMIT 1").toArray()[0];
    return row ? fromUtf8(new Uint8Array(row.bytes)) : null;
  }

  /** Continues a publish round that did not fit in one invocation, or retries a failed one. */
  override async alarm(): Promise<void> {
    await this.#commits.resume();
  }

  #requireSettings(): Settings {
    if (!this.#settings) throw new Error("repository is not bootstrapped");
    return this.#settings;
  }

  async #activeSigner() {
    const active = this.#vault.find("active");
    if (!active) throw new Error("repository has no active online key");
    return this.#vault.signer(active.keyid);
  }
}
