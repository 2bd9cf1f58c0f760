/**
 * Quarantine: a target suspected of being malware is taken out of the
 * published metadata (clients can neither fetch nor verify it) while its
 * bytes, attestations and history are kept for review, out of public reach
 * (R2's <repo>/quarantine/ prefix, which no route serves). Operators list
 * quarantined targets and either release one (listed again with exactly the
 * entry it had, so the same digest) or remove it (its kept bytes are deleted).
 *
 * Unlike a yank (PEP 592: still listed, still installable when pinned) a
 * quarantined target cannot be installed at all; unlike a removal it can come
 * back, and its path stays reserved meanwhile: it cannot be added again, with
 * any digest, until it is released or removed (and then the usual immutability
 * holds: a path never changes its bytes).
 *
 * Every step is a transparency-log entry (target.quarantine, target.release,
 * target.remove) written in the transaction that makes it, and an audit-log
 * event naming who did it. The R2 moves happen outside transactions and are
 * retried until done: bytes are restored before a release is applied, and
 * hidden before the publish that drops the target.
 */
import type { QuarantineView } from "../src/repository-api.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { AuditLog } from "./audit-log.ts";
import type { StoredTarget, TargetsIndex } from "./targets-index.ts";
import type { TransparencyLog } from "./transparency-log.ts";

interface Row extends Record<string, SqlStorageValue> {
  path: string;
  target: string;
  reason: string;
  reference: string | null;
  actor: string;
  at: number;
  state: "held" | "removed";
  hidden: number;
}

export interface QuarantineDeps {
  sql: SqlStorage;
  index: TargetsIndex;
  log: TransparencyLog;
  audit: AuditLog;
  bucket: RepositoryBucket;
  repo: string;
  /** Drops an R2 key's response from this location's edge cache. */
  purge: (r2Key: string) => Promise<void>;
  /** Asks for a round that publishes the log's new head when no bin changes (change `seq`). */
  publishLog: (seq: number) => void;
}

export class Quarantine {
  readonly #d: QuarantineDeps;
  /** Paths whose bytes prepareRelease() put back and whose release is being applied: settle() leaves them alone. */
  readonly #releasing = new Map<string, number>();

  constructor(deps: QuarantineDeps) {
    this.#d = deps;
  }

  /** The entry a quarantined (held) target had when it was listed, or null. */
  held(path: string): StoredTarget | null {
    const row = this.#row(path);
    return row?.state === "held" ? (JSON.parse(row.target) as StoredTarget) : null;
  }

  /** Whether a path is quarantined (held, or removed with bytes still to delete). */
  has(path: string): boolean {
    return this.#row(path) !== null;
  }

  /** Whether anything is quarantined at all (lets a batch skip the per-path lookups). */
  any(): boolean {
    return this.#d.sql.exec("SELECT 1 FROM quarantine LIMIT 1").toArray().length > 0;
  }

  // --- inside the caller's transaction --------------------------------------------

