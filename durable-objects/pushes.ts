/**
 * Registry pushes: signed (Standard Webhooks), checked for replay, validated,
 * applied all or nothing, and published by group commit. Delivery ids belong
 * to the registry that sends them: a registry's id seen again (within
 * DELIVERY_RETENTION_MS, deliveries.ts) with the same body is answered with
 * its original task and applies nothing again; with another body it is a
 * conflict (409).
 * Nothing is acknowledged before it is durable here. What a push becomes,
 * its task, is read as its poll sees it in tasks.ts.
 */
import { failure, type Failure, type PushResult, type SignedPush } from "../src/repository-api.ts";
import {
  type TargetEvent,
  manifestRegistry,
  type UploadManifest,
  UploadManifestSchema,
  type WebhookBody,
} from "../src/schemas/webhook.ts";
import { type Parsed, parseJson } from "../src/schemas/parse-json.ts";
import { toHex } from "../src/lib/bytes.ts";
import type { Assignment } from "./delegation-tree.ts";
import {
  DEFAULT_TOLERANCE_SECONDS,
  parseSignatureHeader,
  signedContent,
  timestampProblem,
  verifyWith,
} from "../src/webhooks/standard-webhooks.ts";
import type { Registries } from "./registries.ts";
import type { Progress, RoleTable } from "./role-table.ts";
import type { TaskRow, Tasks } from "./tasks.ts";
import type { BinnedEvent, TargetEvents } from "./target-events.ts";
import type { Attestations } from "./attestations.ts";
import type { TargetsIndex } from "./targets-index.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { Hashes, TargetFile } from "../src/tuf/targets.ts";
import { listedAttestations } from "../src/tuf/target-attestations.ts";
import type { StagedUploads } from "./staged-uploads.ts";
import type { StagedUpload } from "../src/repository-api.ts";
import { AcceptGroup } from "./accept-group.ts";
import { GroupRows } from "./group-rows.ts";
import { Deliveries, type Delivery } from "./deliveries.ts";

export interface PushDeps {
  sql: SqlStorage;
  transaction: <T>(fn: () => T) => T;
  /** The object's outermost transaction: a group's first try (accept-group.ts). */
  outermost?: <T>(fn: () => T) => Promise<T>;
  repo: string;
  registries: Registries;
  events: TargetEvents;
  roles: RoleTable;
  /** The role that lists a path (a bin, or a delegation: delegations.ts), for the paths of one batch. */
  assigner: () => (path: string) => Assignment;
  /** Waits for the publish that carries change `seq`. */
  publish: (seq: number) => Promise<{ ok: true } | Failure>;
  /** Starts a publish without waiting for it (for respond-async pushes). */
  publishSoon: () => Promise<void>;
  index: TargetsIndex;
  attestations: Attestations;
  bucket: RepositoryBucket;
  staged: StagedUploads;
  /** The tasks pushes become, as their polls see them (tasks.ts). */
  tasks: Tasks;
  /** A path's entry in offline role `role` once what waits for its owners is signed (offline-queue.ts prospective). */
  offlineEntry: (role: string, path: string) => TargetFile | undefined;
  /** Inside the transaction of a group of pushes (accept-group.ts): the registries of those it accepted, one per push. */
  accepted: (registries: string[]) => void;
}

/** What the Worker saw of an upload request, checked against its signed manifest. */
export interface UploadRequest {
  /** The target path in the URL. */
  path: string;
  contentLength: string | null;
}

/** Most signatures one webhook-signature header may carry (each is tried against each credential). */
export const MAX_SIGNATURES = 8;

/**
 * What accepting one push in its group's transaction came to: its task (new, or a redelivery's), or its
 * refusal. A new task also carries what its answer is built from (no second read of its row): whether it
 * queued changes for offline roles' owners, and where publishing stood once its group asked for the
 * publish (read once for the group).
 */
type AcceptOutcome =
  | {
      task: TaskRow;
      duplicate: boolean;
      awaitingAny?: boolean;
      progress?: Progress;
      publishSoonFailed?: { error: unknown };
    }
  | Failure;

/** Whether a signed upload may stream its bytes: a redelivery (nothing to store), a reserved staging key, or a refusal. */
export type UploadAuthorization =
  | { ok: true; registry: string; duplicate: true }
  | { ok: true; registry: string; duplicate: false; upload: StagedUpload }
  | Failure;

