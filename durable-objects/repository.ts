/**
 * One repository's Durable Object: the only writer of its state. Every
 * change is applied here, one at a time, and published by the Publisher;
 * the Worker only reads what this object has stored in R2.
 *
 * This file is the object's RPC surface: each method checks what the
 * request needs (bootstrapped, publishing not blocked) and hands it to the
 * part that owns it (repository-parts.ts wires them together; the
 * delegations' requests are in delegation-requests.ts, the operator's
 * target changes in operator-changes.ts, registry pushes in pushes.ts and
 * the tasks they become in tasks.ts, ceremonies in ceremonies.ts, the
 * bootstrap in bootstrapping.ts, what the alarm and the cron do in
 * upkeep.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { MetricFamily } from "../src/metrics/prometheus.ts";
import {
  type AttestationPolicyView,
  type BootstrapRequest,
  type CeremonyView,
  type DelegationSpec,
  type DelegationsView,
  type DelegationView,
  type DraftsSigned,
  type Failure,
  failure,
  type KekStatus,
  type OnlineKeyInfo,
  type PublishedVersions,
  type PushResult,
  type QuarantineView,
  type RepositoryStatus,
  type Result,
  type SignedPush,
  type StagedUpload,
  type TargetsChange,
  type TaskView,
} from "../src/repository-api.ts";
import type { Key } from "../src/tuf/key.ts";
import type { Signature } from "../src/tuf/metadata.ts";
import type { Parsed } from "../src/schemas/parse-json.ts";
import type { WebhookBody } from "../src/schemas/webhook.ts";
import type { AuditEvent } from "./audit-log.ts";
import { Bootstrapping } from "./bootstrapping.ts";
import { DelegationRequests } from "./delegation-requests.ts";
import type { RoleSignature } from "./offline-bins.ts";
import { published } from "./group-commit.ts";
import { keysById } from "./offline-versions.ts";
import { type AppliedChange, type ChangeOptions, OperatorChanges, type QuarantineChange } from "./operator-changes.ts";
import type { UploadAuthorization, UploadRequest } from "./pushes.ts";
import type { CredentialInfo, RegistryInfo } from "./registries.ts";
import { MAX_CREDENTIALS_PER_REGISTRY } from "./registries.ts";
import { type CeremonyResult, RepositoryParts } from "./repository-parts.ts";
import { migrate } from "./migrate.ts";
import { KekError } from "./sealer.ts";
import { loadSettings } from "./settings.ts";
import { upkeep } from "./upkeep.ts";
import type { InclusionProof, ProofQuery } from "./log-proofs.ts";

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

export class Repository extends DurableObject<Env> {
  readonly #p: RepositoryParts;
  readonly #delegationRequests: DelegationRequests;
  readonly #operator: OperatorChanges;
  readonly #bootstrapping: Bootstrapping;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const parts = new RepositoryParts(ctx, env);
    this.#p = parts;
    this.#delegationRequests = new DelegationRequests(parts);
    this.#operator = new OperatorChanges(parts);
    this.#bootstrapping = new Bootstrapping(parts);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(parts.sql);
      parts.settings = loadSettings(parts.sql);
    });
  }

  /**
   * The online public key a root must name; generated on first request, before
   * bootstrap. This (authenticated) call is what creates a repository: it is
   * added to the directory that unauthenticated requests are checked against.
   */
  async onlineKey(): Promise<OnlineKeyInfo> {
    await this.#p.inDirectory();
    const existing = this.#p.vault.find("active") ?? this.#p.vault.find("pending");
    const key = existing ?? (await this.#p.vault.generate("pending"));
    await this.#p.documents.step(); // the attestation documents' index: the repository has none yet
    return { keyid: key.keyid, key: key.key };
  }

  /**
   * Bootstrap: root v1 checked, then every online role signed and published
   * (bootstrapping.ts). A root that fails any check changes nothing.
   */
  async bootstrap(request: BootstrapRequest): Promise<Result<{ versions: PublishedVersions }>> {
    return this.#bootstrapping.bootstrap(request);
  }

  /** The operator's change: adds and removes targets as one change (operator-changes.ts). */
  async changeTargets(change: TargetsChange, options: ChangeOptions = {}): Promise<Result<AppliedChange>> {
    return this.#operator.change(change, options);
  }

  /**
   * An import's end: publishing of what is stored starts now instead of
   * waiting for the hold's deadline (import-hold.ts). Answers at once; the
   * publish follows, as for a respond-async change.
   */
  async publishNow(): Promise<Result<{ versions: PublishedVersions; pending: boolean }>> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    const pending = this.#p.publisher.roles.hasChanges() || this.#p.publisher.roles.roundActive();
    if (pending) await this.#p.commits.publishSoon();
    else this.#p.importHold.release();
    return { ok: true, versions: this.#p.publisher.versions(), pending };
  }

  /**
   * Sends the pages' target documents again from log entry `from` (0: all),
   * for an operator who rebuilds the pages, or (`cause` "dropped") for the
   * site-documents queue's dead letters (src/pages/site-document-consumer.ts)
   * (site-documents.ts). Answers once the runs have started; they go on as
   * an import's documents do, and the documents behind count down.
   */
  async resendPages(
    from: number,
    cause: "operator" | "dropped" = "operator",
  ): Promise<Result<{ from: number; behind: number }>> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    const start = await this.#p.site.resendFrom(from);
    const why = cause === "dropped" ? ", the site-documents queue having dropped a message of theirs" : "";
    this.#p.audit.record("pages-resent", `the pages' documents sent again from log entry ${start}${why}`);
    return { ok: true, from: start, behind: this.#p.site.behind() };
  }

  /** The operator's quarantine actions; `by` names the operator in the audit log. */
  async changeQuarantine(change: QuarantineChange, by?: string): Promise<Result<AppliedChange>> {
    return this.#operator.quarantine(change, by);
  }

  /** Quarantined targets, for operators. */
  async quarantined(): Promise<QuarantineView[]> {
    return this.#p.quarantine.list();
  }

  /** A quarantined target's kept bytes, for review (admin only). */
  async quarantinedFile(path: string): Promise<ReadableStream | null> {
    return (await this.#p.quarantine.file(path))?.body ?? null;
  }

  /** The operator's upload, before any byte is stored: checks it and reserves the path. */
  async reserveUpload(target: {
    path: string;
    length: number;
    sha256: string;
  }): Promise<Result<{ upload: StagedUpload }>> {
    return this.#operator.reserveUpload(target);
  }

  /** Accepts the operator's staged upload: the target is listed and published. */
  async completeReservedUpload(
    uploadId: string,
  ): Promise<Result<{ versions: PublishedVersions; awaitingOwners: string[] }>> {
    return this.#operator.completeUpload(uploadId);
  }

  /** Discards an upload whose bytes could not be staged (or were refused): nothing of it stays. */
  async abandonUpload(uploadId: string): Promise<void> {
    return this.#operator.abandonUpload(uploadId);
  }

  // --- delegations (delegation-requests.ts) ---------------------------------------

  async delegations(): Promise<DelegationView[]> {
    return this.#delegationRequests.list();
  }

  /** The draft of offline role `name`'s next version, for its owners to sign. */
  async delegationDraft(name: string): Promise<Result<{ draft: string }>> {
    return this.#delegationRequests.draft(name);
  }

  /** An owner's signature over the draft named by `sha256`; at the threshold the version is published. */
  async signDelegationDraft(
    name: string,
    sha256: string,
    signature: { keyid: string; sig: string },
  ): Promise<Result<{ draft: string; published: { version: number; versions: PublishedVersions } | null }>> {
    return this.#delegationRequests.signDraft(name, sha256, signature);
  }

  /** The drafts of an offline delegation's roles its owners have to sign (with bins: one per bin with changes). */
  async delegationDrafts(name: string, renew: boolean): Promise<Result<{ drafts: string }>> {
    return this.#delegationRequests.drafts(name, renew);
  }

  /** One owner's signatures over several drafts of a delegation's roles, published together at their threshold. */
  async signDelegationDrafts(name: string, signatures: RoleSignature[]): Promise<DraftsSigned> {
    return this.#delegationRequests.signDrafts(name, signatures);
  }

  /** Adds a delegation (or, in protected mode, opens the ceremony that would). */
  async addDelegation(
    spec: DelegationSpec,
  ): Promise<Result<{ delegation: DelegationView; versions: PublishedVersions }> | CeremonyResult> {
    return this.#delegationRequests.add(spec);
  }

  /** An offline delegation's next version, signed by its owners. */
  async submitDelegationMetadata(
    name: string,
    bytes: Uint8Array,
  ): Promise<Result<{ version: number; versions: PublishedVersions }>> {
    return this.#delegationRequests.submit(name, bytes);
  }

  /** Removes a delegation with no nested ones (or, in protected mode, opens the ceremony that would). */
  async removeDelegation(name: string): Promise<Result<{ versions: PublishedVersions }> | CeremonyResult> {
    return this.#delegationRequests.remove(name);
  }

  /** The delegations, how `targets` is signed, and the open ceremony that would change it. */
  async delegationsOverview(): Promise<Result<DelegationsView>> {
    return this.#delegationRequests.overview();
  }

  // --- registries and their pushes ----------------------------------------------

  async registries(): Promise<RegistryInfo[]> {
    return this.#p.registries.list();
  }

  /** Adds a webhook credential (a new registry, or a rotation with an overlap). */
  async addRegistryCredential(
    name: string,
    credential: { kind: "hmac" } | { kind: "ed25519"; publicKey: string },
    overlapSeconds: number,
  ): Promise<Result<{ credential: CredentialInfo; secret?: string }>> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    const added = await this.#p.registries.addCredential(name, credential, overlapSeconds, Date.now());
    if ("full" in added) {
      return failure(
        409,
        "too_many_credentials",
        `registry ${name} holds ${added.full} credentials (at most ${MAX_CREDENTIALS_PER_REGISTRY}, counting those in their overlap): revoke one first`,
      );
    }
    this.#p.audit.record(
      "registry-credential-added",
      `${credential.kind} credential ${added.credential.id} for registry ${name}`,
    );
    return { ok: true, ...added };
  }

  async revokeRegistryCredential(name: string, id: string): Promise<Result<{ revoked: true }>> {
    if (!this.#p.registries.revoke(name, id))
      return failure(404, "not_found", `registry ${name} has no credential ${id}`);
    this.#p.audit.record("registry-credential-revoked", `credential ${id} of registry ${name}`);
    return { ok: true, revoked: true };
  }

  async removeRegistry(name: string): Promise<Result<{ removed: true }>> {
    if (!this.#p.registries.remove(name)) return failure(404, "not_found", `no registry ${name}`);
    this.#p.audit.record("registry-removed", `registry ${name}`);
    return { ok: true, removed: true };
  }

  /**
   * A registry's signed batch of target events, with its body as the Worker
   * read it (Pushes.receive); an accepted one says how long it took here (objectMs).
   */
  async receivePush(push: SignedPush, body: Parsed<WebhookBody>): Promise<PushResult | Failure> {
    const entered = Date.now();
    const ready = this.#p.requireBootstrapped() ?? (await this.#p.publishingBlocked());
    if (ready) return ready;
    const result = this.#countPush(await this.#p.pushes.receive(push, body, entered));
    return result.ok ? { ...result, objectMs: Date.now() - entered } : result;
  }

  /** Checks a signed upload before its bytes are streamed into R2. */
  async authorizeUpload(push: SignedPush, request: UploadRequest): Promise<UploadAuthorization> {
    const ready = this.#p.requireBootstrapped() ?? (await this.#p.publishingBlocked());
    if (ready) return ready;
    const authorized = await this.#p.pushes.authorizeUpload(push, request, Date.now());
    if (!authorized.ok) this.#countPush(authorized);
    return authorized;
  }

  /** Lists an uploaded target once its bytes are staged (`uploadId` null: a redelivery, answered with its task). */
  async completeUpload(push: SignedPush, registry: string, uploadId: string | null): Promise<PushResult | Failure> {
    return this.#countPush(await this.#p.pushes.completeUpload(push, registry, uploadId, Date.now()));
  }

  /** Counts a refusal or a redelivery's answer; new pushes are counted by their group as it writes them (pushes.ts). */
  #countPush<R extends PushResult | Failure>(result: R): R {
    if (!result.ok) this.#p.metrics.push(null, { status: result.status, code: result.code });
    else if (result.duplicate) this.#p.metrics.push(result.task.registry, null);
    return result;
  }

  async task(id: string): Promise<Result<{ task: TaskView }>> {
    const task = this.#p.tasks.get(id);
    return task ? { ok: true, task } : failure(404, "not_found", `no task ${id}`);
  }

  /** A target's stored entry (the Worker resolves sha512-prefixed names with it). */
  async target(path: string): Promise<Result<{ target: { length: number; hashes: Record<string, string> } }>> {
    const target = this.#p.targets.get(path);
    if (!target) return failure(404, "not_found", `no target "${path}"`);
    return { ok: true, target: { length: target.length, hashes: target.hashes as Record<string, string> } };
  }

  /**
   * Re-signs whatever is due (bounded per invocation), opens scheduled
   * ceremonies, and re-arms the alarm (upkeep.ts). Called by the alarm and
   * by the cron.
   */
  async refresh(): Promise<{ resigned: string[] }> {
    return upkeep(this.#p);
  }

  override async alarm(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      await this.#p.scheduler.failed("refresh-failed", error);
    }
  }

  // --- ceremonies -----------------------------------------------------------

  async openRotation(options: { reason?: string; emergency?: boolean } = {}): Promise<CeremonyResult> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    const result = await this.#p.ceremonies.openRotation(
      options.reason ?? "requested by an operator",
      options.emergency,
    );
    await this.#p.scheduler.arm(this.#p.requireSettings());
    return result;
  }

  async openRootChange(signed: unknown): Promise<CeremonyResult> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    const result = await this.#p.ceremonies.openRootChange(signed);
    await this.#p.scheduler.arm(this.#p.requireSettings());
    return result;
  }

  async openRootRefresh(): Promise<CeremonyResult> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    return this.#p.ceremonies.openRootRefresh("requested by an operator");
  }

  /**
   * Opens protected-delegations mode (docs/operators.md §12): root N+1 names
   * `keys` for targets (default: the root keys and threshold) and the first
   * offline targets is drafted beside it.
   */
  async openProtectDelegations(options: { keys?: Key[]; threshold?: number } = {}): Promise<CeremonyResult> {
    const ready = this.#p.requireBootstrapped() ?? (await this.#p.publishingBlocked());
    if (ready) return ready;
    const trusted = await this.#p.trustedRoot();
    let keys: Record<string, Key> = {};
    if (options.keys) {
      const byId = await keysById(options.keys);
      if (!byId) return failure(422, "invalid_request", "each key that signs targets is listed once");
      keys = byId;
    } else {
      for (const keyid of trusted.roles.root.keyids) keys[keyid] = trusted.keys[keyid] as Key;
    }
    const threshold = options.threshold ?? (options.keys ? 1 : trusted.roles.root.threshold);
    if (threshold > Object.keys(keys).length)
      return failure(422, "invalid_request", "the threshold is at most the number of keys that sign targets");
    const result = await this.#p.ceremonies.openProtect(keys, threshold);
    if (result.ok) await this.#p.scheduler.arm(this.#p.requireSettings());
    return result;
  }

  /** In protected mode: the same targets with a later expiry, for its key holders to sign. */
  async openTargetsRefresh(): Promise<CeremonyResult> {
    const ready = this.#p.requireBootstrapped() ?? (await this.#p.publishingBlocked());
    if (ready) return ready;
    return this.#p.openTargetsChange(() => this.#p.ceremonies.openTargetsChange({ op: "refresh" }));
  }

  async ceremonies(): Promise<CeremonyView[]> {
    this.#p.ceremonies.expireStale();
    return Promise.all(this.#p.ceremonies.book.list(50).map((c) => this.#p.ceremonies.view(c.id)));
  }

  async ceremony(id: string): Promise<CeremonyResult> {
    this.#p.ceremonies.expireStale();
    if (!this.#p.ceremonies.book.get(id)) return failure(404, "not_found", `no ceremony ${id}`);
    return { ok: true, ceremony: await this.#p.ceremonies.view(id) };
  }

  /** Adds a root key holder's signature; when complete, publishes the new root (and waits for it). */
  async signCeremony(id: string, signature: Signature): Promise<CeremonyResult & { versions?: PublishedVersions }> {
    const before = this.#p.publisher.roles.nextSeq();
    const result = await this.#p.ceremonies.sign(id, signature);
    if (!result.ok || result.ceremony.state !== "published") return result;
    this.#p.forgetTrustedRoot();
    const publish = await published(this.#p.commits.publish(before + 1));
    return publish.ok ? { ...result, versions: publish.versions } : publish;
  }

  async cancelCeremony(id: string, reason: string): Promise<CeremonyResult> {
    return this.#p.ceremonies.cancel(id, reason);
  }

  // --- attestations -------------------------------------------------------------

  async attestationPolicy(): Promise<AttestationPolicyView> {
    return this.#p.attestations.policyView();
  }

  async setAttestationPolicy(policy: unknown): Promise<Result<{ policy: AttestationPolicyView }>> {
    const before = this.#p.attestations.policy().flavour;
    const result = this.#p.attestations.setPolicy(policy);
    if ("ok" in result) return result;
    this.#p.audit.record("attestation-policy-set", `flavour ${result.flavour}`);
    // Another flavour answers other routes: every attestation's documents are written again.
    if (result.flavour !== before) this.#p.documents.rewriteAll();
    await this.#p.documents.step();
    if (this.#p.settings) await this.#p.scheduler.arm(this.#p.settings, this.#p.documents.wantsAnotherStep());
    return { ok: true, policy: this.#p.attestations.policyView() };
  }

  // --- the transparency log ---------------------------------------------------

  /** An inclusion proof for entry `index` (or the latest entry about `path`) in the tree of `size` (default: the published size). */
  async logInclusion(query: ProofQuery): Promise<Result<{ proof: InclusionProof }>> {
    return this.#p.tlog.proofs.prove(query, this.#p.bucket);
  }

  async logWitnesses(): Promise<{ origin: string; verifierKey: string; witnesses: string[] }> {
    return {
      origin: this.#p.tlog.origin,
      verifierKey: (await this.#p.tlog.checkpoint.signer()).verifierKey,
      witnesses: this.#p.tlog.checkpoint.witnesses(),
    };
  }

  async setLogWitnesses(keys: string[]): Promise<Result<{ witnesses: string[] }>> {
    try {
      await this.#p.tlog.checkpoint.setWitnesses(keys);
    } catch (error) {
      return failure(
        422,
        "invalid_request",
        `not a witness verifier key: ${error instanceof Error ? error.message : "malformed"}`,
      );
    }
    this.#p.audit.record("log-witnesses-set", `${keys.length} witness key(s)`);
    return { ok: true, witnesses: keys };
  }

  /** A witness's cosignature of the current checkpoint. */
  async addLogCosignatures(note: string): Promise<Result<{ checkpoint: string }>> {
    const result = await this.#p.tlog.checkpoint.addCosignatures(this.#p.bucket, note);
    return result.ok ? { ok: true, checkpoint: result.note } : failure(422, "invalid_signature", result.detail);
  }

  // --- key-encryption keys ---------------------------------------------------------

  /** Which KEKs this repository's sealed secrets are under. */
  async kekStatus(): Promise<Result<{ kek: KekStatus }>> {
    return kekResult(() => ({ kek: this.#p.kekReseal.status() }));
  }

  /**
   * Re-seals up to `budget` secrets under the current KEK (resumable: call
   * again until `remaining` is 0). Refuses if a secret names an unconfigured KEK.
   */
  async resealSecrets(budget: number): Promise<Result<{ resealed: number; kek: KekStatus }>> {
    return kekResult(async () => {
      const { resealed, status } = await this.#p.kekReseal.step(Math.min(Math.max(Math.trunc(budget), 1), 1000));
      if (resealed > 0) {
        this.#p.audit.record(
          "kek-resealed",
          `${resealed} sealed value(s) re-sealed under key-encryption key "${status.current}", ${status.remaining} left`,
        );
      }
      return { resealed, kek: status };
    });
  }

  /** The newest `limit` events (1 to 1000), of one kind if `kind` is given. */
  async events(limit = 100, kind?: string): Promise<AuditEvent[]> {
    return this.#p.audit.recent(Math.min(Math.max(limit, 1), 1000), kind);
  }

  // --- reading --------------------------------------------------------------

  /** The status, for operators; if publishing became blocked (or unblocked), the copy health reads (site/status.json) first says so. */
  async status(): Promise<RepositoryStatus> {
    await this.#rearmIfOverdue();
    const status = await this.#p.status();
    if (this.#p.settings && this.#p.site.blockedChanged(status)) await this.#p.site.publishStatus();
    return status;
  }

  /** Operational metrics, as Prometheus metric families labelled with this repository. */
  async metrics(): Promise<MetricFamily[]> {
    await this.#rearmIfOverdue();
    let kek: KekStatus | null = null;
    try {
      kek = this.#p.kekReseal.status();
    } catch (error) {
      if (!(error instanceof KekError)) throw error;
    }
    const logSize = this.#p.tlog.size();
    this.#p.metrics.r2Operations(this.#p.r2.take());
    return this.#p.metrics.families({
      status: await this.#p.status(),
      round: this.#p.publisher.roles.roundProgress(),
      changedRoles: this.#p.publisher.roles.changedCount(),
      queuedTasks: this.#p.tasks.queued(),
      logSize,
      logKept: logSize - this.#p.tlog.history.prunedBelow(),
      quarantined: this.#p.quarantine.list().length,
      kek,
      largestInvocation: this.#p.invocations.largest(),
      storageBytes: this.#p.sql.databaseSize,
      siteBehind: this.#p.site.behind(),
      supersededWaiting: this.#p.superseded.waiting(),
      now: Date.now(),
    });
  }

  /** An alarm long past due that never fired is set again, counted and logged (scheduler.ts). */
  async #rearmIfOverdue(): Promise<void> {
    if (!this.#p.settings) return;
    const late = await this.#p.scheduler.rearmIfOverdue(Date.now());
    if (late !== null) this.#p.metrics.alarmRearmed(late);
  }

  /** The latest root's bytes, as served (for operators and tests). */
  async latestRoot(): Promise<string | null> {
    return this.#p.latestRoot();
  }
}
