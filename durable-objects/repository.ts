/**
 * One repository's Durable Object: the only writer of its state. Every
 * change is applied here, one at a time, and published by the Publisher;
 * the Worker only reads what this object has stored in R2.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { purgeCached } from "../src/storage/edge-cache.ts";
import { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { fromUtf8, utf8 } from "../src/lib/bytes.ts";
import { type Key, keyId } from "../src/tuf/key.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { addToDirectory } from "../src/storage/repository-directory.ts";
import type { Signature } from "../src/tuf/metadata.ts";
import { serialize } from "../src/tuf/metadata.ts";
import { parseRoot, type Root } from "../src/tuf/root.ts";
import {
  type BootstrapRequest,
  type CeremonyView,
  failure,
  type Failure,
  type OnlineKeyInfo,
  type PublishedVersions,
  type RepositoryStatus,
  type PushResult,
  type Result,
  type SignedPush,
  type TargetsChange,
  type TaskView,
  type AttestationPolicyView,
  type KekStatus,
  type QuarantineView,
  type DelegationSpec,
  type DelegationView,
  type DelegationsView,
} from "../src/repository-api.ts";
import { OfflineQueue } from "./offline-queue.ts";
import { Attestations } from "./attestations.ts";
import { sigstoreTrustStub } from "../src/sigstore-trust-stub.ts";
import { AuditLog, type AuditEvent } from "./audit-log.ts";
import { verifyBootstrapRoot } from "./bootstrap.ts";
import { Ceremonies } from "./ceremonies.ts";
import { Delegations, type OfflineOwners, type OfflineVersion } from "./delegations.ts";
import { describeChange, ProtectedTargets } from "./protected-targets.ts";
import { checkOfflineRole } from "../src/tuf/offline-role.ts";
import { TufError } from "../src/tuf/errors.ts";
import { Freshness } from "./freshness.ts";
import { blockedFailure, GroupCommit, published, type RunOutcome } from "./group-commit.ts";
import { InvocationLog, R2Meter } from "./invocation-budget.ts";
import { KeyVault } from "./key-vault.ts";
import { Scheduler } from "./scheduler.ts";
import { OFFLINE_EXPIRY_WARNING_MS, repositoryStatus } from "./status.ts";
import { KekError, Sealer } from "./sealer.ts";
import { KekReseal } from "./kek-reseal.ts";
import { Publisher } from "./publisher.ts";
import { ROUND_ROLES } from "./role-table.ts";
import { Pushes, type UploadAuthorization, type UploadRequest } from "./pushes.ts";
import { StagedUploads } from "./staged-uploads.ts";
import type { StagedUpload } from "../src/repository-api.ts";
import { type CredentialInfo, MAX_CREDENTIALS_PER_REGISTRY, Registries, type RegistryInfo } from "./registries.ts";
import { migrate } from "./schema.ts";
import { type Actor, type BinnedEvent, TargetEvents } from "./target-events.ts";
import { Quarantine } from "./quarantine.ts";
import { RepositoryMetrics } from "./metrics.ts";
import type { MetricFamily } from "../src/metrics/prometheus.ts";
import { PublicDocuments } from "./public-documents.ts";
import { SiteDocuments } from "./site-documents.ts";
import { hashBins, loadSettings, saveSettings, type Settings, SettingsSchema } from "./settings.ts";
import { TargetsIndex } from "./targets-index.ts";
import { RootHistory } from "./root-history.ts";
import { type InclusionProof, TransparencyLog } from "./transparency-log.ts";

/** Runs `fn`, turning a KekError into the refusal it stands for (other faults are thrown). */
async function kekResult<T extends object>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (error) {
    if (error instanceof KekError)
      return failure(error.code === "kek_not_configured" ? 503 : 409, error.code, error.message);
    throw error;
  }
}

type CeremonyResult = { ok: true; ceremony: CeremonyView } | Failure;

/** An applied change: the versions that carry it, and the offline roles whose owners must sign part of it. */
interface AppliedChange {
  versions: PublishedVersions;
  removed: number;
  pending: boolean;
  awaitingOwners: string[];
}

