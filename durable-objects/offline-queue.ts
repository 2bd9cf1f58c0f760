/**
 * Changes for offline roles, waiting for their owners (docs/operators.md §12).
 *
 * A registry push, an upload or an operator change for a path an offline
 * role claims is accepted like any other (checked, durable before the
 * answer) but never signed by the service: it is queued here
 * (`offline_pending`), in the order accepted, and no published metadata
 * shows it. The owners fetch a draft of the role's next version with the
 * pending changes applied (offline-drafts.ts), sign it and submit the
 * signatures; once it is published, the changes it carries leave the queue,
 * and the tasks of the pushes that brought them are published with it.
 */
import { fromUtf8 } from "../src/lib/bytes.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { applyPendingChange, type PendingChange, targetsDictionary, withChanges } from "../src/tuf/offline-draft.ts";
import { MAX_OFFLINE_ROLE_BYTES } from "../src/tuf/offline-role.ts";
import { listsAttestation } from "../src/tuf/target-attestations.ts";
import type { TargetFile } from "../src/tuf/targets.ts";
import type { VerifiedAttestation } from "./attestations.ts";
import type { AuditLog } from "./audit-log.ts";
import type { OfflineRoles } from "./offline-roles.ts";

interface PendingRow extends Record<string, SqlStorageValue> {
  id: number;
  role: string;
  event: string;
  actor: string;
  task_id: string | null;
  at: number;
}

/** A pending change as read back. */
export interface Pending {
  id: number;
  role: string;
  actor: string;
  task_id: string | null;
  at: number;
  change: PendingChange;
}

/** An offline role's signed part, as its owners published it (checked then: src/tuf/offline-role.ts). */
export type PublishedSigned = Record<string, unknown> & { version: number; targets: Record<string, TargetFile> };

/** Room left in a version beside its targets: the other fields of its signed part and the owners' signatures. */
const DRAFT_OVERHEAD_BYTES = 16 * 1024;

/** A change the owners' next version is to carry (a pending change with where it came from). */
export interface QueuedChange {
  role: string;
  change: PendingChange;
}

export interface OfflineQueueDeps {
  sql: SqlStorage;
  audit: AuditLog;
  /** The owners' published versions, which the changes apply to. */
  roles: Pick<OfflineRoles, "file">;
  /** Records an attestation the owners' published version lists (attestations.ts recordSigned), in settle()'s transaction. */
  attestationSigned: (attestation: Omit<VerifiedAttestation, "bytes">) => void;
}

/**
 * A result column (0 or 1): whether the task whose id is the SQL expression
 * `taskId` has changes waiting for their owners, for a statement that reads
 * the task itself (tasks.ts); awaiting() then names the roles.
 */
export const awaitingAnyColumn = (taskId: string) => `EXISTS (SELECT 1 FROM offline_pending WHERE task_id = ${taskId})`;

export class OfflineQueue {
  readonly #sql: SqlStorage;
  readonly #audit: AuditLog;
  readonly #roles: OfflineQueueDeps["roles"];
  readonly #attestationSigned: OfflineQueueDeps["attestationSigned"];
  /** The published version's signed part, per role, parsed once per version. */
  #published = new Map<string, { version: number; signed: PublishedSigned }>();

  constructor(deps: OfflineQueueDeps) {
    this.#sql = deps.sql;
    this.#audit = deps.audit;
    this.#roles = deps.roles;
    this.#attestationSigned = deps.attestationSigned;
  }