export class Pushes {
  readonly #deps: PushDeps;
  readonly #group: AcceptGroup<AcceptOutcome>;
  /** The tasks, deliveries and bins of the group being written, written together at its end. */
  readonly #rows = new GroupRows<TaskRow>();
  /** Which deliveries were seen, by each registry's webhook-id (deliveries.ts). */
  readonly deliveries: Deliveries;

  constructor(deps: PushDeps) {
    this.#deps = deps;
    this.deliveries = new Deliveries({ sql: deps.sql, repo: deps.repo, rows: this.#rows });
    const fresh = (outcomes: AcceptOutcome[]) =>
      outcomes.flatMap((o) => ("task" in o && !o.duplicate ? [o.task.registry] : []));
    this.#group = new AcceptGroup<AcceptOutcome>({
      transaction: deps.transaction,
      outermost: deps.outermost,
      rolledBack: () => this.#rows.discard(),
      written: (outcomes) => {
        const accepted = new Set(outcomes.flatMap((o) => ("task" in o && !o.duplicate ? [o.task.id] : [])));
        this.#rows.write(deps.sql, accepted, (bins) => deps.index.touchEach(bins));
        const registries = fresh(outcomes);
        if (registries.length > 0) deps.accepted(registries);
      },
      // One alarm (and publish kick) for the group's new changes, before any of them is answered.
      afterGroup: async (outcomes) => {
        if (fresh(outcomes).length === 0) return;
        try {
          await deps.publishSoon();
        } catch (error) {
          // Stored, but not answered as accepted (as a push alone would not be); its refused neighbours keep their refusals.
          for (const o of outcomes) if ("task" in o && !o.duplicate) o.publishSoonFailed = { error };
          return;
        }
        // Where publishing stands now, as a poll would read it, for every new task's answer: one statement per group.
        const progress = deps.roles.progress();
        for (const o of outcomes) if ("task" in o && !o.duplicate) o.progress = progress;
      },
    });
  }

  /**
   * Which registry signed this push, or why it is refused (401). Only the
   * credentials of the registry the sender names (`named`, or the only one)
   * are tried, so a forged push costs at most MAX_CREDENTIALS_PER_REGISTRY
   * verifications of at most MAX_SIGNATURES signatures.
   */
  async authenticate(
    push: SignedPush,
    now: number,
    named: string | null = push.registry ?? null,
  ): Promise<{ ok: true; registry: string } | Failure> {
    const stale = timestampProblem(push.timestamp, now);
    if (stale) {
      return failure(
        401,
        "stale_timestamp",
        `webhook-timestamp is ${stale}: pushes are accepted within ${DEFAULT_TOLERANCE_SECONDS} s of now`,
      );
    }
    const signatures = parseSignatureHeader(push.signature);
    if (signatures.length === 0)
      return failure(401, "invalid_signature", "webhook-signature holds no v1 or v1a signature");
    if (signatures.length > MAX_SIGNATURES)
      return failure(401, "invalid_signature", `webhook-signature holds more than ${MAX_SIGNATURES} signatures`);
    const registry = named ?? this.#deps.registries.sole();
    if (!registry) {
      return failure(
        400,
        "registry_required",
        `repository "${this.#deps.repo}" has several registries: push to /${this.#deps.repo}/webhooks/registry/{name} (an upload names it in its manifest's "registry")`,
      );
    }
    const content = signedContent(push.id, push.timestamp, push.body);
    for (const credential of await this.#deps.registries.current(registry, now)) {
      if (await verifyWith(credential, signatures, content)) return { ok: true, registry };
    }
    return failure(401, "invalid_signature", `no signature verifies with a credential of registry "${registry}"`);
  }

  /**
   * A batch of target events. `body` is `push.body` as the Worker read it
   * against WebhookBodySchema (parseJson): reading it there keeps that work
   * off this object's single thread. It counts only once the push is
   * authenticated, and after a redelivery, as before.
   */
  async receive(push: SignedPush, body: Parsed<WebhookBody>, now: number): Promise<PushResult | Failure> {
    const auth = await this.authenticate(push, now);
    if (!auth.ok) return auth;
    const delivery = await this.deliveries.of(push, auth.registry);
    const elsewhere = body.ok && body.value.repository !== this.#deps.repo;
    // A redelivery of a plain push is found in the group's transaction (#accept), which checks every push
    // anyway. Looked up here too, it was the first SQL statement of the push's own event, and cost the object
    // far more than the same lookup inside the group (docs/measured.md, "A redelivery found in the group").
    // A push refused here is looked up first, so that a redelivery is answered as one (a conflict before a
    // malformed body); so is one with attestations, whose verification and storing a redelivery need not repeat.
    if (!body.ok || elsewhere || body.value.events.some((event) => event.type === "attestations.add")) {
      const seen = this.deliveries.seen(delivery);
      if (seen) return "task" in seen ? this.#respond(seen.task, push.respondAsync, true) : seen;
    }
    if (!body.ok) return body;
    if (elsewhere) {
      return failure(
        403,
        "wrong_repository",
        `this push is for repository "${body.value.repository}", not "${this.#deps.repo}"`,
      );
    }
    return this.#accept(push, delivery, body.value.events, now);
  }