export class Repository extends DurableObject<Env> {
  readonly #name: string;
  readonly #sql: SqlStorage;
  readonly #sealer: Sealer;
  readonly #bucket: RepositoryBucket;
  readonly #vault: KeyVault;
  readonly #targets: TargetsIndex;
  readonly #publisher: Publisher;
  readonly #commits: GroupCommit;
  readonly #freshness: Freshness;
  readonly #audit: AuditLog;
  /** The binary-transparency log (not to be confused with the audit log). */
  readonly #tlog: TransparencyLog;
  readonly #roots: RootHistory;
  readonly #ceremonies: Ceremonies;
  readonly #registries: Registries;
  readonly #targetEvents: TargetEvents;
  readonly #attestations: Attestations;
  readonly #pushes: Pushes;
  readonly #staged: StagedUploads;
  readonly #scheduler: Scheduler;
  readonly #kekReseal: KekReseal;
  readonly #quarantine: Quarantine;
  readonly #metrics: RepositoryMetrics;
  readonly #site: SiteDocuments;
  readonly #documents: PublicDocuments;
  readonly #delegations: Delegations;
  readonly #offlineQueue: OfflineQueue;
  readonly #protectedTargets: ProtectedTargets;
  /** Counts R2 operations, for the per-invocation budget (invocation-budget.ts). */
  readonly #r2 = new R2Meter();
  readonly #invocations: InvocationLog;
  #settings: Settings | null = null;
  #trustedRoot: Root | null = null;
  /** Whether this object has seen its entry in the directory of repositories. */
  #listed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name;
    if (!name) throw new Error("a Repository is addressed by name (idFromName / getByName)");
    this.#name = name;
    this.#sql = ctx.storage.sql;
    this.#sealer = new Sealer(env.KEY_ENCRYPTION_KEY);
    this.#vault = new KeyVault({ sql: this.#sql, repo: name, sealer: this.#sealer });
    this.#targets = new TargetsIndex(this.#sql);
    this.#audit = new AuditLog(this.#sql, name);
    this.#roots = new RootHistory(this.#sql);
    this.#tlog = new TransparencyLog({
      sql: this.#sql,
      kv: ctx.storage.kv,
      sealer: this.#sealer,
      origin: `${env.LOG_ORIGIN}/${name}`,
    });
    this.#bucket = new RepositoryBucket(this.#r2.wrap(env.BUCKET), name);
    this.#invocations = new InvocationLog(ctx.storage.kv);
    this.#metrics = new RepositoryMetrics(ctx.storage.kv, name);
    this.#delegations = new Delegations({
      sql: this.#sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      topBins: () => hashBins(this.#requireSettings()),
    });
    this.#offlineQueue = new OfflineQueue({
      sql: this.#sql,
      kv: ctx.storage.kv,
      audit: this.#audit,
      delegations: this.#delegations,
    });
    this.#publisher = new Publisher({
      sql: this.#sql,
      bucket: this.#bucket,
      targets: this.#targets,
      roots: this.#roots,
      settings: () => this.#requireSettings(),
      signer: () => this.#activeSigner(),
      now: () => new Date(),
      purge: purgeCached,
      log: this.#tlog,
      repo: name,
      delegations: this.#delegations,
      committed: (versions, seq) => this.#pushes.recordPublished(versions, seq),
      rounds: {
        started: (roles) => this.#metrics.roundStarted(Date.now(), roles),
        published: (versions, files) => this.#metrics.roundPublished(Date.now(), versions, files),
      },
    });
    this.#commits = new GroupCommit({
      publisher: this.#publisher,
      budget: () => this.#requireSettings().binsPerInvocation,
      afterRun: (result) => this.#afterPublishRun(result),
      scheduleNow: () => ctx.storage.setAlarm(Date.now()),
      meter: this.#r2,
      spent: this.#invocations,
    });
    this.#freshness = new Freshness(this.#sql, this.#publisher.roles);
    this.#protectedTargets = new ProtectedTargets({
      sql: this.#sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      delegations: this.#delegations,
      roles: this.#publisher.roles,
      bucket: this.#bucket,
      settings: () => this.#requireSettings(),
      now: () => new Date(),
      ownTargets: () => this.#publisher.storeLogVerifierTarget(),
    });
    this.#ceremonies = new Ceremonies({
      sql: this.#sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      vault: this.#vault,
      audit: this.#audit,
      roots: this.#roots,
      settings: () => this.#requireSettings(),
      now: () => new Date(),
      trustedRoot: () => this.#loadTrustedRoot(),
      onRootAccepted: (rotated, version, sha256) => this.#onRootAccepted(rotated, version, sha256),
      targets: this.#protectedTargets,
      onlineKey: () => {
        const active = this.#vault.find("active");
        if (!active) throw new Error("repository has no active online key");
        return active;
      },
      offlineFirst: (spec) => this.#offlineFirst(spec),
      nextSeq: () => this.#publisher.roles.nextSeq(),
    });
    this.#registries = new Registries({ sql: this.#sql, repo: name, sealer: this.#sealer });
    this.#kekReseal = new KekReseal({
      sql: this.#sql,
      kv: ctx.storage.kv,
      sealer: this.#sealer,
      repo: name,
      logOrigin: this.#tlog.origin,
    });
    this.#attestations = new Attestations({
      sql: this.#sql,
      kv: ctx.storage.kv,
      repo: name,
      sigstoreTrust: (known) => sigstoreTrustStub(env).current(known),
    });
    this.#quarantine = new Quarantine({
      sql: this.#sql,
      index: this.#targets,
      log: this.#tlog,
      audit: this.#audit,
      bucket: this.#bucket,
      repo: name,
      purge: purgeCached,
      publishLog: (seq) => this.#publisher.roles.markDirty(ROUND_ROLES, seq),
    });
    this.#documents = new PublicDocuments({
      sql: this.#sql,
      kv: ctx.storage.kv,
      bucket: this.#bucket,
      repo: name,
      attestations: this.#attestations,
      flavour: () => this.#attestations.policy().flavour,
      quarantined: (path) => this.#quarantine.has(path),
    });
    this.#staged = new StagedUploads(this.#sql, this.#bucket);
    this.#targetEvents = new TargetEvents({
      sql: this.#sql,
      index: this.#targets,
      log: this.#tlog,
      attestations: this.#attestations,
      repo: name,
      quarantine: this.#quarantine,
      staged: this.#staged,
      offline: this.#offlineQueue,
    });
    this.#pushes = new Pushes({
      sql: this.#sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      repo: name,
      registries: this.#registries,
      events: this.#targetEvents,
      roles: this.#publisher.roles,
      assign: (path) => this.#delegations.assign(path),
      publish: async (seq) => {
        await this.#settleQuarantine();
        return this.#withDocuments(published(this.#commits.publish(seq)));
      },
      publishSoon: async () => {
        await this.#settleQuarantine();
        await this.#commits.publishSoon();
      },
      lastFailure: () => this.#scheduler.lastFailure()?.detail ?? null,
      index: this.#targets,
      attestations: this.#attestations,
      bucket: this.#bucket,
      staged: this.#staged,
      awaitingOwners: (taskId) => this.#offlineQueue.awaiting(taskId),
    });
    this.#scheduler = new Scheduler({
      storage: ctx.storage,
      roles: this.#publisher.roles,
      freshness: this.#freshness,
      ceremonies: this.#ceremonies,
      vault: this.#vault,
      audit: this.#audit,
      trustedRoot: () => this.#loadTrustedRoot(),
      offlineTargetsExpiry: () =>
        this.#delegations.targetsOffline() ? (this.#publisher.roles.published("targets")?.expires ?? null) : null,
      openTargetsRefresh: () => this.#openTargetsChange(() => this.#ceremonies.openTargetsChange({ op: "refresh" })),
    });
    this.#site = new SiteDocuments({
      sql: this.#sql,
      kv: ctx.storage.kv,
      bucket: this.#bucket,
      log: this.#tlog,
      status: () => this.#status(),
    });
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.#sql);
      this.#settings = loadSettings(this.#sql);
    });
  }

  /**
   * The online public key a root must name; generated on first request, before
   * bootstrap. This (authenticated) call is what creates a repository: it is
   * added to the directory that unauthenticated requests are checked against.
   */
  async onlineKey(): Promise<OnlineKeyInfo> {
    await this.#inDirectory();
    const existing = this.#vault.find("active") ?? this.#vault.find("pending");
    const key = existing ?? (await this.#vault.generate("pending"));
    await this.#documents.step(); // the attestation documents' index: the repository has none yet
    return { keyid: key.keyid, key: key.key };
  }

  /**
   * Bootstrap: verify root v1 (signed by a threshold of its root keys, naming
   * this repository's online key for every online role), then sign and
   * publish every online role. A root that fails any check changes nothing.
   */
  async bootstrap(request: BootstrapRequest): Promise<Result<{ versions: PublishedVersions }>> {
    if (this.#settings)
      return failure(409, "already_bootstrapped", `repository "${this.#name}" is already bootstrapped`);
    const settings = SettingsSchema.safeParse(request.settings ?? {});
    if (!settings.success) return failure(422, "invalid_settings", z.prettifyError(settings.error));
    await this.#inDirectory();
    const online = this.#vault.find("pending");
    if (!online)
      return failure(409, "invalid_root", "fetch the online key (GET …/admin/online-key) before bootstrapping");
    const verified = await verifyBootstrapRoot(request.root, online.keyid, new Date());
    if (!verified.ok) return verified;

    const file = serialize(request.root);
    const rootSha256 = await sha256Hex(file.bytes);
    // Nothing was written above (and another bootstrap may have won meanwhile);
    // from here on one synchronous transaction.
    if (this.#settings)
      return failure(409, "already_bootstrapped", `repository "${this.#name}" is already bootstrapped`);
    this.ctx.storage.transactionSync(() => {
      this.#tlog.append({ type: "root.change", repository: this.#name, version: 1, sha256: rootSha256 });
      saveSettings(this.#sql, settings.data);
      this.#roots.add(1, file.bytes, verified.root.expires, Date.now());
      this.#publisher.roles.create(["targets", ...hashBins(settings.data).names()]);
      this.#vault.setState(online.keyid, "active");
      this.#audit.record("bootstrapped", `root 1 with ${settings.data.bins} bins`, { keyid: online.keyid });
    });
    this.#settings = settings.data;
    const result = await published(this.#commits.publish(this.#publisher.roles.nextSeq()));
    // What health and the pages read, before the repository is reported bootstrapped.
    await this.#site.publishSoon();
    return result;
  }

  /**
   * The operator's change: adds and removes targets as one change, published
   * together. Same rules as registry pushes, except that removing an unknown
   * path is ignored (and not counted).
   */
  async changeTargets(change: TargetsChange, options: { wait?: boolean } = {}): Promise<Result<AppliedChange>> {
    const settings = this.#bootstrappedSettings();
    if ("ok" in settings) return settings;
    const blocked = await this.#publishingBlocked();
    if (blocked) return blocked;
    const assign = this.#delegations.assigner();
    const events: BinnedEvent[] = [
      ...(change.remove ?? []).map((path) => ({ type: "targets.remove" as const, path, ...assign(path) })),
      ...(change.add ?? []).map((t) => ({ type: "targets.add" as const, ...t, ...assign(t.path) })),
    ];
    return this.#applyEvents(events, "operator", options);
  }

  /**
   * The operator's quarantine actions: quarantine a listed target, release a
   * quarantined one, or remove it for good. `by` names the operator in the audit log.
   */
  async changeQuarantine(
    change:
      | { type: "targets.quarantine"; path: string; reason: string; reference?: string }
      | { type: "targets.release" | "targets.remove"; path: string },
    by?: string,
  ): Promise<Result<AppliedChange>> {
    const settings = this.#bootstrappedSettings();
    if ("ok" in settings) return settings;
    if (change.type === "targets.remove" && !this.#quarantine.held(change.path))
      return failure(409, "not_quarantined", `"${change.path}" is not quarantined`);
    const event = { ...change, ...this.#delegations.assign(change.path) } as BinnedEvent;
    return this.#applyEvents([event], by ? `operator (${by})` : "operator", {});
  }

  /** Quarantined targets, for operators. */
  async quarantined(): Promise<QuarantineView[]> {
    return this.#quarantine.list();
  }

  /** A quarantined target's kept bytes, for review (admin only). */
  async quarantinedFile(path: string): Promise<ReadableStream | null> {
    return (await this.#quarantine.file(path))?.body ?? null;
  }

  /** Applies checked events in one transaction (accepting staged upload `uploadId` in it, if given), then publishes. */
  async #applyEvents(
    events: BinnedEvent[],
    actor: Actor,
    options: { wait?: boolean },
    uploadId?: string,
  ): Promise<Result<AppliedChange>> {
    await this.#targetEvents.prepare(events);
    const applied = this.ctx.storage.transactionSync(() => {
      const refused = this.#targetEvents.check(events, { lenientRemove: true });
      if (refused) return refused;
      const seq = this.#publisher.roles.nextSeq();
      if (uploadId) this.#staged.accepted(uploadId);
      return { ok: true as const, seq, ...this.#targetEvents.apply(events, seq, actor) };
    });
    this.#targetEvents.finish(events);
    if (!applied.ok) {
      await this.#settleQuarantine();
      return applied;
    }
    await this.#settleQuarantine();
    const { awaitingOwners } = applied;
    if (options.wait === false) {
      // Stored and durable; the publish follows (group commit), and failures are retried.
      await this.#commits.publishSoon();
      return {
        ok: true,
        versions: this.#publisher.versions(),
        removed: applied.removed,
        pending: true,
        awaitingOwners,
      };
    }
    const result = await this.#withDocuments(published(this.#commits.publish(applied.seq)));
    return result.ok ? { ...result, removed: applied.removed, pending: false, awaitingOwners } : result;
  }

  /**
   * The operator's upload, before any byte is stored: checks that the target
   * may be added with these bytes and reserves the path for them (the Worker
   * then stages the bytes; see staged-uploads.ts).
   */
  async reserveUpload(target: {
    path: string;
    length: number;
    sha256: string;
  }): Promise<Result<{ upload: StagedUpload }>> {
    const settings = this.#bootstrappedSettings();
    if ("ok" in settings) return settings;
    const { path, length, sha256 } = target;
    const refused =
      (await this.#publishingBlocked()) ??
      this.#targetEvents.check([
        { type: "targets.add", path, length, hashes: { sha256 }, ...this.#delegations.assign(path) },
      ]);
    if (refused) return refused;
    return { ok: true, upload: this.#staged.reserve(path, length, sha256, Date.now()) };
  }

  /** Accepts the operator's staged upload: its bytes go to their content address, then the target is listed and published. */
  async completeReservedUpload(
    uploadId: string,
  ): Promise<Result<{ versions: PublishedVersions; awaitingOwners: string[] }>> {
    const upload = this.#staged.get(uploadId);
    if (!upload) return failure(409, "upload_expired", `upload ${uploadId} is not in progress; send it again`);
    if (!(await this.#staged.promote(upload))) {
      await this.#staged.discard(upload);
      return failure(409, "upload_expired", `upload ${uploadId} has no staged bytes; send it again`);
    }
    const { path, length, sha256 } = upload;
    const add = { type: "targets.add" as const, path, length, hashes: { sha256 }, ...this.#delegations.assign(path) };
    const result = await this.#applyEvents([add], "operator", {}, upload.id);
    if (!result.ok) await this.#staged.discard(upload);
    return result.ok ? { ok: true, versions: result.versions, awaitingOwners: result.awaitingOwners } : result;
  }

  /** Discards an upload whose bytes could not be staged (or were refused): nothing of it stays. */
  async abandonUpload(uploadId: string): Promise<void> {
    const upload = this.#staged.get(uploadId);
    if (upload) await this.#staged.discard(upload);
  }

  // --- delegations ------------------------------------------------------------

  async delegations(): Promise<DelegationView[]> {
    return this.#offlineQueue.annotate(this.#delegations.list());
  }

  /**
   * The draft of offline role `name`'s next version (an OfflineDraftView, as JSON text), for its owners to sign:
   * the published targets with the changes waiting for them applied
   * (offline-queue.ts says when a draft is made again and when it is frozen).
   */
  async delegationDraft(name: string): Promise<Result<{ draft: string }>> {
    const settings = this.#bootstrappedSettings();
    if ("ok" in settings) return settings;
    const owners = this.#offlineOwners(name);
    if ("ok" in owners) return owners;
    const draft = await this.#offlineQueue.draft(name, owners, new Date(), settings.expiry.targets);
    return "ok" in draft ? draft : { ok: true, draft: JSON.stringify(draft) };
  }

  /**
   * An owner's signature over the draft named by `sha256`: collected, and
   * once the role's threshold is met the version is assembled, checked like
   * a version the owners submit whole, and published before the answer (the
   * changes it carries leave the queue; their tasks are published with it).
   */
  async signDelegationDraft(
    name: string,
    sha256: string,
    signature: { keyid: string; sig: string },
  ): Promise<Result<{ draft: string; published: { version: number; versions: PublishedVersions } | null }>> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const owners = this.#offlineOwners(name);
    if ("ok" in owners) return owners;
    const collected = await this.#offlineQueue.collect(name, owners, sha256, signature);
    if ("ok" in collected) return collected;
    const { outcome, store } = collected;
    if (!outcome.complete) {
      const refused = this.ctx.storage.transactionSync(store);
      if (refused) return refused;
      this.#audit.record(
        "delegation-draft-signed",
        `${name} version ${outcome.draft.version}: ${outcome.draft.signatures.length} of ${owners.threshold} signatures (sha256 ${sha256})`,
        { keyid: signature.keyid },
      );
      return { ok: true, draft: JSON.stringify(outcome.draft), published: null };
    }
    const next = await checkedOffline(name, owners, outcome.envelope, this.#delegations.current(name));
    if ("ok" in next) return next;
    const seq = this.#publisher.roles.nextSeq();
    const refused = this.#delegations.submit(name, next, owners, seq, Date.now(), () => {
      const stale = store();
      if (!stale) this.#offlineQueue.settle(name, outcome.through, seq);
      return stale;
    });
    if (refused) return refused;
    this.#audit.record(
      "delegation-signed",
      `${name} version ${next.checked.version} (${Object.keys(next.checked.targets).length} targets), expires ${next.checked.expires}: the draft's signatures met the threshold (${outcome.draft.changes.length} pending change(s) published)`,
      { keyid: signature.keyid },
    );
    const result = await published(this.#commits.publish(seq));
    if (!result.ok) return result;
    return {
      ok: true,
      draft: JSON.stringify(outcome.draft),
      published: { version: next.checked.version, versions: result.versions },
    };
  }

  /** The owners of offline delegation `name`, or why it has none. */
  #offlineOwners(name: string): OfflineOwners | Failure {
    const owners = this.#delegations.owners(name);
    if (owners) return owners;
    const exists = this.#delegations.list().some((d) => d.name === name);
    return exists
      ? failure(409, "online_delegation", `delegation "${name}" is signed online: the service signs it`)
      : failure(404, "not_found", `no delegation "${name}"`);
  }

  /**
   * Adds an online delegation (docs/operators.md "Delegations"): published
   * before the answer, with the targets it claims moved into it.
   */
  async addDelegation(
    spec: DelegationSpec,
  ): Promise<Result<{ delegation: DelegationView; versions: PublishedVersions }> | CeremonyResult> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const offline = spec.signing === "offline" ? await this.#offlineFirst(spec) : undefined;
    if (offline && "ok" in offline) return offline;
    // Protected mode: a change of what targets delegates waits for its key holders (a ceremony).
    if (spec.parent === "targets" && this.#protectedTargets.active()) {
      return this.#openTargetsChange(() => this.#ceremonies.openTargetsChange({ op: "add", spec }, offline));
    }
    const seq = this.#publisher.roles.nextSeq();
    const added = this.#delegations.add(spec, seq, Date.now(), offline);
    if ("ok" in added) return added;
    const where = spec.paths
      ? `paths ${spec.paths.join(" ")}`
      : `path_hash_prefixes ${spec.path_hash_prefixes?.join(" ")}`;
    this.#audit.record(
      "delegation-added",
      `${spec.name} under ${spec.parent}: ${where}${spec.terminating ? ", terminating" : ""}${spec.bins ? `, ${spec.bins} bins` : ""}${offline ? `, offline (${offline.owners.threshold} of ${spec.keys?.length} keys), version 1` : ""}`,
    );
    const result = await published(this.#commits.publish(seq));
    if (!result.ok) return result;
    const delegation = this.#delegations.list().find((d) => d.name === spec.name) as DelegationView;
    return { ok: true, delegation, versions: result.versions };
  }

  /** An offline delegation's owners (keyids computed) and its version 1, checked; or why not. */
  async #offlineFirst(spec: DelegationSpec): Promise<Failure | { owners: OfflineOwners; first: OfflineVersion }> {
    const keys: Record<string, Key> = {};
    for (const key of spec.keys ?? []) {
      const { keytype, scheme, keyval } = key;
      keys[await keyId(key)] = { keytype, scheme, keyval: { public: keyval.public } };
    }
    const owners = { keys, threshold: spec.threshold ?? 1 };
    if (Object.keys(keys).length !== spec.keys?.length) {
      return failure(422, "invalid_request", "each of an offline delegation's keys is listed once");
    }
    const first = await checkedOffline(spec.name, owners, utf8(spec.metadata ?? ""), 0);
    return "ok" in first ? first : { owners, first };
  }

  /**
   * An offline delegation's next version, signed by its owners
   * (docs/operators.md §12): checked, stored as it is, and published before
   * the answer (the snapshot lists it; the transparency log records it).
   */
  async submitDelegationMetadata(
    name: string,
    bytes: Uint8Array,
  ): Promise<Result<{ version: number; versions: PublishedVersions }>> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const owners = this.#offlineOwners(name);
    if ("ok" in owners) return owners;
    const next = await checkedOffline(name, owners, bytes, this.#delegations.current(name));
    if ("ok" in next) return next;
    const seq = this.#publisher.roles.nextSeq();
    const refused = this.#delegations.submit(name, next, owners, seq, Date.now());
    if (refused) return refused;
    this.#audit.record(
      "delegation-signed",
      `${name} version ${next.checked.version} (${Object.keys(next.checked.targets).length} targets), expires ${next.checked.expires}`,
    );
    const result = await published(this.#commits.publish(seq));
    return result.ok ? { ok: true, version: next.checked.version, versions: result.versions } : result;
  }

  /** Removes a delegation with no nested ones; its targets go to whichever role claims them now. */
  async removeDelegation(name: string): Promise<Result<{ versions: PublishedVersions }> | CeremonyResult> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const waiting = this.#offlineQueue.pendingCount(name);
    if (waiting > 0) {
      // Their pushes were accepted for the owners to sign; dropping them silently would lose acknowledged changes.
      return failure(
        409,
        "pending_changes",
        `delegation "${name}" has ${waiting} change(s) waiting for its owners: have them sign the draft (tuf-edge delegation draft ${name}) before removing it`,
      );
    }
    const parent = this.#delegations.list().find((d) => d.name === name)?.parent;
    if (parent === "targets" && this.#protectedTargets.active()) {
      return this.#openTargetsChange(() => this.#ceremonies.openTargetsChange({ op: "remove", name }));
    }
    const seq = this.#publisher.roles.nextSeq();
    const removed = this.#delegations.remove(name, seq);
    if ("ok" in removed) return removed;
    this.#audit.record("delegation-removed", name);
    const result = await published(this.#commits.publish(seq));
    return result.ok ? { ok: true, versions: result.versions } : result;
  }

  /** The delegations, how `targets` is signed, and the open ceremony that would change it (for operators). */
  async delegationsOverview(): Promise<Result<DelegationsView>> {
    const ready = this.#requireBootstrapped();
    if (ready) return ready;
    this.#ceremonies.expireStale();
    const trusted = await this.#loadTrustedRoot();
    const published = (name: string) => this.#publisher.roles.published(name);
    const targets = published("targets");
    const open = this.#ceremonies.book.current();
    return {
      ok: true,
      delegations: this.#offlineQueue.annotate(this.#delegations.list()).map((d) => {
        const role = published(d.name);
        return { ...d, ...(role ? { version: d.version ?? role.version, expires: role.expires } : {}) };
      }),
      targets: {
        signing: this.#protectedTargets.active() ? "offline" : "online",
        version: targets?.version ?? 0,
        expires: targets?.expires ?? null,
        keyids: trusted.roles.targets.keyids,
        threshold: trusted.roles.targets.threshold,
      },
      pending:
        open?.targetsDraft && open.state === "awaiting-signatures"
          ? [
              {
                id: open.id,
                kind: open.kind,
                change: describeChange(open.change),
                expiresAt: new Date(open.expiresAt).toISOString(),
              },
            ]
          : [],
    };
  }

  /** Opens a ceremony that changes targets (protected mode) and re-arms the alarm for its expiry. */
  async #openTargetsChange(open: () => Promise<CeremonyResult>): Promise<CeremonyResult> {
    const result = await open();
    if (result.ok) {
      this.#audit.record("delegation-change-proposed", result.ceremony.targets?.change ?? "", {
        ceremonyId: result.ceremony.id,
      });
      await this.#scheduler.arm(this.#requireSettings());
    }
    return result;
  }

  // --- registries and their pushes ----------------------------------------------

  async registries(): Promise<RegistryInfo[]> {
    return this.#registries.list();
  }

  /** Adds a webhook credential (a new registry, or a rotation with an overlap). */
  async addRegistryCredential(
    name: string,
    credential: { kind: "hmac" } | { kind: "ed25519"; publicKey: string },
    overlapSeconds: number,
  ): Promise<Result<{ credential: CredentialInfo; secret?: string }>> {
    const ready = this.#requireBootstrapped();
    if (ready) return ready;
    const added = await this.#registries.addCredential(name, credential, overlapSeconds, Date.now());
    if ("full" in added) {
      return failure(
        409,
        "too_many_credentials",
        `registry ${name} holds ${added.full} credentials (at most ${MAX_CREDENTIALS_PER_REGISTRY}, counting those in their overlap): revoke one first`,
      );
    }
    this.#audit.record(
      "registry-credential-added",
      `${credential.kind} credential ${added.credential.id} for registry ${name}`,
    );
    return { ok: true, ...added };
  }

  async revokeRegistryCredential(name: string, id: string): Promise<Result<{ revoked: true }>> {
    if (!this.#registries.revoke(name, id))
      return failure(404, "not_found", `registry ${name} has no credential ${id}`);
    this.#audit.record("registry-credential-revoked", `credential ${id} of registry ${name}`);
    return { ok: true, revoked: true };
  }

  async removeRegistry(name: string): Promise<Result<{ removed: true }>> {
    if (!this.#registries.remove(name)) return failure(404, "not_found", `no registry ${name}`);
    this.#audit.record("registry-removed", `registry ${name}`);
    return { ok: true, removed: true };
  }

  /** A registry's signed batch of target events. */
  async receivePush(push: SignedPush): Promise<PushResult | Failure> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    return this.#countPush(await this.#pushes.receive(push, Date.now()));
  }

  /** Checks a signed upload before its bytes are streamed into R2. */
  async authorizeUpload(push: SignedPush, request: UploadRequest): Promise<UploadAuthorization> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const authorized = await this.#pushes.authorizeUpload(push, request, Date.now());
    if (!authorized.ok) this.#countPush(authorized);
    return authorized;
  }

  /** Lists an uploaded target once its bytes are staged (`uploadId` null: a redelivery, answered with its task). */
  async completeUpload(push: SignedPush, registry: string, uploadId: string | null): Promise<PushResult | Failure> {
    return this.#countPush(await this.#pushes.completeUpload(push, registry, uploadId, Date.now()));
  }

  #countPush<R extends PushResult | Failure>(result: R): R {
    if (result.ok) this.#metrics.push(result.task.registry, null);
    else this.#metrics.push(null, { status: result.status, code: result.code });
    return result;
  }

  async task(id: string): Promise<Result<{ task: TaskView }>> {
    const task = this.#pushes.task(id);
    return task ? { ok: true, task } : failure(404, "not_found", `no task ${id}`);
  }

  /** A target's stored entry (the Worker resolves sha512-prefixed names with it). */
  async target(path: string): Promise<Result<{ target: { length: number; hashes: Record<string, string> } }>> {
    const target = this.#targets.get(path);
    if (!target) return failure(404, "not_found", `no target "${path}"`);
    return { ok: true, target: { length: target.length, hashes: target.hashes as Record<string, string> } };
  }

  /**
   * Re-signs whatever is due (bounded per invocation), opens scheduled
   * ceremonies, and re-arms the alarm. Called by the alarm and by the cron.
   */
  async refresh(): Promise<{ resigned: string[] }> {
    const settings = this.#settings;
    if (!settings) return { resigned: [] };
    const now = new Date();
    await this.#inDirectory(); // repositories created before the directory existed are added by the cron
    this.#pushes.prune(now.getTime());
    await this.#settleQuarantine();
    await this.#staged.sweep(now.getTime());
    await this.#scheduler.openDueCeremonies(settings, now);
    let resigned: string[] = [];
    this.ctx.storage.transactionSync(() => {
      resigned = this.#freshness.markDue(settings, now, this.#publisher.roles.nextSeq());
    });
    this.#metrics.resigned(resigned);
    this.#offlineQueue.remindExpiring(now.getTime(), OFFLINE_EXPIRY_WARNING_MS);
    await this.#documents.step();
    await this.#commits.resume();
    // What health reads follows each tick, e.g. a signing key found not to unseal since a restart.
    await this.#site.publishStatus();
    return { resigned };
  }

  override async alarm(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      await this.#scheduler.failed("refresh-failed", error);
    }
  }

  // --- ceremonies -----------------------------------------------------------

  async openRotation(options: { reason?: string; emergency?: boolean } = {}): Promise<CeremonyResult> {
    const ready = this.#requireBootstrapped();
    if (ready) return ready;
    const result = await this.#ceremonies.openRotation(options.reason ?? "requested by an operator", options.emergency);
    await this.#scheduler.arm(this.#requireSettings());
    return result;
  }

  async openRootChange(signed: unknown): Promise<CeremonyResult> {
    const ready = this.#requireBootstrapped();
    if (ready) return ready;
    const result = await this.#ceremonies.openRootChange(signed);
    await this.#scheduler.arm(this.#requireSettings());
    return result;
  }

  async openRootRefresh(): Promise<CeremonyResult> {
    const ready = this.#requireBootstrapped();
    if (ready) return ready;
    return this.#ceremonies.openRootRefresh("requested by an operator");
  }

  /**
   * Opens protected-delegations mode (docs/operators.md §12): root N+1 names
   * `keys` for targets (default: the root keys and threshold) and the first
   * offline targets is drafted beside it.
   */
  async openProtectDelegations(options: { keys?: Key[]; threshold?: number } = {}): Promise<CeremonyResult> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    const trusted = await this.#loadTrustedRoot();
    const keys: Record<string, Key> = {};
    if (options.keys) {
      for (const key of options.keys) {
        const { keytype, scheme, keyval } = key;
        keys[await keyId(key)] = { keytype, scheme, keyval: { public: keyval.public } };
      }
      if (Object.keys(keys).length !== options.keys.length)
        return failure(422, "invalid_request", "each key that signs targets is listed once");
    } else {
      for (const keyid of trusted.roles.root.keyids) keys[keyid] = trusted.keys[keyid] as Key;
    }
    const threshold = options.threshold ?? (options.keys ? 1 : trusted.roles.root.threshold);
    if (threshold > Object.keys(keys).length)
      return failure(422, "invalid_request", "the threshold is at most the number of keys that sign targets");
    const result = await this.#ceremonies.openProtect(keys, threshold);
    if (result.ok) await this.#scheduler.arm(this.#requireSettings());
    return result;
  }

  /** In protected mode: the same targets with a later expiry, for its key holders to sign. */
  async openTargetsRefresh(): Promise<CeremonyResult> {
    const ready = this.#requireBootstrapped() ?? (await this.#publishingBlocked());
    if (ready) return ready;
    return this.#openTargetsChange(() => this.#ceremonies.openTargetsChange({ op: "refresh" }));
  }

  async ceremonies(): Promise<CeremonyView[]> {
    this.#ceremonies.expireStale();
    return Promise.all(this.#ceremonies.book.list(50).map((c) => this.#ceremonies.view(c.id)));
  }

  async ceremony(id: string): Promise<CeremonyResult> {
    this.#ceremonies.expireStale();
    if (!this.#ceremonies.book.get(id)) return failure(404, "not_found", `no ceremony ${id}`);
    return { ok: true, ceremony: await this.#ceremonies.view(id) };
  }

  /** Adds a root key holder's signature; when complete, publishes the new root (and waits for it). */
  async signCeremony(id: string, signature: Signature): Promise<CeremonyResult & { versions?: PublishedVersions }> {
    const before = this.#publisher.roles.nextSeq();
    const result = await this.#ceremonies.sign(id, signature);
    if (!result.ok || result.ceremony.state !== "published") return result;
    this.#trustedRoot = null;
    const publish = await published(this.#commits.publish(before + 1));
    return publish.ok ? { ...result, versions: publish.versions } : publish;
  }

  async cancelCeremony(id: string, reason: string): Promise<CeremonyResult> {
    return this.#ceremonies.cancel(id, reason);
  }

  // --- attestations -------------------------------------------------------------

  async attestationPolicy(): Promise<AttestationPolicyView> {
    return this.#attestations.policyView();
  }

  async setAttestationPolicy(policy: unknown): Promise<Result<{ policy: AttestationPolicyView }>> {
    const before = this.#attestations.policy().flavour;
    const result = this.#attestations.setPolicy(policy);
    if ("ok" in result) return result;
    this.#audit.record("attestation-policy-set", `flavour ${result.flavour}`);
    // Another flavour answers other routes: every attestation's documents are written again.
    if (result.flavour !== before) this.#documents.rewriteAll();
    await this.#documents.step();
    if (this.#settings) await this.#scheduler.arm(this.#settings, this.#documents.wantsAnotherStep());
    return { ok: true, policy: this.#attestations.policyView() };
  }

  // --- the transparency log ---------------------------------------------------

  /** An inclusion proof for entry `index` (or the latest entry about `path`) in the tree of `size` (default: the published size). */
  async logInclusion(query: {
    index?: number;
    path?: string;
    size?: number;
  }): Promise<Result<{ proof: InclusionProof }>> {
    return this.#tlog.proveInclusion(query);
  }

  async logWitnesses(): Promise<{ origin: string; verifierKey: string; witnesses: string[] }> {
    return {
      origin: this.#tlog.origin,
      verifierKey: (await this.#tlog.signer()).verifierKey,
      witnesses: this.#tlog.witnesses(),
    };
  }

  async setLogWitnesses(keys: string[]): Promise<Result<{ witnesses: string[] }>> {
    try {
      await this.#tlog.setWitnesses(keys);
    } catch (error) {
      return failure(
        422,
        "invalid_request",
        `not a witness verifier key: ${error instanceof Error ? error.message : "malformed"}`,
      );
    }
    this.#audit.record("log-witnesses-set", `${keys.length} witness key(s)`);
    return { ok: true, witnesses: keys };
  }

  /** A witness's cosignature of the current checkpoint. */
  async addLogCosignatures(note: string): Promise<Result<{ checkpoint: string }>> {
    const result = await this.#tlog.addCosignatures(this.#bucket, note);
    return result.ok ? { ok: true, checkpoint: result.note } : failure(422, "invalid_signature", result.detail);
  }

  // --- key-encryption keys ---------------------------------------------------------

  /** Which KEKs this repository's sealed secrets are under. */
  async kekStatus(): Promise<Result<{ kek: KekStatus }>> {
    return kekResult(() => ({ kek: this.#kekReseal.status() }));
  }

  /**
   * Re-seals up to `budget` secrets under the current KEK (resumable: call
   * again until `remaining` is 0). Refuses if a secret names an unconfigured KEK.
   */
  async resealSecrets(budget: number): Promise<Result<{ resealed: number; kek: KekStatus }>> {
    return kekResult(async () => {
      const { resealed, status } = await this.#kekReseal.step(Math.min(Math.max(Math.trunc(budget), 1), 1000));
      if (resealed > 0) {
        this.#audit.record(
          "kek-resealed",
          `${resealed} sealed value(s) re-sealed under key-encryption key "${status.current}", ${status.remaining} left`,
        );
      }
      return { resealed, kek: status };
    });
  }

  async events(limit = 100): Promise<AuditEvent[]> {
    return this.#audit.recent(Math.min(Math.max(limit, 1), 1000));
  }

  // --- reading --------------------------------------------------------------

  /** The status, for operators; if publishing became blocked (or unblocked), the copy health reads (site/status.json) first says so. */
  async status(): Promise<RepositoryStatus> {
    const status = await this.#status();
    if (this.#settings && this.#site.blockedChanged(status)) await this.#site.publishStatus();
    return status;
  }

  async #status(): Promise<RepositoryStatus> {
    const blocked = await this.#publishingBlocked();
    return repositoryStatus({
      publishingBlocked: blocked && { code: blocked.code, detail: blocked.detail },
      name: this.#name,
      roots: this.#roots,
      settings: this.#settings,
      roles: this.#publisher.roles,
      freshness: this.#freshness,
      targets: this.#targets,
      vault: this.#vault,
      ceremonies: this.#ceremonies.book,
      delegations: this.#delegations,
      offlineQueue: this.#offlineQueue,
      lastFailure: this.#scheduler.lastFailure(),
      alarm: await this.ctx.storage.getAlarm(),
    });
  }

  /** Operational metrics, as Prometheus metric families labelled with this repository. */
  async metrics(): Promise<MetricFamily[]> {
    let kek: KekStatus | null = null;
    try {
      kek = this.#kekReseal.status();
    } catch (error) {
      if (!(error instanceof KekError)) throw error;
    }
    return this.#metrics.families({
      status: await this.#status(),
      round: this.#publisher.roles.roundProgress(),
      changedRoles: this.#publisher.roles.changedCount(),
      queuedTasks: this.#pushes.queuedTasks(),
      logSize: this.#tlog.size(),
      quarantined: this.#quarantine.list().length,
      kek,
      largestInvocation: this.#invocations.largest(),
      now: Date.now(),
    });
  }

  /** The latest root's bytes, as served (for operators and tests). */
  async latestRoot(): Promise<string | null> {
    const root = this.#roots.latest();
    return root ? fromUtf8(root.bytes) : null;
  }

  // --- internals ------------------------------------------------------------

  /** Inside the transaction that stores an accepted root: log it and ask for the round that publishes it. */
  #onRootAccepted(rotated: boolean, version: number, sha256: string): void {
    this.#tlog.append({ type: "root.change", repository: this.#name, version, sha256 });
    const seq = this.#publisher.roles.nextSeq();
    // A new online key re-signs every role it signs: targets, the bins and the online delegations.
    const names = rotated
      ? this.#sql
          .exec<{ name: string }>("SELECT name FROM roles WHERE name NOT IN ('snapshot', 'timestamp')")
          .toArray()
          .map((r) => r.name)
      : [];
    this.#publisher.roles.markDirty([...names, ...ROUND_ROLES], seq);
  }

  /** Waits for `publish` and, beside it, for the public documents of the change it carries. */
  async #withDocuments<T>(publish: Promise<T>): Promise<T> {
    const [result] = await Promise.all([publish, this.#documents.step()]);
    return result;
  }

  /** Moves quarantined bytes out of (or removed ones out of) public reach; a failure is retried by the alarm. */
  async #settleQuarantine(): Promise<void> {
    try {
      await this.#quarantine.settle();
    } catch (error) {
      await this.#scheduler.failed("refresh-failed", error);
    }
  }

  async #afterPublishRun(result: RunOutcome): Promise<void> {
    if (result.outcome === "failed") {
      this.#metrics.roundFailed(
        result.error instanceof Error ? `${result.error.name}: ${result.error.message}` : "error",
      );
      await this.#scheduler.failed("publish-failed", result.error);
    } else {
      if (result.outcome === "idle") this.#scheduler.succeeded();
      if (this.#settings)
        await this.#scheduler.arm(this.#settings, result.outcome === "more" || this.#documents.wantsAnotherStep());
    }
    // Documents of changes acknowledged without waiting (respond-async) follow their run.
    if (this.#documents.pending()) void this.#documents.step();
    // The pages' documents follow what was just published (or the failure now shown),
    // on their own time: the next publish run does not wait for them.
    if (result.outcome !== "more" && this.#settings) void this.#site.publishSoon();
  }

  async #loadTrustedRoot(): Promise<Root> {
    if (this.#trustedRoot) return this.#trustedRoot;
    const bytes = await this.latestRoot();
    if (!bytes) throw new Error("repository has no root");
    this.#trustedRoot = await parseRoot((JSON.parse(bytes) as { signed: unknown }).signed);
    return this.#trustedRoot;
  }

  /** Makes sure the directory of repositories lists this one (an R2 read once per object instance). */
  async #inDirectory(): Promise<void> {
    if (this.#listed) return;
    await addToDirectory(this.env.BUCKET, this.#name, new Date());
    this.#listed = true;
  }

  /** The settings once bootstrapped; until then the 409 every call that needs them answers. */
  #bootstrappedSettings(): Settings | Failure {
    return this.#settings ?? failure(409, "not_bootstrapped", `repository "${this.#name}" is not bootstrapped`);
  }

  #requireBootstrapped(): Failure | null {
    const settings = this.#bootstrappedSettings();
    return "ok" in settings ? settings : null;
  }

  #requireSettings(): Settings {
    if (!this.#settings) throw new Error("repository is not bootstrapped");
    return this.#settings;
  }

  /**
   * Why publishing cannot proceed, if it cannot: the online key or the log's
   * key does not unseal (a KekError from the sealer: the key-encryption key
   * they were sealed under was replaced or removed). Status and health show
   * it at once; changes are refused (503, the KekError's code) instead of
   * being stored with no way to publish them.
   */
  async #publishingBlocked(): Promise<Failure | null> {
    if (!this.#settings) return null;
    try {
      await this.#activeSigner();
      await this.#tlog.signer();
      return null;
    } catch (error) {
      if (!(error instanceof KekError)) throw error;
      return blockedFailure(error);
    }
  }

  async #activeSigner() {
    const active = this.#vault.find("active");
    if (!active) throw new Error("repository has no active online key");
    return this.#vault.signer(active.keyid);
  }
}

/** `bytes` checked as the next version (after `current`) of offline role `name`, or the refusal. */
async function checkedOffline(
  name: string,
  owners: OfflineOwners,
  bytes: Uint8Array,
  current: number,
): Promise<Failure | OfflineVersion> {
  try {
    const checked = await checkOfflineRole(bytes, { name, ...owners, current, now: new Date() });
    return { checked, bytes };
  } catch (error) {
    if (!(error instanceof TufError)) throw error;
    if (error.code === "bad_version") return failure(409, "bad_version", error.message);
    const code = error.code === "threshold_not_met" || error.code === "expired" ? error.code : "invalid_metadata";
    return failure(422, code, error.message);
  }
}