  /**
   * Why `change` (event `at` of a batch) cannot be queued for offline role
   * `role`, or null. `batch` holds, per role, the targets as the batch's
   * earlier events leave them; this event is applied to it if it passes.
   * A path's entry never changes its length or hashes here either: not
   * against the published version, nor against a change still pending.
   */
  check(
    role: string,
    change: PendingChange,
    at: string,
    batch: Map<string, Record<string, TargetFile>>,
    lenientRemove: boolean,
  ): Failure | null {
    let targets = batch.get(role);
    if (!targets) {
      targets = this.prospective(role);
      batch.set(role, targets);
    }
    const listed = Object.hasOwn(targets, change.path) ? targets[change.path] : undefined;
    if (change.type === "targets.add") {
      const published = this.#publishedTargets(role);
      for (const before of [listed, Object.hasOwn(published, change.path) ? published[change.path] : undefined]) {
        if (before && !sameBytes(before, change)) {
          return failure(
            409,
            "immutable_target",
            `${at}: delegation "${role}" lists it (published or waiting for its owners) as ${JSON.stringify({ length: before.length, hashes: before.hashes })}; a path never changes its length or hashes`,
          );
        }
      }
    } else if (!listed && !(change.type === "targets.remove" && lenientRemove)) {
      return failure(
        409,
        "unknown_target",
        `${at}: no such target in delegation "${role}" (published or waiting for its owners)`,
      );
    }
    applyPendingChange(targets, change);
    return null;
  }

  /**
   * Why the targets a batch leaves offline roles with (`batch`, filled by
   * check()) could not be signed by their owners, or null: a version holds at
   * most MAX_OFFLINE_ROLE_BYTES, so a change that would make the next draft
   * larger is refused now rather than accepted into a queue that could never
   * be published.
   */
  checkSize(batch: Map<string, Record<string, TargetFile>>): Failure | null {
    for (const [role, targets] of batch) {
      const size = canonicalBytes(targets).length;
      // The rest of the signed part (type, versions, expiry, the owners' own fields) and the envelope's signatures.
      if (size + DRAFT_OVERHEAD_BYTES > MAX_OFFLINE_ROLE_BYTES) {
        return failure(
          409,
          "draft_too_large",
          `delegation "${role}" would list ${size} bytes of targets, more than a version of it may hold (${MAX_OFFLINE_ROLE_BYTES} bytes): its owners remove targets first, or the namespace is split`,
        );
      }
    }
    return null;
  }

