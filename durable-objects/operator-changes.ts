/**
 * The operator's changes of targets: adds and removes (with the same rules
 * as registry pushes, pushes.ts), quarantine actions, and uploads whose
 * bytes are staged before the target is listed (staged-uploads.ts). Each is
 * checked and applied in one transaction, then published.
 */
import {
  failure,
  type PublishedVersions,
  type Result,
  type StagedUpload,
  type TargetsChange,
} from "../src/repository-api.ts";
import { logEvent } from "../src/structured-log.ts";
import type { RepositoryParts } from "./repository-parts.ts";
import type { Actor, BinnedEvent } from "./target-events.ts";

/** An applied change: the versions that carry it, and the offline roles whose owners must sign part of it. */
export interface AppliedChange {
  versions: PublishedVersions;
  removed: number;
  pending: boolean;
  awaitingOwners: string[];
  /** A deferred import batch: published at the import's end, at the latest at this time (import-hold.ts). */
  publishBy?: string;
}

/**
 * How a change is published: `wait` (default) answers once it is published;
 * `wait: false` once it is stored (respond-async), with its round starting at
 * once, or, with `deferred` (a batch of an import), once the import ends.
 */
export interface ChangeOptions {
  wait?: boolean;
  deferred?: boolean;
}

/** A quarantine action: quarantine a listed target, release a quarantined one, or remove it for good. */
export type QuarantineChange =
  | { type: "targets.quarantine"; path: string; reason: string; reference?: string }
  | { type: "targets.release" | "targets.remove"; path: string };

export class OperatorChanges {
  readonly #p: RepositoryParts;

  constructor(parts: RepositoryParts) {
    this.#p = parts;
  }

  /**
   * Adds and removes targets as one change, published together. Same rules
   * as registry pushes, except that removing an unknown path is ignored (and
   * not counted).
   */
  async change(change: TargetsChange, options: ChangeOptions = {}): Promise<Result<AppliedChange>> {
    const ready = await this.#p.changesRefused();
    if (ready) return ready;
    const assign = this.#p.delegations.assigner();
    const events: BinnedEvent[] = [
      ...(change.remove ?? []).map((path) => ({ type: "targets.remove" as const, path, ...assign(path) })),
      ...(change.add ?? []).map((t) => ({ type: "targets.add" as const, ...t, ...assign(t.path) })),
    ];
    return this.#apply(events, "operator", options);
  }

  /** A quarantine action; `by` names the operator in the audit log. */
  async quarantine(change: QuarantineChange, by?: string): Promise<Result<AppliedChange>> {
    const ready = this.#p.requireBootstrapped();
    if (ready) return ready;
    if (change.type === "targets.remove" && !this.#p.quarantine.held(change.path))
      return failure(409, "not_quarantined", `"${change.path}" is not quarantined`);
    const event = { ...change, ...this.#p.delegations.assign(change.path) } as BinnedEvent;
    return this.#apply([event], by ? `operator (${by})` : "operator", {});
  }

  /**
   * An upload, before any byte is stored: checks that the target may be added
   * with these bytes and reserves the path for them (the Worker then stages
   * the bytes; see staged-uploads.ts).
   */
  async reserveUpload(target: {
    path: string;
    length: number;
    sha256: string;
  }): Promise<Result<{ upload: StagedUpload }>> {
    const p = this.#p;
    const ready = await p.changesRefused();
    if (ready) return ready;
    const { path, length, sha256 } = target;
    const refused = p.targetEvents.check([
      { type: "targets.add", path, length, hashes: { sha256 }, ...p.delegations.assign(path) },
    ]);
    if (refused) return refused;
    return { ok: true, upload: p.staged.reserve(path, length, sha256, Date.now()) };
  }

  /** Accepts a staged upload: its bytes go to their content address, then the target is listed and published. */
  async completeUpload(uploadId: string): Promise<Result<{ versions: PublishedVersions; awaitingOwners: string[] }>> {
    const p = this.#p;
    const upload = p.staged.get(uploadId);
    if (!upload) return failure(409, "upload_expired", `upload ${uploadId} is not in progress; send it again`);
    if (!(await p.staged.promote(upload))) {
      await p.staged.discard(upload);
      return failure(409, "upload_expired", `upload ${uploadId} has no staged bytes; send it again`);
    }
    const { path, length, sha256 } = upload;
    const add = { type: "targets.add" as const, path, length, hashes: { sha256 }, ...p.delegations.assign(path) };
    const result = await this.#apply([add], "operator", {}, upload.id);
    if (!result.ok) await p.staged.discard(upload);
    return result.ok ? { ok: true, versions: result.versions, awaitingOwners: result.awaitingOwners } : result;
  }

  /** Discards an upload whose bytes could not be staged (or were refused): nothing of it stays. */
  async abandonUpload(uploadId: string): Promise<void> {
    const upload = this.#p.staged.get(uploadId);
    if (upload) await this.#p.staged.discard(upload);
  }

  /**
   * A stored import batch waits for the import's end (import-hold.ts); the
   * alarm is set for the hold's deadline. Its log entries are hashed and
   * their full tiles stored now, a batch at a time, so that the round which
   * publishes the import stays within one invocation's budget. The hashing
   * goes a slice per turn (hashInTurns), so the pushes that arrive meanwhile
   * do not wait for all of a batch's 10,000 entries. Returns the deadline.
   */
  async #deferForImport(): Promise<number> {
    const p = this.#p;
    const until = p.commits.deferForImport(Date.now());
    await p.scheduler.arm(p.requireSettings());
    // Derived work: if it fails, the round that publishes the import does it.
    await p.tlog
      .hashInTurns(() => p.turns.next())
      .then(() => p.tlog.storeFullTiles(p.bucket))
      .catch((error: unknown) =>
        logEvent("log.full-tiles-failed", { repository: p.name, error: String(error) }, "warn"),
      );
    return until;
  }

  /** Applies checked events in one transaction (accepting staged upload `uploadId` in it, if given), then publishes. */
  async #apply(
    events: BinnedEvent[],
    actor: Actor,
    options: ChangeOptions,
    uploadId?: string,
  ): Promise<Result<AppliedChange>> {
    const p = this.#p;
    await p.targetEvents.prepare(events);
    const applied = p.transaction(() => {
      const refused = p.targetEvents.check(events, { lenientRemove: true });
      if (refused) return refused;
      const seq = p.publisher.roles.nextSeq();
      if (uploadId) p.staged.accepted(uploadId);
      return { ok: true as const, seq, ...p.targetEvents.apply(events, seq, actor) };
    });
    p.targetEvents.finish(events);
    await p.settleQuarantine();
    if (!applied.ok) return applied;
    const { awaitingOwners } = applied;
    if (options.wait === false && options.deferred) {
      const publishBy = await this.#deferForImport();
      return {
        ok: true,
        versions: p.publisher.versions(),
        removed: applied.removed,
        pending: true,
        awaitingOwners,
        publishBy: new Date(publishBy).toISOString(),
      };
    }
    if (options.wait === false) {
      // Stored and durable; the publish follows (group commit), and failures are retried.
      await p.commits.publishSoon();
      return { ok: true, versions: p.publisher.versions(), removed: applied.removed, pending: true, awaitingOwners };
    }
    const result = await p.publishThrough(applied.seq);
    return result.ok ? { ...result, removed: applied.removed, pending: false, awaitingOwners } : result;
  }
}
