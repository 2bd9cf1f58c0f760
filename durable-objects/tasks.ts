/**
 * Tasks: what an accepted change (a registry's push, an upload) became, as
 * its poll (`GET /{repo}/tasks/{id}`) and its own answer see it: queued,
 * publishing, awaiting an offline role's owners, or published, with the
 * versions of the round that first carried it. The rows are written by the
 * pushes that create them (pushes.ts, group-rows.ts); the publisher records
 * on them the round that published them.
 */
import type { PublishedVersions, TaskView } from "../src/repository-api.ts";
import { awaitingAnyColumn } from "./offline-queue.ts";
import { PROGRESS_COLUMNS, type Progress, type ProgressRow, progressOf, type RoleTable } from "./role-table.ts";

export interface TaskRow extends Record<string, SqlStorageValue> {
  id: string;
  seq: number;
  registry: string;
  events: number;
  created_at: number;
  /** The versions of the round that first published it (NULL before; 0 for tasks older than this record). */
  targets_version: number | null;
  snapshot_version: number | null;
  timestamp_version: number | null;
}

export interface TasksDeps {
  sql: SqlStorage;
  roles: RoleTable;
  /** The offline roles whose owners have yet to sign changes of a task (offline-queue.ts). */
  awaitingOwners: (taskId: string) => string[];
  /** Why the last publish failed, while it has not succeeded since. */
  lastFailure: () => string | null;
}

export class Tasks {
  readonly #deps: TasksDeps;

  constructor(deps: TasksDeps) {
    this.#deps = deps;
  }

  /**
   * Records on every task the round just published (its seq is at most the
   * round's and it had no versions yet) the versions that first carry it.
   */
  recordPublished(versions: PublishedVersions, seq: number): void {
    this.#deps.sql.exec(
      `UPDATE tasks SET targets_version = ?, snapshot_version = ?, timestamp_version = ?
       WHERE timestamp_version IS NULL AND seq <= ?`,
      versions.targets,
      versions.snapshot,
      versions.timestamp,
      seq,
    );
  }

  /** Accepted changes not yet in a published timestamp. */
  queued(): number {
    const { roles } = this.#deps;
    if (!roles.roundActive() && !roles.hasChanges()) return 0;
    const published = roles.publishedSeq();
    return this.#deps.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE seq > ?", published).one().n;
  }

  /** A task as its poll sees it: its row, where publishing stands and whether it waits for owners, read in one statement. */
  get(id: string): TaskView | null {
    const row = this.#deps.sql
      .exec<TaskRow & ProgressRow & { awaiting_any: number }>(
        `SELECT tasks.*, ${PROGRESS_COLUMNS}, ${awaitingAnyColumn("tasks.id")} AS awaiting_any FROM tasks WHERE id = ?`,
        id,
      )
      .toArray()[0];
    return row ? this.view(row, progressOf(row), row.awaiting_any === 1) : null;
  }

  /** Task `row` as a poll would see it with publishing at `progress` (and, if `awaitingAny`, changes queued for owners). */
  view(row: TaskRow, progress: Progress, awaitingAny: boolean): TaskView {
    const { roles } = this.#deps;
    // Changes for offline roles are in no published metadata until their owners sign them.
    const awaitingOwners = awaitingAny ? this.#deps.awaitingOwners(row.id) : [];
    const published =
      awaitingOwners.length === 0 &&
      (row.seq <= progress.publishedSeq || (!progress.roundActive && !progress.hasChanges));
    const state =
      awaitingOwners.length > 0
        ? "awaiting-owners"
        : published
          ? "published"
          : progress.roundActive && row.seq <= progress.roundSeq
            ? "publishing"
            : "queued";
    const view: TaskView = {
      id: row.id,
      state,
      ...(awaitingOwners.length > 0 ? { awaitingOwners } : {}),
      registry: row.registry,
      events: row.events,
      createdAt: new Date(row.created_at).toISOString(),
    };
    if (published && row.timestamp_version) {
      // The round that published it: a client that has this timestamp version (or later) sees the change.
      view.versions = {
        targets: row.targets_version ?? 0,
        snapshot: row.snapshot_version ?? 0,
        timestamp: row.timestamp_version,
      };
    } else if (published) {
      // Published with no round of its own (it changed nothing), or recorded before rounds were: the current versions carry it.
      view.versions = {
        targets: roles.published("targets")?.version ?? 0,
        snapshot: roles.published("snapshot")?.version ?? 0,
        timestamp: roles.published("timestamp")?.version ?? 0,
      };
    } else {
      const error = this.#deps.lastFailure();
      if (error) view.lastError = error;
    }
    return view;
  }
}