  /**
   * Checks an upload's signature and manifest against the request (its URL
   * path and Content-Length) before any byte is stored, and reserves the
   * path for these bytes: the Worker then stages them (see staged-uploads.ts).
   */
  async authorizeUpload(push: SignedPush, request: UploadRequest, now: number): Promise<UploadAuthorization> {
    const auth = await this.authenticate(push, now, push.registry ?? manifestRegistry(push.body));
    if (!auth.ok) return auth;
    // A redelivery stores nothing: completeUpload answers with the original task.
    const seen = this.deliveries.seen(await this.deliveries.of(push, auth.registry));
    if (seen) return "task" in seen ? { ok: true, registry: auth.registry, duplicate: true } : seen;
    const manifest = parseJson(push.body, UploadManifestSchema);
    if (!manifest.ok) return manifest;
    if (manifest.value.repository !== this.#deps.repo) {
      return failure(
        403,
        "wrong_repository",
        `this upload is for repository "${manifest.value.repository}", not "${this.#deps.repo}"`,
      );
    }
    const { path, length, sha256 } = manifest.value;
    if (path !== request.path)
      return failure(400, "invalid_request", `the URL path and the manifest's path "${path}" differ`);
    if (request.contentLength !== String(length))
      return failure(400, "invalid_request", `Content-Length must be the manifest's length, ${length}`);
    const event = await this.#binned([uploadEvent(manifest.value)]);
    // Checked and reserved in one synchronous block: nothing can take the path in between.
    const refused = this.#deps.events.check(event);
    if (refused) return refused;
    return {
      ok: true,
      registry: auth.registry,
      duplicate: false,
      upload: this.#deps.staged.reserve(path, length, sha256, now),
    };
  }

