/**
 * Applying a batch of target events, all or nothing: every event is checked
 * against the current state first, and only if all pass are they written,
 * in the caller's transaction.
 *
 * Rules: a path once published is never published with another length or
 * other hashes, even after removal: its whole {length, hashes} is immutable
 * (re-adding the identical entry is allowed, and may change only `custom`),
 * nor added with other bytes than an upload in progress holds it for;
 * remove, yank and unyank name existing targets; a
 * yanked target stays listed, marked in its custom field; an attestation is
 * about a target that exists or is added earlier in the same batch; a
 * quarantined path (quarantine.ts) can only be released or removed.
 */
import { failure, type Failure } from "../src/repository-api.ts";
import type { TargetEvent } from "../src/schemas/webhook.ts";
import type { Hashes } from "../src/tuf/targets.ts";
import type { TargetsIndex } from "./targets-index.ts";
import { jsonArray, jsonRuns } from "./json-rows.ts";
import type { TransparencyLog } from "./transparency-log.ts";
import { encodeValidatedTargetEntry } from "../src/log/entry.ts";
import type { Attestations, VerifiedAttestation } from "./attestations.ts";
import type { Quarantine } from "./quarantine.ts";
import type { StagedUploads } from "./staged-uploads.ts";
import { offlineNamespace } from "./offline-roles.ts";
import type { OfflineQueue, QueuedChange } from "./offline-queue.ts";
import { PENDING_CHANGE_TYPES, type PendingChange } from "../src/tuf/offline-draft.ts";
import type { TargetFile } from "../src/tuf/targets.ts";

type LogTargetType = "target.remove" | "target.yank" | "target.unyank";

export type BinnedEvent = TargetEvent & {
  bin: string;
  /** Why no role can list this path (delegations.ts), if none can. */
  unclaimable?: string;
  /** The offline role that lists this path (delegations.ts): the change waits for its owners (offline-queue.ts). */
  offline?: string;
  /** For attestations.add: the attestation, verified before the transaction. */
  attestation?: VerifiedAttestation;
};

export interface ApplyOptions {
  /** Treat removing an unknown path as nothing to do instead of an error (the operator API). */
  lenientRemove?: boolean;
}

const releasedPaths = (events: readonly BinnedEvent[]) =>
  events.filter((e) => e.type === "targets.release").map((e) => e.path);

/** Who applies a batch, for the audit log: "registry <name>" or "operator[ (<name>)]". */
export type Actor = string;

interface PublishedRow extends Record<string, SqlStorageValue> {
  length: number | null;
  sha256: string | null;
  sha512: string | null;
}

export interface TargetEventsDeps {
  sql: SqlStorage;
  index: TargetsIndex;
  /** The transparency log: each applied event is an entry. */
  log: TransparencyLog;
  attestations: Attestations;
  repo: string;
  quarantine: Quarantine;
  staged: StagedUploads;
  /** Changes for offline roles wait here for their owners' signatures. */
  offline: OfflineQueue;
}

export class TargetEvents {
  readonly #sql: SqlStorage;
  readonly #index: TargetsIndex;
  readonly #log: TransparencyLog;
  readonly #attestations: Attestations;
  readonly #repo: string;
  readonly #quarantine: Quarantine;
  readonly #staged: StagedUploads;
  readonly #offline: OfflineQueue;

  constructor(deps: TargetEventsDeps) {
    this.#sql = deps.sql;
    this.#index = deps.index;
    this.#log = deps.log;
    this.#attestations = deps.attestations;
    this.#repo = deps.repo;
    this.#quarantine = deps.quarantine;
    this.#staged = deps.staged;
    this.#offline = deps.offline;
  }

