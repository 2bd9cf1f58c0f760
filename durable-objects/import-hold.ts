/**
 * An import's batches are stored as they arrive and published together.
 *
 * `tuf-edge import` sends its batches with `"publish": "deferred"`: each is
 * stored durably in its own transaction and acknowledged, but it does not
 * start a publish round. Without the hold, every batch of 10,000 targets
 * started (or joined) a round that re-signed the thousands of bins it touched
 * (about 7,500 of 16,384), so an import re-signed each bin once per batch;
 * with it, once per import. Publishing waits until the first of:
 *
 *   - the import's end (`POST /admin/publish`, which the CLI sends once every
 *     batch is acknowledged);
 *   - IMPORT_IDLE_MS without another deferred batch (a CLI that crashed or was
 *     interrupted: the object's alarm is set for then, so the batches it
 *     stored are published without it);
 *   - any change that is not a deferred batch (a registry push, an operator's
 *     change, a ceremony, a role coming due for re-signing): its round carries
 *     the import's stored batches too.
 *
 * Nothing about publishing itself changes: rounds stage every changed bin,
 * then snapshot, then timestamp, so no timestamp ever points at a file that
 * is not stored. The hold is a row in SQLite (`state`), so it survives the
 * object's restarts and never outlives its deadline.
 */

/** How long publishing waits after an import's latest deferred batch, if the import's end is not announced. */
export const IMPORT_IDLE_MS = 30_000;

const KEY = "import_hold_until";

export class ImportHold {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** A deferred batch was stored at `now`: publishing waits until IMPORT_IDLE_MS later (returned). */
  extend(now: number): number {
    const until = now + IMPORT_IDLE_MS;
    this.#sql.exec(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
      KEY,
      until,
    );
    return this.until(now) ?? until;
  }

  /** Publishing may start now: the import ended, or a change that must not wait arrived. */
  release(): void {
    this.#sql.exec("DELETE FROM state WHERE key = ?", KEY);
  }

  /** The time publishing waits until, or null if it does not wait (no hold, or its deadline passed by `now`). */
  until(now: number): number | null {
    const until = this.#sql.exec<{ value: number }>("SELECT value FROM state WHERE key = ?", KEY).toArray()[0]?.value;
    return until !== undefined && until > now ? until : null;
  }
}