  /** Takes a listed target out of the metadata (the caller checked that it is listed). */
  hold(path: string, reason: string, reference: string | undefined, actor: string, seq: number): void {
    const target = this.#d.index.get(path);
    if (!target) throw new Error(`"${path}" is not listed`);
    this.#d.log.append({ type: "target.quarantine", repository: this.#d.repo, path, hashes: target.hashes });
    this.#d.index.remove(path, seq);
    this.#d.sql.exec(
      `INSERT OR REPLACE INTO quarantine (path, target, reason, reference, actor, at, state, hidden)
       VALUES (?, ?, ?, ?, ?, ?, 'held', 0)`,
      path,
      JSON.stringify(target),
      reason,
      reference ?? null,
      actor,
      Date.now(),
    );
    this.#d.audit.record(
      "target-quarantined",
      `"${path}" (sha256 ${target.hashes.sha256 ?? "-"}) by ${actor}: ${reason}${reference ? ` [${reference}]` : ""}`,
    );
  }

  /** Lists a held target again, exactly as it was (the caller checked that it is held). */
  release(path: string, actor: string, seq: number): void {
    const target = this.held(path);
    if (!target) throw new Error(`"${path}" is not quarantined`);
    this.#d.log.append({ type: "target.release", repository: this.#d.repo, path, hashes: target.hashes });
    this.#d.index.upsert(target, seq);
    this.#d.sql.exec("DELETE FROM quarantine WHERE path = ?", path);
    this.#d.audit.record("target-released", `"${path}" (sha256 ${target.hashes.sha256 ?? "-"}) by ${actor}`);
  }

  /** Removes a held target for good; its kept bytes are deleted by the next settle(). */
  remove(path: string, actor: string, seq: number): void {
    const target = this.held(path);
    if (!target) throw new Error(`"${path}" is not quarantined`);
    this.#d.log.append({ type: "target.remove", repository: this.#d.repo, path, hashes: target.hashes });
    this.#d.sql.exec("UPDATE quarantine SET state = 'removed' WHERE path = ?", path);
    this.#d.publishLog(seq);
    this.#d.audit.record(
      "target-removed-from-quarantine",
      `"${path}" (sha256 ${target.hashes.sha256 ?? "-"}) by ${actor}`,
    );
  }

  // --- R2, outside transactions -------------------------------------------------

  /**
   * Before a release is applied: puts the target's bytes and attestations
   * back at their public keys, so the metadata never lists bytes that are not
   * served. Marked not hidden first, so that if the release is then refused,
   * settle() hides them again.
   */
  async prepareRelease(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const target = this.held(path);
      if (!target) continue;
      this.#releasing.set(path, (this.#releasing.get(path) ?? 0) + 1);
      this.#d.sql.exec("UPDATE quarantine SET hidden = 0 WHERE path = ?", path);
      for (const key of this.#keys(path, target, false)) await this.#d.bucket.restore(key);
    }
  }

  /** After the transaction that applied (or refused) the releases prepareRelease() prepared. */
  endRelease(paths: readonly string[]): void {
    for (const path of paths) {
      const n = (this.#releasing.get(path) ?? 1) - 1;
      if (n > 0) this.#releasing.set(path, n);
      else this.#releasing.delete(path);
    }
  }

  /** Hides the bytes of newly quarantined targets and deletes those of removed ones; safe to call any time. */
  async settle(): Promise<void> {
    const rows = this.#d.sql.exec<Row>("SELECT * FROM quarantine WHERE hidden = 0 OR state = 'removed'").toArray();
    for (const row of rows) {
      // A release under way restored these bytes on purpose; if it is refused, the next settle() hides them.
      if (row.state === "held" && this.#releasing.has(row.path)) continue;
      // Attestations a listed target shares stay public.
      const keys = this.#keys(row.path, JSON.parse(row.target) as StoredTarget, true);
      for (const key of keys) {
        await this.#d.bucket.hide(key);
        await this.#d.purge(key).catch(() => undefined);
        if (row.state === "removed") await this.#d.bucket.discard(key);
      }
      if (row.state === "removed") {
        this.#d.sql.exec("DELETE FROM attestations WHERE path = ?", row.path);
        this.#d.sql.exec("DELETE FROM quarantine WHERE path = ? AND state = 'removed'", row.path);
      } else this.#d.sql.exec("UPDATE quarantine SET hidden = 1 WHERE path = ? AND state = 'held'", row.path);
    }
  }

  /** Quarantined targets, newest first, for operators. */
  list(): QuarantineView[] {
    return this.#d.sql
      .exec<Row>("SELECT * FROM quarantine WHERE state = 'held' ORDER BY at DESC, path")
      .toArray()
      .map((row) => {
        const target = JSON.parse(row.target) as StoredTarget;
        return {
          path: row.path,
          length: target.length,
          hashes: target.hashes as Record<string, string>,
          reason: row.reason,
          reference: row.reference,
          by: row.actor,
          at: new Date(row.at).toISOString(),
          attestations: this.#attestations(row.path, false).length,
          bytesHidden: row.hidden === 1,
        };
      });
  }

  /** The kept bytes of a quarantined target, for review. */
  async file(path: string): Promise<R2ObjectBody | null> {
    const target = this.held(path);
    const sha256 = target?.hashes.sha256;
    if (!sha256) return null;
    const key = this.#d.bucket.targetKey(path, sha256);
    return (await this.#d.bucket.getQuarantined(key)) ?? (await this.#d.bucket.getTarget(path, sha256));
  }

  /** The public R2 keys of a target's bytes and of its attestations (only those no listed target shares, if `exclusive`). */
  #keys(path: string, target: StoredTarget, exclusive: boolean): string[] {
    const keys = target.hashes.sha256 ? [this.#d.bucket.targetKey(path, target.hashes.sha256)] : [];
    return [...keys, ...this.#attestations(path, exclusive).map((sha) => this.#d.bucket.attestationKey(sha))];
  }

  #attestations(path: string, exclusive: boolean): string[] {
    const shared = exclusive
      ? `AND NOT EXISTS (SELECT 1 FROM attestations b JOIN targets t ON t.path = b.path
                         WHERE b.sha256 = a.sha256 AND b.path != a.path)`
      : "";
    return this.#d.sql
      .exec<{ sha256: string }>(`SELECT a.sha256 FROM attestations a WHERE a.path = ? ${shared}`, path)
      .toArray()
      .map((r) => r.sha256);
  }

  #row(path: string): Row | null {
    return this.#d.sql.exec<Row>("SELECT * FROM quarantine WHERE path = ?", path).toArray()[0] ?? null;
  }
}