  /** The first event that cannot be applied, as a Failure naming it; null if all can. */
  check(events: readonly BinnedEvent[], options: ApplyOptions = {}): Failure | null {
    const anyQuarantined = this.#quarantine.any();
    const anyStaged = this.#staged.any();
    const published = this.#publishedDigests(events.filter((e) => e.type === "targets.add").map((e) => e.path));
    const added = new Set<string>();
    const offlineBatch = new Map<string, Record<string, TargetFile>>();
    for (const [i, event] of events.entries()) {
      const at = `events.${i} (${event.type} "${event.path}")`;
      if (event.offline) {
        const refused = this.#checkOffline(event, event.offline, at, offlineBatch, options);
        if (refused) return refused;
        continue;
      }
      const quarantined = anyQuarantined && this.#quarantine.has(event.path);
      if (event.type === "targets.release") {
        if (!this.#quarantine.held(event.path)) return failure(409, "not_quarantined", `${at}: not quarantined`);
      } else if (quarantined && event.type !== "targets.remove") {
        return failure(409, "quarantined_target", `${at}: the target is quarantined; release or remove it first`);
      } else if (event.type === "targets.remove" && quarantined) {
        // Removing a quarantined target is allowed.
      } else if (event.type === "attestations.add") {
        if (!added.has(event.path) && !this.#index.get(event.path))
          return failure(409, "unknown_target", `${at}: no such target`);
        if (!event.attestation) return failure(422, "attestation_rejected", `${at}: not verified`);
      } else if (event.type === "targets.add") {
        if (event.unclaimable) return failure(409, "ambiguous_delegation", `${at}: ${event.unclaimable}`);
        added.add(event.path);
        const clash = immutableClash(published.get(event.path), event.length, event.hashes);
        if (clash) return failure(409, "immutable_target", `${at}: ${clash}`);
        const uploading = anyStaged ? this.#staged.conflict(event.path, event.hashes.sha256) : null;
        if (uploading) return failure(409, "upload_in_progress", `${at}: ${uploading}`);
      } else if (!(event.type === "targets.remove" && options.lenientRemove) && !this.#index.get(event.path)) {
        return failure(409, "unknown_target", `${at}: no such target`);
      }
    }
    return offlineBatch.size > 0 ? this.#offline.checkSize(offlineBatch) : null;
  }

  /**
   * Work before the transaction: a released target's bytes are served again
   * before the metadata lists it. Call finish() after the transaction, whatever its outcome.
   */
  async prepare(events: readonly BinnedEvent[]): Promise<void> {
    const releases = releasedPaths(events);
    if (releases.length > 0) await this.#quarantine.prepareRelease(releases);
  }

  finish(events: readonly BinnedEvent[]): void {
    this.#quarantine.endRelease(releasedPaths(events));
  }

  /**
   * Applies checked events, recording each in the transparency log, and
   * queues those for offline roles for their owners (task `taskId` waits
   * for them); returns how many targets were removed and the offline roles
   * whose owners now have changes to sign. Consecutive additions of
   * distinct paths are written together (#addAll), in a few statements for
   * many targets, with the same rows and log entries, in the same order, as
   * one at a time. With `touched`, the bins the events change are added
   * to it, for the caller to mark (a group of pushes marks its bins once:
   * group-rows.ts); without, they are marked here.
   */
  apply(
    events: readonly BinnedEvent[],
    seq: number,
    actor: Actor = "operator",
    taskId: string | null = null,
    touched?: Set<string>,
  ): { removed: number; awaitingOwners: string[] } {
    const anyQuarantined = this.#quarantine.any();
    let removed = 0;
    const queued: QueuedChange[] = [];
    // Bins changed by the events below, marked once each at the end (same change, same transaction).
    const bins = touched ?? new Set<string>();
    let adds: Array<BinnedEvent & { type: "targets.add" }> = [];
    const addPaths = new Set<string>();
    const flush = () => {
      this.#addAll(adds, bins);
      adds = [];
      addPaths.clear();
    };
    for (const event of events) {
      if (event.offline) {
        queued.push({ role: event.offline, change: pendingChange(event) });
        continue;
      }
      if (event.type === "targets.add") {
        // A batch names each path once (the request schemas); were one named twice, its
        // second addition would follow the first, as one at a time.
        if (addPaths.has(event.path)) flush();
        adds.push(event);
        addPaths.add(event.path);
        continue;
      }
      flush();
      if (event.type === "attestations.add") {
        if (!event.attestation) throw new Error(`attestations.add for ${event.path}: not verified before apply`);
        this.#attestations.record(this.#index, this.#log, event.attestation, seq);
        continue;
      }
      if (event.type === "targets.quarantine") {
        this.#quarantine.hold(event.path, event.reason, event.reference, actor, seq);
        continue;
      }
      if (event.type === "targets.release") {
        this.#quarantine.release(event.path, actor, seq);
        continue;
      }
      if (event.type === "targets.remove" && anyQuarantined && this.#quarantine.held(event.path)) {
        this.#quarantine.remove(event.path, actor, seq);
        removed++;
        continue;
      }
      const hashes = this.#index.get(event.path)?.hashes;
      if (hashes) {
        this.#log.append({
          type: event.type.replace("targets.", "target.") as LogTargetType,
          repository: this.#repo,
          path: event.path,
          hashes,
        });
      }
      switch (event.type) {
        case "targets.remove":
          if (this.#index.remove(event.path, seq, bins)) removed++;
          break;
        case "targets.yank":
        case "targets.unyank": {
          const target = this.#index.get(event.path);
          if (!target) throw new Error(`${event.type} ${event.path}: the target is not listed (checked before apply)`);
          const { yanked: _y, yanked_reason: _r, ...custom } = target.custom ?? {};
          const next =
            event.type === "targets.yank" ? { ...custom, yanked: true, yanked_reason: event.reason } : custom;
          this.#index.upsert({ ...target, custom: Object.keys(next).length ? next : undefined }, seq, bins);
          break;
        }
      }
    }
    flush();
    if (!touched) this.#index.touch(bins, seq);
    const awaitingOwners = queued.length > 0 ? this.#offline.queue(queued, actor, taskId, Date.now()) : [];
    return { removed, awaitingOwners };
  }

  /**
   * Why an event for a path offline role `role` claims cannot wait for its
   * owners, or null. Target changes and attestations can (with the same rules
   * as elsewhere: immutable digests, an upload's reservation, an attestation
   * verified against the entry the owners will sign); quarantine and release
   * cannot (offlineQuarantine in delegations.ts says why).
   */
  #checkOffline(
    event: BinnedEvent,
    role: string,
    at: string,
    batch: Map<string, Record<string, TargetFile>>,
    options: ApplyOptions,
  ): Failure | null {
    if (!PENDING_CHANGE_TYPES.has(event.type)) {
      const refusal = offlineNamespace(role, event.path);
      return { ...refusal, detail: `${at}: ${refusal.detail}` };
    }
    if (event.type === "attestations.add" && !event.attestation)
      return failure(422, "attestation_rejected", `${at}: not verified`);
    if (event.type === "targets.add") {
      const clash = immutableClash(this.#publishedDigests([event.path]).get(event.path), event.length, event.hashes);
      if (clash) return failure(409, "immutable_target", `${at}: ${clash}`);
      const uploading = this.#staged.conflict(event.path, event.hashes.sha256);
      if (uploading) return failure(409, "upload_in_progress", `${at}: ${uploading}`);
    }
    return this.#offline.check(role, pendingChange(event), at, batch, options.lenientRemove === true);
  }

  /**
   * Adds targets (distinct paths, checked): those not listed exactly so
   * already (the same target again: nothing to record or re-sign) are written
   * to the index and logged, many to a statement (a listed row is also the
   * record of its published digest, #publishedDigests); their bins are added
   * to `touched`.
   */
  #addAll(adds: ReadonlyArray<BinnedEvent & { type: "targets.add" }>, touched: Set<string>): void {
    if (adds.length === 0) return;
    const written = this.#index.upsertMany(adds, touched);
    // Their paths and hashes passed the request's schemas (the ones the log's entries are checked with): not again here.
    this.#log.appendMany(
      written.map((event) => ({
        type: "target.add" as const,
        repository: this.#repo,
        path: event.path,
        hashes: event.hashes,
      })),
      encodeValidatedTargetEntry,
    );
  }

  /**
   * The published digests of `paths`, a run of paths per statement
   * (json-rows.ts): a listed path's row, else what published_digests kept
   * when it was removed (a listed row wins: written before migration 20,
   * published_digests may lack its length).
   */
  #publishedDigests(paths: readonly string[]): Map<string, PublishedRow> {
    const out = new Map<string, PublishedRow>();
    const sources = [
      "SELECT path, length, hashes ->> '$.sha256' AS sha256, hashes ->> '$.sha512' AS sha512 FROM targets",
      "SELECT path, length, sha256, sha512 FROM published_digests",
    ];
    for (const run of jsonRuns(paths, (path) => [path])) {
      for (const columns of sources) {
        const rows = run.rows
          ? this.#sql.exec<PublishedRow & { path: string }>(
              `${columns} WHERE path IN (SELECT value ->> 0 FROM json_each(?))`,
              jsonArray(run.rows),
            )
          : this.#sql.exec<PublishedRow & { path: string }>(`${columns} WHERE path = ?`, run.items[0] ?? "");
        for (const row of rows) if (!out.has(row.path)) out.set(row.path, row);
      }
    }
    return out;
  }
}

