/**
 * Applying a batch of target events, all or nothing: every event is checked
 * against the current state first, and only if all pass are they written,
 * in the caller's transaction.
 *
 * Rules: a path once published with a digest is never published with another
 * (even after removal); remove, yank and unyank name existing targets; a
 * yanked target stays listed, marked in its custom field; an attestation is
 * about a target that exists or is added earlier in the same batch.
 */
import { failure, type Failure } from "../src/repository-api.ts";
import type { TargetEvent } from "../src/schemas/webhook.ts";
import type { Hashes } from "../src/tuf/targets.ts";
import type { TargetsIndex } from "./targets-index.ts";
import type { TransparencyLog } from "./transparency-log.ts";
import type { Attestations, VerifiedAttestation } from "./attestations.ts";

type LogTargetType = "target.add" | "target.remove" | "target.yank" | "target.unyank";

export type BinnedEvent = TargetEvent & {
  bin: string;
  /** For attestations.add: the attestation, verified before the transaction. */
  attestation?: VerifiedAttestation;
};

export interface ApplyOptions {
  /** Treat removing an unknown path as nothing to do instead of an error (the operator API). */
  lenientRemove?: boolean;
}

interface DigestRow extends Record<string, SqlStorageValue> {
  sha256: string | null;
  sha512: string | null;
}

export class TargetEvents {
  readonly #sql: SqlStorage;
  readonly #index: TargetsIndex;
  readonly #log: TransparencyLog;
  readonly #attestations: Attestations;
  readonly #repo: string;

  constructor(sql: SqlStorage, index: TargetsIndex, log: TransparencyLog, attestations: Attestations, repo: string) {
    this.#sql = sql;
    this.#index = index;
    this.#log = log;
    this.#attestations = attestations;
    this.#repo = repo;
  }

  /** The first event that cannot be applied, as a Failure naming it; null if all can. */
  check(events: readonly BinnedEvent[], options: ApplyOptions = {}): Failure | null {
    const added = new Set<string>();
    for (const [i, event] of events.entries()) {
      const at = `events.${i} (${event.type} "${event.path}")`;
      if (event.type === "attestations.add") {
        if (!added.has(event.path) && !this.#index.get(event.path))
          return failure(409, "unknown_target", `${at}: no such target`);
        if (!event.attestation) return failure(422, "attestation_rejected", `${at}: not verified`);
      } else if (event.type === "targets.add") {
        added.add(event.path);
        const clash = this.#digestClash(event.path, event.hashes);
        if (clash) return failure(409, "immutable_target", `${at}: ${clash}`);
      } else if (!(event.type === "targets.remove" && options.lenientRemove) && !this.#index.get(event.path)) {
        return failure(409, "unknown_target", `${at}: no such target`);
      }
    }
    return null;
  }

  /** Applies checked events, recording each in the transparency log; returns how many targets were removed. */
  apply(events: readonly BinnedEvent[], seq: number): { removed: number } {
    let removed = 0;
    for (const event of events) {
      if (event.type === "attestations.add") {
        this.#attestations.record(this.#index, this.#log, event.attestation!, seq);
        continue;
      }
      const hashes = event.type === "targets.add" ? event.hashes : this.#index.get(event.path)?.hashes;
      if (hashes) {
        this.#log.append({
          type: event.type.replace("targets.", "target.") as LogTargetType,
          repository: this.#repo,
          path: event.path,
          hashes,
        });
      }
      switch (event.type) {
        case "targets.add":
          this.#index.upsert(event, seq);
          this.#sql.exec(
            `INSERT INTO published_digests (path, sha256, sha512) VALUES (?, ?, ?)
             ON CONFLICT (path) DO UPDATE SET sha256 = IFNULL(sha256, excluded.sha256), sha512 = IFNULL(sha512, excluded.sha512)`,
            event.path,
            event.hashes.sha256 ?? null,
            event.hashes.sha512 ?? null,
          );
          break;
        case "targets.remove":
          if (this.#index.remove(event.path, seq)) removed++;
          break;
        case "targets.yank":
        case "targets.unyank": {
          const target = this.#index.get(event.path)!;
          const { yanked: _y, yanked_reason: _r, ...custom } = target.custom ?? {};
          const next =
            event.type === "targets.yank" ? { ...custom, yanked: true, yanked_reason: event.reason } : custom;
          this.#index.upsert({ ...target, custom: Object.keys(next).length ? next : undefined }, seq);
          break;
        }
      }
    }
    return { removed };
  }

  /** Why `hashes` may not be published for `path`, or null if they may. */
  #digestClash(path: string, hashes: Hashes): string | null {
    const row = this.#sql
      .exec<DigestRow>("SELECT sha256, sha512 FROM published_digests WHERE path = ?", path)
      .toArray()[0];
    if (!row) return null;
    for (const algorithm of ["sha256", "sha512"] as const) {
      const published = row[algorithm];
      if (published === null) continue;
      if (hashes[algorithm] === undefined) return `was published with a ${algorithm}, which this event must repeat`;
      if (hashes[algorithm] !== published)
        return `was published with another ${algorithm}; a published path never changes its bytes`;
    }
    return null;
  }
}