  /**
   * Accepts a staged upload (the manifest was checked by authorizeUpload):
   * its bytes go to their content address, then the target is listed. With
   * no upload id, a redelivery: answered with the original task.
   */
  async completeUpload(
    push: SignedPush,
    registry: string,
    uploadId: string | null,
    now: number,
  ): Promise<PushResult | Failure> {
    const delivery = await this.deliveries.of(push, registry);
    const upload = uploadId === null ? null : this.#deps.staged.get(uploadId);
    const seen = this.deliveries.seen(delivery);
    if (seen || !upload) {
      if (upload) await this.#deps.staged.discard(upload);
      if (seen) return "task" in seen ? this.#respond(seen.task, push.respondAsync, true) : seen;
      return failure(
        409,
        "upload_expired",
        `upload ${uploadId} is not in progress (refused, or abandoned for too long); send it again`,
      );
    }
    const manifest = parseJson(push.body, UploadManifestSchema);
    if (!manifest.ok) return manifest;
    if (!(await this.#deps.staged.promote(upload))) {
      await this.#deps.staged.discard(upload);
      return failure(409, "upload_expired", `upload ${upload.id} has no staged bytes; send it again`);
    }
    const result = await this.#accept(push, delivery, [uploadEvent(manifest.value)], now, upload.id);
    if (!result.ok || result.duplicate) await this.#deps.staged.discard(upload);
    return result;
  }

  /** Applies a push's events (and accepts upload `uploadId` in the same transaction, if given). */
  async #accept(
    push: SignedPush,
    delivery: Delivery,
    events: TargetEvent[],
    now: number,
    uploadId?: string,
  ): Promise<PushResult | Failure> {
    const { registry } = delivery;
    const binned = await this.#binned(events);
    // Attestations are verified (and their content-addressed bytes stored) before the transaction.
    const rejected = await this.#verifyAttestations(binned);
    if (rejected) return rejected;
    await this.#deps.events.prepare(binned);
    // Written in a group with the pushes ready at about the same time: one commit for all (accept-group.ts).
    const written = this.#group.accept((): AcceptOutcome => {
      // Checked again here: another push may have landed while this one was verified.
      const seen = this.deliveries.seen(delivery);
      if (seen) return "task" in seen ? { task: seen.task, duplicate: true } : seen;
      const refused = this.#deps.events.check(binned);
      if (refused) return refused;
      const seq = this.#deps.roles.nextSeq();
      const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
      const touched = new Set<string>();
      const { awaitingOwners } = this.#deps.events.apply(binned, seq, `registry ${registry}`, id, touched);
      if (uploadId) this.#deps.staged.accepted(uploadId);
      const task: TaskRow = {
        id,
        seq,
        registry,
        events: events.length,
        created_at: now,
        targets_version: null,
        snapshot_version: null,
        timestamp_version: null,
      };
      // Its task and delivery rows, and the marks of the bins it changed, are written with the group's (group-rows.ts).
      const row = { registry, id: delivery.id, body_sha256: delivery.bodySha256, received_at: now, task_id: task.id };
      this.#rows.add(task, row, touched);
      return { task, duplicate: false, awaitingAny: awaitingOwners.length > 0 };
    });
    const outcome = await written.finally(() => this.#deps.events.finish(binned));
    if ("ok" in outcome) return outcome;
    if (outcome.publishSoonFailed) throw outcome.publishSoonFailed.error;
    // The group asked for the publish of its new changes; a respond-async answer is built from what the group knows.
    const { task, duplicate, progress, awaitingAny } = outcome;
    if (push.respondAsync && !duplicate && progress && awaitingAny !== undefined) {
      const view = this.#deps.tasks.view(task, progress, awaitingAny);
      return { ok: true, status: view.state === "published" ? 200 : 202, task: view, duplicate };
    }
    return this.#respond(task, push.respondAsync, duplicate, !duplicate);
  }

  async #verifyAttestations(events: BinnedEvent[]): Promise<Failure | null> {
    const addedHashes = new Map<string, Hashes>();
    for (const [i, event] of events.entries()) {
      if (event.type === "targets.add") addedHashes.set(event.path, event.hashes);
      if (event.type !== "attestations.add") continue;
      // A target an offline role lists is checked against its entry as its owners will sign it (published or waiting).
      const offline = event.offline ? this.#deps.offlineEntry(event.offline, event.path) : undefined;
      const hashes =
        addedHashes.get(event.path) ?? (event.offline ? offline?.hashes : this.#deps.index.get(event.path)?.hashes);
      if (!hashes)
        return failure(409, "unknown_target", `events.${i} (attestations.add "${event.path}"): no such target`);
      const verified = await this.#deps.attestations.verify(`events.${i}`, event.path, hashes, event.bundle);
      if ("ok" in verified) return verified;
      const earlier = events.flatMap((e) => (e.attestation ? [e.attestation] : []));
      const listed = event.offline ? listedAttestations(offline) : undefined;
      const duplicate = this.#deps.attestations.duplicatePredicate(`events.${i}`, verified, earlier, listed);
      if (duplicate) return duplicate;
      event.attestation = verified;
    }
    for (const event of events)
      if (event.attestation) await this.#deps.attestations.store(this.#deps.bucket, event.attestation);
    return null;
  }

  async #respond(
    task: TaskRow,
    respondAsync: boolean,
    duplicate: boolean,
    publishAsked = false,
  ): Promise<PushResult | Failure> {
    if (!respondAsync) {
      const published = await this.#deps.publish(task.seq);
      if (!published.ok) return published;
    } else if (!publishAsked) {
      // Stored and durable; the publish follows (group commit), and failures are retried.
      await this.#deps.publishSoon();
    }
    // Read again: once published, the round that published it recorded the versions that first carry it.
    // A task waiting for an offline role's owners is accepted, not published: 202.
    const view = this.#deps.tasks.get(task.id);
    if (!view) throw new Error(`task ${task.id} has no row after it was accepted`);
    return { ok: true, status: view.state === "published" ? 200 : 202, task: view, duplicate };
  }

  async #binned(events: TargetEvent[]): Promise<BinnedEvent[]> {
    const assign = this.#deps.assigner();
    return events.map((e) => ({ ...e, ...assign(e.path) }));
  }
}

function uploadEvent(manifest: UploadManifest): TargetEvent {
  const { path, length, sha256, custom } = manifest;
  return { type: "targets.add", path, length, hashes: { sha256 }, ...(custom ? { custom } : {}) };
}