/** Why a path published as `row` (if it was) may not be published with this length and these hashes, or null if it may. */
function immutableClash(row: PublishedRow | undefined, length: number, hashes: Hashes): string | null {
  if (!row) return null;
  const same =
    (row.length === null || row.length === length) &&
    (row.sha256 ?? undefined) === hashes.sha256 &&
    (row.sha512 ?? undefined) === hashes.sha512;
  if (same) return null;
  const published = {
    ...(row.length === null ? {} : { length: row.length }),
    hashes: {
      ...(row.sha256 === null ? {} : { sha256: row.sha256 }),
      ...(row.sha512 === null ? {} : { sha512: row.sha512 }),
    },
  };
  return `was published as ${JSON.stringify(published)}; a published path never changes its length or hashes`;
}

/** The change an event for an offline role's path asks of its owners (checked to be one of PENDING_CHANGE_TYPES). */
function pendingChange(event: BinnedEvent): PendingChange {
  switch (event.type) {
    case "targets.add":
      return {
        type: event.type,
        path: event.path,
        length: event.length,
        hashes: event.hashes,
        ...(event.custom ? { custom: event.custom } : {}),
      };
    case "targets.yank":
      return { type: event.type, path: event.path, reason: event.reason };
    case "targets.remove":
    case "targets.unyank":
      return { type: event.type, path: event.path };
    case "attestations.add": {
      // Its bundle is stored at its content address already (pushes.ts); the owners' entry will name it.
      const a = event.attestation;
      if (!a) throw new Error(`attestations.add ${event.path}: not verified before apply`);
      return {
        type: event.type,
        path: event.path,
        sha256: a.sha256,
        predicate_type: a.predicateType,
        media_type: a.mediaType,
        publisher: a.publisher,
      };
    }
    default:
      throw new Error(`${event.type} ${event.path}: not a change an offline role's owners sign`);
  }
}
