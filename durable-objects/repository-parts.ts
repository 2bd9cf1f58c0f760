/**
 * What one repository's object is made of: its parts (the key vault, the
 * publisher, the pushes, the ceremonies, …), wired together once per object
 * instance, and the few internals they share (the settings once bootstrapped,
 * the trusted root, whether publishing is blocked, what follows a publish
 * run). repository.ts is the object's RPC surface over these parts; each
 * part is a file named after it.
 */
import { purgeCached } from "../src/storage/edge-cache.ts";
import { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { fromUtf8 } from "../src/lib/bytes.ts";
import { addToDirectory } from "../src/storage/repository-directory.ts";
import { parseRoot, type Root } from "../src/tuf/root.ts";
import { type CeremonyView, failure, type Failure, type RepositoryStatus } from "../src/repository-api.ts";
import { OfflineDrafts } from "./offline-drafts.ts";
import { OfflineQueue } from "./offline-queue.ts";
import type { OfflineRoles } from "./offline-roles.ts";
import { OfflineStatus } from "./offline-status.ts";
import { Attestations } from "./attestations.ts";
import { sigstoreTrustStub } from "../src/sigstore-trust-stub.ts";
import { AuditLog } from "./audit-log.ts";
import { Ceremonies } from "./ceremonies.ts";
import { Delegations } from "./delegations.ts";
import { offlineFirst } from "./offline-versions.ts";
import { ProtectedTargets } from "./protected-targets.ts";
import { Freshness } from "./freshness.ts";
import { Turns } from "./turns.ts";
import { blockedFailure, GroupCommit, published, type RunOutcome } from "./group-commit.ts";
import { InvocationLog, R2Meter } from "./invocation-budget.ts";
import { KeyVault } from "./key-vault.ts";
import { Scheduler } from "./scheduler.ts";
import { repositoryStatus } from "./status.ts";
import { KekError, Sealer } from "./sealer.ts";
import { KekReseal } from "./kek-reseal.ts";
import { Publisher } from "./publisher.ts";
import { ROUND_ROLES } from "./role-table.ts";
import { Pushes } from "./pushes.ts";
import { Tasks } from "./tasks.ts";
import { StagedUploads } from "./staged-uploads.ts";
import { Registries } from "./registries.ts";
import { TargetEvents } from "./target-events.ts";
import { Quarantine } from "./quarantine.ts";
import { RepositoryMetrics } from "./metrics.ts";
import { PublicDocuments } from "./public-documents.ts";
import { SiteDocuments } from "./site-documents.ts";
import { hashBins, type Settings } from "./settings.ts";
import { TargetsIndex } from "./targets-index.ts";
import { RootHistory } from "./root-history.ts";
import { TransparencyLog } from "./transparency-log.ts";
import { ImportHold } from "./import-hold.ts";
import { SupersededFiles } from "./superseded-files.ts";

export type CeremonyResult = { ok: true; ceremony: CeremonyView } | Failure;

export class RepositoryParts {
  readonly name: string;
  readonly sql: SqlStorage;
  readonly sealer: Sealer;
  readonly bucket: RepositoryBucket;
  readonly vault: KeyVault;
  readonly targets: TargetsIndex;
  readonly publisher: Publisher;
  /** Replaced metadata files, deleted after the retention. */
  readonly superseded: SupersededFiles;
  readonly commits: GroupCommit;
  /** An import's stored batches wait for its end before a round starts (import-hold.ts). */
  readonly importHold: ImportHold;
  readonly freshness: Freshness;
  readonly audit: AuditLog;
  /** The binary-transparency log (not to be confused with the audit log). */
  readonly tlog: TransparencyLog;
  readonly roots: RootHistory;
  readonly ceremonies: Ceremonies;
  readonly registries: Registries;
  readonly targetEvents: TargetEvents;
  readonly attestations: Attestations;
  readonly pushes: Pushes;
  readonly tasks: Tasks;
  readonly staged: StagedUploads;
  readonly scheduler: Scheduler;
  readonly kekReseal: KekReseal;
  readonly quarantine: Quarantine;
  readonly metrics: RepositoryMetrics;
  readonly site: SiteDocuments;
  readonly documents: PublicDocuments;
  readonly delegations: Delegations;
  /** The roles offline delegations' owners sign (offline-roles.ts), held by the delegations. */
  readonly offlineRoles: OfflineRoles;
  readonly offlineQueue: OfflineQueue;
  readonly offlineDrafts: OfflineDrafts;
  readonly offlineStatus: OfflineStatus;
  readonly protectedTargets: ProtectedTargets;
  /** Counts R2 operations, for the per-invocation budget (invocation-budget.ts). */
  readonly r2 = new R2Meter();
  /** Where a publish round waits between slices, for the object's next turn (turns.ts). */
  readonly turns = new Turns();
  readonly invocations: InvocationLog;
  /** Runs `fn` as one synchronous SQLite transaction (all or nothing). */
  readonly transaction: <T>(fn: () => T) => T;
  /**
   * Runs `fn` (synchronous) as the object's outermost transaction
   * (storage.transaction(): the writes before it are committed first), all
   * or nothing. No savepoint is open around its statements, so SQLite
   * journals none of the pages they change (accept-group.ts).
   */
  readonly outermost: <T>(fn: () => T) => Promise<T>;
  /** The settings, once bootstrapped (loaded before the first request). */
  settings: Settings | null = null;
  #trustedRoot: Root | null = null;
  /** Whether this object has seen its entry in the directory of repositories. */
  #listed = false;
  readonly #ctx: DurableObjectState;
  readonly #env: Env;

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
    this.transaction = (fn) => ctx.storage.transactionSync(fn);
    this.outermost = (fn) => ctx.storage.transaction(async () => fn());
    const name = ctx.id.name;
    if (!name) throw new Error("a Repository is addressed by name (idFromName / getByName)");
    this.name = name;
    this.sql = ctx.storage.sql;
    this.sealer = new Sealer(env.KEY_ENCRYPTION_KEY);
    this.vault = new KeyVault({ sql: this.sql, repo: name, sealer: this.sealer });
    this.targets = new TargetsIndex(this.sql);
    this.audit = new AuditLog(this.sql, name);
    this.roots = new RootHistory(this.sql);
    this.tlog = new TransparencyLog({
      sql: this.sql,
      kv: ctx.storage.kv,
      sealer: this.sealer,
      origin: `${env.LOG_ORIGIN}/${name}`,
    });
    this.bucket = new RepositoryBucket(this.r2.wrap(env.BUCKET), name);
    this.invocations = new InvocationLog(ctx.storage.kv);
    this.metrics = new RepositoryMetrics(ctx.storage.kv, name);
    this.delegations = new Delegations({
      sql: this.sql,
      transaction: this.transaction,
      topBins: () => hashBins(this.requireSettings()),
    });
    this.offlineRoles = this.delegations.offline;
    this.offlineQueue = new OfflineQueue({
      sql: this.sql,
      audit: this.audit,
      roles: this.offlineRoles,
      attestationSigned: (attestation) => this.attestations.recordSigned(this.tlog, attestation),
    });
    this.offlineDrafts = new OfflineDrafts({
      sql: this.sql,
      audit: this.audit,
      roles: this.offlineRoles,
      queue: this.offlineQueue,
    });
    this.offlineStatus = new OfflineStatus({
      sql: this.sql,
      kv: ctx.storage.kv,
      audit: this.audit,
      roles: this.offlineRoles,
      queue: this.offlineQueue,
      drafts: this.offlineDrafts,
    });
    this.superseded = new SupersededFiles(this.sql);
    this.publisher = new Publisher({
      sql: this.sql,
      bucket: this.bucket,
      targets: this.targets,
      roots: this.roots,
      settings: () => this.requireSettings(),
      signer: () => this.activeSigner(),
      now: () => new Date(),
      purge: purgeCached,
      log: this.tlog,
      repo: name,
      delegations: this.delegations,
      committed: (versions, seq) => this.tasks.recordPublished(versions, seq),
      superseded: this.superseded,
      turns: this.turns,
      rounds: {
        started: (roles) => this.metrics.roundStarted(Date.now(), roles),
        published: (versions, files, phases) => this.metrics.roundPublished(Date.now(), versions, files, phases),
      },
    });
    this.importHold = new ImportHold(this.sql);
    this.commits = new GroupCommit({
      publisher: this.publisher,
      budget: () => this.requireSettings().binsPerInvocation,
      afterRun: (result) => this.#afterPublishRun(result),
      scheduleNow: () => this.scheduler.soon(),
      meter: this.r2,
      spent: this.invocations,
      hold: this.importHold,
      turns: this.turns,
    });
    this.freshness = new Freshness(this.sql, this.publisher.roles);
    this.protectedTargets = new ProtectedTargets({
      sql: this.sql,
      transaction: this.transaction,
      delegations: this.delegations,
      roles: this.publisher.roles,
      bucket: this.bucket,
      settings: () => this.requireSettings(),
      now: () => new Date(),
      ownTargets: () => this.publisher.storeLogVerifierTarget(),
    });
    this.ceremonies = new Ceremonies({
      sql: this.sql,
      transaction: this.transaction,
      vault: this.vault,
      audit: this.audit,
      roots: this.roots,
      settings: () => this.requireSettings(),
      now: () => new Date(),
      trustedRoot: () => this.trustedRoot(),
      onRootAccepted: (rotated, version, sha256) => this.#onRootAccepted(rotated, version, sha256),
      targets: this.protectedTargets,
      onlineKey: () => {
        const active = this.vault.find("active");
        if (!active) throw new Error("repository has no active online key");
        return active;
      },
      offlineFirst: (spec) => offlineFirst(spec),
      nextSeq: () => this.publisher.roles.nextSeq(),
    });
    this.registries = new Registries({ sql: this.sql, repo: name, sealer: this.sealer });
    this.kekReseal = new KekReseal({
      sql: this.sql,
      kv: ctx.storage.kv,
      sealer: this.sealer,
      repo: name,
      logOrigin: this.tlog.origin,
    });
    this.attestations = new Attestations({
      sql: this.sql,
      kv: ctx.storage.kv,
      repo: name,
      sigstoreTrust: (known) => sigstoreTrustStub(env).current(known),
    });
    this.quarantine = new Quarantine({
      sql: this.sql,
      index: this.targets,
      log: this.tlog,
      audit: this.audit,
      bucket: this.bucket,
      repo: name,
      purge: purgeCached,
      publishLog: (seq) => this.publisher.roles.markDirty(ROUND_ROLES, seq),
    });
    this.documents = new PublicDocuments({
      sql: this.sql,
      kv: ctx.storage.kv,
      bucket: this.bucket,
      repo: name,
      attestations: this.attestations,
      flavour: () => this.attestations.policy().flavour,
      quarantined: (path) => this.quarantine.has(path),
    });
    this.staged = new StagedUploads(this.sql, this.bucket);
    this.targetEvents = new TargetEvents({
      sql: this.sql,
      index: this.targets,
      log: this.tlog,
      attestations: this.attestations,
      repo: name,
      quarantine: this.quarantine,
      staged: this.staged,
      offline: this.offlineQueue,
    });
    this.tasks = new Tasks({
      sql: this.sql,
      roles: this.publisher.roles,
      awaitingOwners: (taskId) => this.offlineQueue.awaiting(taskId),
      lastFailure: () => this.scheduler.lastFailure()?.detail ?? null,
    });
    this.pushes = new Pushes({
      sql: this.sql,
      transaction: this.transaction,
      outermost: this.outermost,
      repo: name,
      registries: this.registries,
      events: this.targetEvents,
      roles: this.publisher.roles,
      assigner: () => this.delegations.assigner(),
      publish: async (seq) => {
        await this.settleQuarantine();
        return this.publishThrough(seq);
      },
      publishSoon: async () => {
        await this.settleQuarantine();
        await this.commits.publishSoon();
      },
      tasks: this.tasks,
      index: this.targets,
      attestations: this.attestations,
      bucket: this.bucket,
      staged: this.staged,
      offlineEntry: (role, path) => this.offlineQueue.entry(role, path),
      accepted: (registries) => this.metrics.pushesAccepted(registries),
    });
    this.scheduler = new Scheduler({
      storage: ctx.storage,
      roles: this.publisher.roles,
      freshness: this.freshness,
      ceremonies: this.ceremonies,
      vault: this.vault,
      audit: this.audit,
      trustedRoot: () => this.trustedRoot(),
      offlineTargetsExpiry: () =>
        this.offlineRoles.targetsOffline() ? (this.publisher.roles.published("targets")?.expires ?? null) : null,
      openTargetsRefresh: () => this.openTargetsChange(() => this.ceremonies.openTargetsChange({ op: "refresh" })),
      importHold: (now) => this.importHold.until(now),
    });
    this.site = new SiteDocuments({
      kv: ctx.storage.kv,
      bucket: this.bucket,
      log: this.tlog,
      status: () => this.status(),
      turns: this.turns,
      repo: name,
      queue: env.SITE_DOCUMENTS,
      // An import's documents follow on alarms of their own once publishing is idle; while rounds run,
      // each round's end starts the next run (#afterPublishRun).
      continueSoon: async () => {
        const { roles } = this.publisher;
        if (!roles.hasChanges() && !roles.roundActive()) await this.scheduler.soon();
      },
    });
  }

  /** The settings once bootstrapped; until then the 409 every call that needs them answers. */
  bootstrappedSettings(): Settings | Failure {
    return this.settings ?? failure(409, "not_bootstrapped", `repository "${this.name}" is not bootstrapped`);
  }

  /** The 409 of a repository not bootstrapped yet, or null. */
  requireBootstrapped(): Failure | null {
    const settings = this.bootstrappedSettings();
    return "ok" in settings ? settings : null;
  }

  requireSettings(): Settings {
    if (!this.settings) throw new Error("repository is not bootstrapped");
    return this.settings;
  }

  /**
   * Why publishing cannot proceed, if it cannot: the online key or the log's
   * key does not unseal (a KekError from the sealer: the key-encryption key
   * they were sealed under was replaced or removed). Status and health show
   * it at once; changes are refused (503, the KekError's code) instead of
   * being stored with no way to publish them.
   */
  async publishingBlocked(): Promise<Failure | null> {
    if (!this.settings) return null;
    try {
      await this.activeSigner();
      await this.tlog.checkpoint.signer();
      return null;
    } catch (error) {
      if (!(error instanceof KekError)) throw error;
      return blockedFailure(error);
    }
  }

  /** The refusal every change answers before bootstrap or while publishing is blocked, or null. */
  async changesRefused(): Promise<Failure | null> {
    return this.requireBootstrapped() ?? (await this.publishingBlocked());
  }

  async activeSigner() {
    const active = this.vault.find("active");
    if (!active) throw new Error("repository has no active online key");
    return this.vault.signer(active.keyid);
  }

  /** The latest root's bytes, as served. */
  latestRoot(): string | null {
    const root = this.roots.latest();
    return root ? fromUtf8(root.bytes) : null;
  }

  async trustedRoot(): Promise<Root> {
    if (this.#trustedRoot) return this.#trustedRoot;
    const bytes = this.latestRoot();
    if (!bytes) throw new Error("repository has no root");
    this.#trustedRoot = await parseRoot((JSON.parse(bytes) as { signed: unknown }).signed);
    return this.#trustedRoot;
  }

  /** Forgets the trusted root read so far: a ceremony just stored the next one. */
  forgetTrustedRoot(): void {
    this.#trustedRoot = null;
  }

  /** Makes sure the directory of repositories lists this one (an R2 read once per object instance). */
  async inDirectory(): Promise<void> {
    if (this.#listed) return;
    await addToDirectory(this.#env.BUCKET, this.name, new Date());
    this.#listed = true;
  }

  /** Waits for `publish` and, beside it, for the public documents of the change it carries. */
  async withDocuments<T>(publish: Promise<T>): Promise<T> {
    const [result] = await Promise.all([publish, this.documents.step()]);
    return result;
  }

  /** Publishes up to `seq` and waits for it (and for the public documents of the change it carries). */
  publishThrough(seq: number) {
    return this.withDocuments(published(this.commits.publish(seq)));
  }

  /** Moves quarantined bytes out of (or removed ones out of) public reach; a failure is retried by the alarm. */
  async settleQuarantine(): Promise<void> {
    try {
      await this.quarantine.settle();
    } catch (error) {
      await this.scheduler.failed("refresh-failed", error);
    }
  }

  /** Opens a ceremony that changes targets (protected mode) and re-arms the alarm for its expiry. */
  async openTargetsChange(open: () => Promise<CeremonyResult>): Promise<CeremonyResult> {
    const result = await open();
    if (result.ok) {
      this.audit.record("delegation-change-proposed", result.ceremony.targets?.change ?? "", {
        ceremonyId: result.ceremony.id,
      });
      await this.scheduler.arm(this.requireSettings());
    }
    return result;
  }

  async status(): Promise<RepositoryStatus> {
    const blocked = await this.publishingBlocked();
    return repositoryStatus({
      publishingBlocked: blocked && { code: blocked.code, detail: blocked.detail },
      name: this.name,
      roots: this.roots,
      settings: this.settings,
      roles: this.publisher.roles,
      freshness: this.freshness,
      targets: this.targets,
      vault: this.vault,
      ceremonies: this.ceremonies.book,
      offlineRoles: this.offlineRoles,
      offlineStatus: this.offlineStatus,
      lastFailure: this.scheduler.lastFailure(),
      alarm: await this.#ctx.storage.getAlarm(),
      importHoldUntil: this.importHold.until(Date.now()),
      oldestSuperseded: this.superseded.oldest(),
    });
  }

  /** Inside the transaction that stores an accepted root: log it and ask for the round that publishes it. */
  #onRootAccepted(rotated: boolean, version: number, sha256: string): void {
    this.tlog.append({ type: "root.change", repository: this.name, version, sha256 });
    const seq = this.publisher.roles.nextSeq();
    // A new online key re-signs every role it signs: targets, the bins and the online delegations.
    const names = rotated
      ? this.sql
          .exec<{ name: string }>("SELECT name FROM roles WHERE name NOT IN ('snapshot', 'timestamp')")
          .toArray()
          .map((r) => r.name)
      : [];
    this.publisher.roles.markDirty([...names, ...ROUND_ROLES], seq);
  }

  async #afterPublishRun(result: RunOutcome): Promise<void> {
    this.metrics.r2Operations(this.r2.take());
    if (result.outcome === "failed") {
      this.metrics.roundFailed(
        result.error instanceof Error ? `${result.error.name}: ${result.error.message}` : "error",
      );
      await this.scheduler.failed("publish-failed", result.error);
    } else {
      if (result.outcome === "idle") this.scheduler.succeeded();
      if (this.settings)
        await this.scheduler.arm(this.settings, result.outcome === "more" || this.documents.wantsAnotherStep());
    }
    // Documents of changes acknowledged without waiting (respond-async) follow their run.
    if (this.documents.pending()) void this.documents.step();
    // The pages' documents follow what was just published (or the failure now shown),
    // on their own time: the next publish run does not wait for them.
    if (result.outcome !== "more" && this.settings) void this.site.publishSoon();
  }
}