  /**
   * Queues checked changes, in the caller's transaction; a change that
   * would leave the role's targets as they are is dropped (nothing for the
   * owners to sign). Returns the roles that got changes.
   */
  queue(changes: readonly QueuedChange[], actor: string, taskId: string | null, now: number): string[] {
    const byRole = new Map<string, PendingChange[]>();
    const prospective = new Map<string, Record<string, TargetFile>>();
    for (const { role, change } of changes) {
      let targets = prospective.get(role);
      if (!targets) {
        targets = this.prospective(role);
        prospective.set(role, targets);
      }
      const before = JSON.stringify(targets[change.path] ?? null);
      applyPendingChange(targets, change);
      if (JSON.stringify(targets[change.path] ?? null) === before) continue;
      this.#sql.exec(
        "INSERT INTO offline_pending (role, event, actor, task_id, at) VALUES (?, ?, ?, ?, ?)",
        role,
        JSON.stringify(change),
        actor,
        taskId,
        now,
      );
      byRole.set(role, [...(byRole.get(role) ?? []), change]);
    }
    for (const [role, queued] of byRole) {
      const total = this.pendingFor(role);
      this.#audit.record(
        "delegation-change-queued",
        `${role}: ${queued.length} change(s) by ${actor} (${describe(queued)}) wait for its owners' signatures; ${total} pending`,
      );
    }
    return [...byRole.keys()];
  }

  /** The offline roles whose owners have yet to sign changes of task `taskId`. */
  awaiting(taskId: string): string[] {
    return this.#sql
      .exec<{ role: string }>("SELECT DISTINCT role FROM offline_pending WHERE task_id = +? ORDER BY role", taskId)
      .toArray()
      .map((r) => r.role);
  }

  /** The entry of `path` in `role` once every pending change is signed (none if it will not be listed). */
  entry(role: string, path: string): TargetFile | undefined {
    const targets = this.prospective(role);
    return Object.hasOwn(targets, path) ? targets[path] : undefined;
  }

  /** The targets role `role` will list once every pending change is signed: published ones, changes applied. */
  prospective(role: string): Record<string, TargetFile> {
    return withChanges(
      this.#publishedTargets(role),
      this.pending(role).map((r) => r.change),
    );
  }

  /**
   * In the transaction that stores the version carrying the changes up to
   * `through` (its targets: `signed`): they leave the queue, the draft goes,
   * the tasks that waited for them are published with change `seq`, and each
   * attestation it lists is recorded (served from then on, like one the
   * service signed); one whose target left meanwhile is not, and the audit log says so.
   */
  settle(role: string, through: number, seq: number, signed: Readonly<Record<string, TargetFile>>): void {
    for (const { id, change } of this.pending(role)) {
      if (id > through || change.type !== "attestations.add") continue;
      const entry = Object.hasOwn(signed, change.path) ? signed[change.path] : undefined;
      if (listsAttestation(entry, change.sha256)) {
        const { sha256, path, predicate_type, media_type, publisher } = change;
        this.#attestationSigned({ sha256, path, predicateType: predicate_type, mediaType: media_type, publisher });
      } else
        this.#audit.record(
          "delegation-attestation-dropped",
          `${role}: the attestation ${change.sha256} of "${change.path}" is not in the version its owners signed (the target is not listed): not published`,
        );
    }
    this.#sql.exec(
      `UPDATE tasks SET seq = ?, targets_version = NULL, snapshot_version = NULL, timestamp_version = NULL
       WHERE id IN (SELECT task_id FROM offline_pending WHERE role = ? AND id <= ? AND task_id IS NOT NULL)`,
      seq,
      role,
      through,
    );
    this.#sql.exec("DELETE FROM offline_pending WHERE role = ? AND id <= ?", role, through);
    this.#sql.exec("DELETE FROM offline_drafts WHERE role = ?", role);
  }

  /** The changes waiting for the owners of `role`, in the order accepted. */
  pending(role: string): Pending[] {
    return this.#sql
      .exec<PendingRow>("SELECT * FROM offline_pending WHERE role = +? ORDER BY id", role)
      .toArray()
      .map(({ event, ...row }) => ({ ...row, change: JSON.parse(event) as PendingChange }));
  }

  /** How many changes wait for the owners of `role` (of a delegation with bins: in all its bins). */
  pendingCount(role: string): number {
    return this.#sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM offline_pending WHERE role = ?1 OR role GLOB ?1 || '.bins-*'",
        role,
      )
      .one().n;
  }

  /** How many changes wait for the owners of exactly `role`. */
  pendingFor(role: string): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM offline_pending WHERE role = ?", role).one().n;
  }

  #publishedTargets(role: string): Record<string, TargetFile> {
    const signed = this.published(role);
    return targetsDictionary(signed?.targets ?? {});
  }

  /** The signed part of the owners' newest version of `role` (the one the next draft follows). */
  published(role: string): PublishedSigned | null {
    const file = this.#roles.file(role);
    if (!file) return null;
    const cached = this.#published.get(role);
    if (cached?.version === file.version) return cached.signed;
    const { signed } = JSON.parse(fromUtf8(file.bytes)) as { signed: PublishedSigned };
    this.#published.set(role, { version: file.version, signed });
    return signed;
  }
}

function sameBytes(a: TargetFile, b: { length: number; hashes: TargetFile["hashes"] }): boolean {
  return a.length === b.length && a.hashes.sha256 === b.hashes.sha256 && a.hashes.sha512 === b.hashes.sha512;
}

function describe(changes: readonly PendingChange[]): string {
  const shown = changes
    .slice(0, 3)
    .map((c) => `${c.type === "attestations.add" ? "attest" : c.type.replace("targets.", "")} ${c.path}`);
  return changes.length > 3 ? `${shown.join(", ")}, …` : shown.join(", ");
}
