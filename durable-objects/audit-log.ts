/**
 * The repository's audit log: every ceremony step, key change and publish
 * failure, with its time and key id. Append-only; readable via the admin API.
 * Details never hold secrets (no key material, no request bodies). Each event
 * is also one structured log line ("audit").
 */
import { logEvent } from "../src/structured-log.ts";
import { sqlLimit } from "./stable-plans.ts";

export interface AuditEvent {
  id: number;
  at: string;
  kind: string;
  ceremonyId: string | null;
  keyid: string | null;
  detail: string;
}

interface EventRow extends Record<string, SqlStorageValue> {
  id: number;
  at: number;
  kind: string;
  ceremony_id: string | null;
  keyid: string | null;
  detail: string;
}

const toEvent = (r: EventRow): AuditEvent => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  kind: r.kind,
  ceremonyId: r.ceremony_id,
  keyid: r.keyid,
  detail: r.detail,
});

export class AuditLog {
  readonly #sql: SqlStorage;
  readonly #repo: string | undefined;

  constructor(sql: SqlStorage, repo?: string) {
    this.#sql = sql;
    this.#repo = repo;
  }

  record(kind: string, detail: string, refs: { ceremonyId?: string; keyid?: string } = {}): void {
    this.#sql.exec(
      "INSERT INTO events (at, kind, ceremony_id, keyid, detail) VALUES (?, ?, ?, ?, ?)",
      Date.now(),
      kind,
      refs.ceremonyId ?? null,
      refs.keyid ?? null,
      detail.slice(0, 1000),
    );
    logEvent(
      "audit",
      { repository: this.#repo, kind, ceremonyId: refs.ceremonyId, keyid: refs.keyid, detail: detail.slice(0, 1000) },
      /failed|expired/.test(kind) ? "warn" : "info",
    );
  }

  forCeremony(id: string): AuditEvent[] {
    return this.#sql
      .exec<EventRow>("SELECT * FROM events WHERE ceremony_id = +? ORDER BY id", id)
      .toArray()
      .map(toEvent);
  }

  /** The newest events first. */
  recent(limit: number, kind?: string): AuditEvent[] {
    const rows = kind
      ? this.#sql.exec<EventRow>(`SELECT * FROM events WHERE kind = +? ORDER BY id DESC ${sqlLimit(limit)}`, kind)
      : this.#sql.exec<EventRow>(`SELECT * FROM events ORDER BY id DESC ${sqlLimit(limit)}`);
    return rows.toArray().map(toEvent);
  }
}
