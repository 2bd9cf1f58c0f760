/** Storage of ceremonies: drafts of root N+1 and the signatures collected for them. */
import type { Signature } from "../src/tuf/metadata.ts";
import type { Root } from "../src/tuf/root.ts";

export type CeremonyKind = "online-key-rotation" | "root-change" | "root-refresh";
export type CeremonyState = "awaiting-signatures" | "published" | "cancelled" | "expired";

export interface Ceremony {
  id: string;
  kind: CeremonyKind;
  state: CeremonyState;
  rootVersion: number;
  draft: Root;
  signatures: Signature[];
  newOnlineKeyId: string | null;
  openedAt: number;
  expiresAt: number;
  closedAt: number | null;
}

interface CeremonyRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: CeremonyKind;
  state: CeremonyState;
  root_version: number;
  draft: string;
  signatures: string;
  new_online_keyid: string | null;
  opened_at: number;
  expires_at: number;
  closed_at: number | null;
}

const fromRow = (r: CeremonyRow): Ceremony => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  rootVersion: r.root_version,
  draft: JSON.parse(r.draft),
  signatures: JSON.parse(r.signatures),
  newOnlineKeyId: r.new_online_keyid,
  openedAt: r.opened_at,
  expiresAt: r.expires_at,
  closedAt: r.closed_at,
});

export class CeremonyBook {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  open(ceremony: Omit<Ceremony, "state" | "signatures" | "closedAt">): Ceremony {
    this.#sql.exec(
      `INSERT INTO ceremonies (id, kind, state, root_version, draft, signatures, new_online_keyid, opened_at, expires_at)
       VALUES (?, ?, 'awaiting-signatures', ?, ?, '[]', ?, ?, ?)`,
      ceremony.id,
      ceremony.kind,
      ceremony.rootVersion,
      JSON.stringify(ceremony.draft),
      ceremony.newOnlineKeyId,
      ceremony.openedAt,
      ceremony.expiresAt,
    );
    const opened = this.get(ceremony.id);
    if (!opened) throw new Error(`ceremony ${ceremony.id} was not stored`);
    return opened;
  }

  get(id: string): Ceremony | null {
    const row = this.#sql.exec<CeremonyRow>("SELECT * FROM ceremonies WHERE id = ?", id).toArray()[0];
    return row ? fromRow(row) : null;
  }

  current(): Ceremony | null {
    const row = this.#sql
      .exec<CeremonyRow>("SELECT * FROM ceremonies WHERE state = 'awaiting-signatures'")
      .toArray()[0];
    return row ? fromRow(row) : null;
  }

  list(limit: number): Ceremony[] {
    return this.#sql
      .exec<CeremonyRow>("SELECT * FROM ceremonies ORDER BY opened_at DESC, rowid DESC LIMIT ?", limit)
      .toArray()
      .map(fromRow);
  }

  setSignatures(id: string, signatures: Signature[]): void {
    this.#sql.exec("UPDATE ceremonies SET signatures = ? WHERE id = ?", JSON.stringify(signatures), id);
  }

  close(id: string, state: Exclude<CeremonyState, "awaiting-signatures">, at: number): void {
    this.#sql.exec("UPDATE ceremonies SET state = ?, closed_at = ? WHERE id = ?", state, at, id);
  }
}
