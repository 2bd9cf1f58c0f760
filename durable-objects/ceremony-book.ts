/**
 * Storage of ceremonies: drafts of root N+1 and, in protected-delegations
 * mode, of the next top-level targets (protected-targets.ts), and the
 * signatures collected for each.
 */
import type { Signature } from "../src/tuf/metadata.ts";
import type { Root } from "../src/tuf/root.ts";
import type { Targets } from "../src/tuf/targets.ts";
import type { CeremonyKind } from "../src/repository-api.ts";
import type { DelegationChange } from "./protected-targets.ts";
import { sqlLimit } from "./stable-plans.ts";

export type { CeremonyKind };
export type CeremonyState = "awaiting-signatures" | "published" | "cancelled" | "expired";

export interface Ceremony {
  id: string;
  kind: CeremonyKind;
  state: CeremonyState;
  /** The root the ceremony publishes, or (with no root draft) the root in force when it was opened. */
  rootVersion: number;
  /** The draft root N+1, or null when the ceremony changes no root. */
  draft: Root | null;
  signatures: Signature[];
  newOnlineKeyId: string | null;
  openedAt: number;
  expiresAt: number;
  closedAt: number | null;
  /** The next top-level targets version, signed by the targets role's keys, or null. */
  targetsDraft: Targets | null;
  targetsSignatures: Signature[];
  /** The published targets the draft was made against (for its summary), or null. */
  targetsBase: Targets | null;
  /** What publishing the targets draft does to the delegations. */
  change: DelegationChange | null;
}

interface CeremonyRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: CeremonyKind;
  state: CeremonyState;
  root_version: number;
  draft: string | null;
  signatures: string;
  new_online_keyid: string | null;
  opened_at: number;
  expires_at: number;
  closed_at: number | null;
  targets_draft: string | null;
  targets_signatures: string;
  targets_base: string | null;
  change: string | null;
}

const parsed = <T>(json: string | null): T | null => (json === null ? null : JSON.parse(json));

const fromRow = (r: CeremonyRow): Ceremony => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  rootVersion: r.root_version,
  draft: parsed(r.draft),
  signatures: JSON.parse(r.signatures),
  newOnlineKeyId: r.new_online_keyid,
  openedAt: r.opened_at,
  expiresAt: r.expires_at,
  closedAt: r.closed_at,
  targetsDraft: parsed(r.targets_draft),
  targetsSignatures: JSON.parse(r.targets_signatures),
  targetsBase: parsed(r.targets_base),
  change: parsed(r.change),
});

export class CeremonyBook {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  open(ceremony: Omit<Ceremony, "state" | "signatures" | "targetsSignatures" | "closedAt">): Ceremony {
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    this.#sql.exec(
      `INSERT INTO ceremonies (id, kind, state, root_version, draft, signatures, new_online_keyid, opened_at, expires_at,
         targets_draft, targets_base, change)
       VALUES (?, ?, 'awaiting-signatures', ?, ?, '[]', ?, ?, ?, ?, ?, ?)`,
      ceremony.id,
      ceremony.kind,
      ceremony.rootVersion,
      json(ceremony.draft),
      ceremony.newOnlineKeyId,
      ceremony.openedAt,
      ceremony.expiresAt,
      json(ceremony.targetsDraft),
      json(ceremony.targetsBase),
      json(ceremony.change),
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
      .exec<CeremonyRow>(`SELECT * FROM ceremonies ORDER BY opened_at DESC, rowid DESC ${sqlLimit(limit)}`)
      .toArray()
      .map(fromRow);
  }

  setSignatures(id: string, signatures: Signature[]): void {
    this.#sql.exec("UPDATE ceremonies SET signatures = ? WHERE id = ?", JSON.stringify(signatures), id);
  }

  setTargetsSignatures(id: string, signatures: Signature[]): void {
    this.#sql.exec("UPDATE ceremonies SET targets_signatures = ? WHERE id = ?", JSON.stringify(signatures), id);
  }

  close(id: string, state: Exclude<CeremonyState, "awaiting-signatures">, at: number): void {
    this.#sql.exec("UPDATE ceremonies SET state = ?, closed_at = ? WHERE id = ?", state, at, id);
  }
}
