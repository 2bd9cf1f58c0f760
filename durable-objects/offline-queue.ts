/**
 * Changes for offline roles, waiting for their owners (docs/operators.md §12).
 *
 * A registry push, an upload or an operator change for a path an offline
 * role claims is accepted like any other (checked, durable before the
 * answer) but never signed by the service: it is queued here
 * (`offline_pending`), in the order accepted, and no published metadata
 * shows it. The owners fetch a draft of the role's next version (the
 * published version's signed part, version + 1, a new expiry, the published
 * targets with the pending changes applied: src/tuf/offline-draft.ts), sign
 * its canonical bytes on their own machines and submit the signatures one at
 * a time. When the role's threshold is met, the service assembles the
 * envelope and publishes it like a version the owners submitted whole; the
 * changes it carries leave the queue, and the tasks of the pushes that
 * brought them are published with it.
 *
 * Pinning (decision): a draft, once made, stays the draft until it is
 * published or superseded. It is made again (superseded) only while no
 * signature has been collected over it, when an owner asks for it and
 * changes arrived since, or it is a day old (so its expiry counts from
 * about now); and whenever the published version moved on or it expired.
 * From the first signature on, it is frozen: later changes queue for the
 * version after it, and a signature is accepted only over the frozen bytes. A signature over
 * other bytes (a superseded draft, an already-published one) is refused
 * (`409 stale_draft`) and changes nothing.
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { fromHex, fromUtf8 } from "../src/lib/bytes.ts";
import { dictionary } from "../src/lib/dictionary.ts";
import { failure, type Failure, type OfflineDraftView, type PendingChangeView } from "../src/repository-api.ts";
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { formatExpires, serialize, type Signature } from "../src/tuf/metadata.ts";
import { MAX_OFFLINE_ROLE_BYTES } from "../src/tuf/offline-role.ts";
import {
  applyPendingChange,
  draftNextVersion,
  type PendingChange,
  targetsDictionary,
  withChanges,
} from "../src/tuf/offline-draft.ts";
import type { TargetFile } from "../src/tuf/targets.ts";
import { listsAttestation } from "../src/tuf/target-attestations.ts";
import { verifySignature } from "../src/tuf/verify.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Delegations, OfflineOwners } from "./delegations.ts";
import type { VerifiedAttestation } from "./attestations.ts";

interface PendingRow extends Record<string, SqlStorageValue> {
  id: number;
  role: string;
  event: string;
  actor: string;
  task_id: string | null;
  at: number;
}

interface DraftRow extends Record<string, SqlStorageValue> {
  role: string;
  version: number;
  canonical: ArrayBuffer;
  sha256: string;
  through: number;
  signatures: string;
  created_at: number;
}

/** A pending change as read back. */
interface Pending {
  id: number;
  role: string;
  actor: string;
  task_id: string | null;
  at: number;
  change: PendingChange;
}

/** An offline role's signed part, as its owners published it (checked then: src/tuf/offline-role.ts). */
type PublishedSigned = Record<string, unknown> & { version: number; targets: Record<string, TargetFile> };

/** A pinned draft, as stored. */
interface Draft {
  role: string;
  version: number;
  canonical: Uint8Array<ArrayBuffer>;
  sha256: string;
  through: number;
  signatures: Signature[];
  createdAt: number;
}

/** Room left in a version beside its targets: the other fields of its signed part and the owners' signatures. */
const DRAFT_OVERHEAD_BYTES = 16 * 1024;

/** An unsigned draft older than this is made again when asked for, so its expiry counts from about now. */
const UNSIGNED_DRAFT_REUSE_MS = 86_400_000;

/** A change the owners' next version is to carry (a pending change with where it came from). */
export interface QueuedChange {
  role: string;
  change: PendingChange;
}

/** What a collected signature led to: more are needed, or the envelope to publish (and which changes it carries). */
export type SignatureOutcome =
  | { complete: false; draft: OfflineDraftView }
  | { complete: true; draft: OfflineDraftView; envelope: Uint8Array<ArrayBuffer>; through: number };

export interface OfflineQueueDeps {
  sql: SqlStorage;
  /** Remembers which role versions' expiry the audit log already announced. */
  kv: SyncKvStorage;
  audit: AuditLog;
  delegations: Pick<Delegations, "owners" | "offlineFile" | "current" | "offlineExpiries" | "offlineRoles">;
  /** Records an attestation the owners' published version lists (attestations.ts recordSigned), in settle()'s transaction. */
  attestationSigned: (attestation: Omit<VerifiedAttestation, "bytes">) => void;
}

/**
 * A result column (0 or 1): whether the task whose id is the SQL expression
 * `taskId` has changes waiting for their owners, for a statement that reads
 * the task itself (pushes.ts); awaiting() then names the roles.
 */
export const awaitingAnyColumn = (taskId: string) => `EXISTS (SELECT 1 FROM offline_pending WHERE task_id = ${taskId})`;

export class OfflineQueue {
  readonly #sql: SqlStorage;
  readonly #kv: SyncKvStorage;
  readonly #audit: AuditLog;
  readonly #delegations: OfflineQueueDeps["delegations"];
  readonly #attestationSigned: OfflineQueueDeps["attestationSigned"];
  /** The published version's signed part, per role, parsed once per version. */
  #published = new Map<string, { version: number; signed: PublishedSigned }>();

  constructor(deps: OfflineQueueDeps) {
    this.#sql = deps.sql;
    this.#kv = deps.kv;
    this.#audit = deps.audit;
    this.#delegations = deps.delegations;
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
      const total = this.#pendingCount(role);
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
      .exec<{ role: string }>("SELECT DISTINCT role FROM offline_pending WHERE task_id = ? ORDER BY role", taskId)
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
      this.#pending(role).map((r) => r.change),
    );
  }

  /**
   * The draft of `role`'s next version (see the module comment for when it
   * is made again), pinned before it is returned. `validity`: seconds the
   * version is valid from `now` (the repository's targets expiry).
   */
  async draft(role: string, owners: OfflineOwners, now: Date, validity: number): Promise<OfflineDraftView | Failure> {
    const published = this.#publishedSigned(role);
    if (!published) return failure(409, "bad_version", `delegation "${role}" has no published version`);
    const pending = this.#pending(role);
    const through = pending.at(-1)?.id ?? 0;
    const pinned = this.#pinned(role, now.getTime());
    const fresh = pinned && pinned.through === through && now.getTime() - pinned.createdAt < UNSIGNED_DRAFT_REUSE_MS;
    if (pinned && (pinned.signatures.length > 0 || fresh)) return this.#view(pinned, owners);
    const expires = formatExpires(new Date(now.getTime() + validity * 1000));
    const made = draftNextVersion(
      published,
      withChanges(
        published.targets,
        pending.map((r) => r.change),
      ),
      expires,
    );
    if (made.canonical.length > MAX_OFFLINE_ROLE_BYTES) {
      return failure(
        409,
        "draft_too_large",
        `the next version of "${role}" would be ${made.canonical.length} bytes, over ${MAX_OFFLINE_ROLE_BYTES}: remove targets, or split the namespace`,
      );
    }
    const draft: Draft = {
      role,
      version: made.signed.version,
      canonical: made.canonical,
      sha256: await sha256Hex(made.canonical),
      through,
      signatures: [],
      createdAt: now.getTime(),
    };
    this.#sql.exec(
      `INSERT INTO offline_drafts (role, version, canonical, sha256, through, signatures, created_at)
       VALUES (?, ?, ?, ?, ?, '[]', ?)
       ON CONFLICT (role) DO UPDATE SET version = excluded.version, canonical = excluded.canonical,
         sha256 = excluded.sha256, through = excluded.through, signatures = '[]', created_at = excluded.created_at`,
      role,
      draft.version,
      draft.canonical.slice().buffer,
      draft.sha256,
      through,
      now.getTime(),
    );
    this.#audit.record(
      "delegation-draft",
      `${role} version ${draft.version} drafted (sha256 ${draft.sha256}), carrying ${pending.length} pending change(s), expires ${expires}`,
    );
    return this.#view(draft, owners);
  }

  /**
   * Checks an owner's signature over the pinned draft named by `sha256`
   * (verified before anything is stored). Returns the draft with the
   * signature collected, or, once the threshold is met, also the envelope
   * to publish; `store` then records the signature (call it, synchronously,
   * only if the envelope is accepted too). A signature over any other bytes
   * is refused and changes nothing.
   */
  async collect(
    role: string,
    owners: OfflineOwners,
    sha256: string,
    given: ReadonlyArray<{ keyid: string; sig: string }>,
  ): Promise<Failure | { outcome: SignatureOutcome; store: () => Failure | null }> {
    const pinned = this.#pinned(role);
    if (!pinned || pinned.sha256 !== sha256) {
      return failure(
        409,
        "stale_draft",
        pinned
          ? `the draft of "${role}" is version ${pinned.version} with sha256 ${pinned.sha256}, not ${sha256}: fetch the draft again and sign it`
          : `"${role}" has no draft with sha256 ${sha256} (superseded or already published): fetch the draft again and sign it`,
      );
    }
    for (const signature of given) {
      const key = Object.hasOwn(owners.keys, signature.keyid) ? owners.keys[signature.keyid] : undefined;
      if (!key) {
        return failure(422, "invalid_signature", `${signature.keyid} is not one of the keys of delegation "${role}"`);
      }
      let sig: Uint8Array;
      try {
        sig = fromHex(signature.sig);
      } catch {
        return failure(422, "invalid_signature", "sig is not hex");
      }
      if (!(await verifySignature(key, sig, pinned.canonical))) {
        return failure(
          422,
          "invalid_signature",
          `the signature does not verify with key ${signature.keyid} over the draft's canonical bytes of "${role}" (sha256 ${pinned.sha256})`,
        );
      }
    }
    const fresh = given.map(({ keyid, sig }) => ({ keyid, sig }));
    const replaced = (s: Signature) => !fresh.some((f) => f.keyid === s.keyid);
    const signatures = [...pinned.signatures.filter(replaced), ...fresh];
    const collected: Draft = { ...pinned, signatures };
    const draft = this.#view(collected, owners);
    const store = () => {
      // Another signature or a new draft may have been stored while this one was verified.
      const now = this.#pinned(role);
      if (!now || now.sha256 !== sha256) {
        return failure(
          409,
          "stale_draft",
          `the draft of "${role}" changed while the signature was checked: fetch it again`,
        );
      }
      const merged = [...now.signatures.filter(replaced), ...fresh];
      this.#sql.exec("UPDATE offline_drafts SET signatures = ? WHERE role = ?", JSON.stringify(merged), role);
      return null;
    };
    if (signatures.length < owners.threshold) return { outcome: { complete: false, draft }, store };
    const envelope = serialize({ signed: JSON.parse(fromUtf8(pinned.canonical)), signatures }).bytes;
    return { outcome: { complete: true, draft, envelope, through: pinned.through }, store };
  }

  /**
   * In the transaction that stores the version carrying the changes up to
   * `through` (its targets: `signed`): they leave the queue, the draft goes,
   * the tasks that waited for them are published with change `seq`, and each
   * attestation it lists is recorded (served from then on, like one the
   * service signed); one whose target left meanwhile is not, and the audit log says so.
   */
  settle(role: string, through: number, seq: number, signed: Readonly<Record<string, TargetFile>>): void {
    for (const { id, change } of this.#pending(role)) {
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

  /** Per offline role with pending changes or a draft: how many changes, since when, and the draft's progress. */
  summaries(): Array<{ role: string; pending: number; since: number | null; draft: Draft | null }> {
    const roles = this.#sql
      .exec<{ role: string }>("SELECT role FROM offline_pending UNION SELECT role FROM offline_drafts ORDER BY role")
      .toArray();
    return roles.map(({ role }) => {
      const { n, since } = this.#sql
        .exec<{ n: number; since: number | null }>(
          "SELECT COUNT(*) AS n, MIN(at) AS since FROM offline_pending WHERE role = ?",
          role,
        )
        .one();
      return { role, pending: n, since, draft: this.#pinned(role) };
    });
  }

  /** What status shows the owners of each offline role: changes waiting for their signatures, and the draft's progress. */
  reminders(): string[] {
    const lines: string[] = [];
    for (const s of this.summaries()) {
      const owners = this.#delegations.owners(s.role);
      if (!owners || (s.pending === 0 && !s.draft?.signatures.length)) continue;
      const next = this.#delegations.current(s.role) + 1;
      const since = s.since === null ? "" : ` since ${new Date(s.since).toISOString()}`;
      const signed = s.draft ? `, ${s.draft.signatures.length} of ${owners.threshold} signatures collected` : "";
      lines.push(
        `delegation ${s.role}: ${s.pending} change(s) wait for its owners${since}: fetch the draft of version ${next} (tuf-edge delegation draft ${delegationOf(s.role)}), sign it and submit the signatures${signed}`,
      );
    }
    return lines;
  }

  /**
   * Tells the owners, through the audit log, once per role version, that an
   * offline role expires within `windowMs` (the service cannot re-sign it;
   * status and health carry the same warning while it lasts).
   */
  remindExpiring(now: number, windowMs: number): void {
    for (const e of this.#delegations.offlineExpiries()) {
      if (Date.parse(e.expires) - now > windowMs) break;
      const key = `offline-expiry-announced:${e.name}`;
      if (this.#kv.get(key) === e.version) continue;
      this.#audit.record(
        "delegation-expiring",
        e.name === "targets" // top-level targets in protected-delegations mode (protected-targets.ts)
          ? `targets version ${e.version} expires at ${e.expires}: it is signed offline, so its key holders sign a targets-refresh ceremony (tuf-edge delegation refresh)`
          : `${e.name} version ${e.version} expires at ${e.expires}: its owners sign and submit version ${e.version + 1} (tuf-edge delegation draft ${delegationOf(e.name)}${this.#inBins(e.name) ? " --renew" : ""}; with nothing pending, the draft re-signs the same targets)`,
      );
      this.#kv.put(key, e.version);
    }
  }

  /** Whether `role` is an offline delegation with bins, or one of its bins (their drafts are made with --renew when nothing is pending). */
  #inBins(role: string): boolean {
    return role.includes(".") || this.#delegations.offlineRoles(role)?.succinct !== undefined;
  }

  /** Adds, to each offline delegation's view, its published expiry, pending changes and draft. */
  annotate<T extends { name: string; signing: string }>(views: T[]): T[] {
    const expiries = dictionary<string>();
    for (const e of this.#delegations.offlineExpiries()) expiries[e.name] = e.expires;
    const summary = (draft: Draft) => ({
      version: draft.version,
      sha256: draft.sha256,
      signatures: draft.signatures.map((s) => s.keyid),
      frozen: draft.signatures.length > 0,
    });
    return views.map((v) => {
      if (v.signing !== "offline") return v;
      const draft = this.#pinned(v.name);
      // A delegation with bins (offline-bins.ts): each bin's draft, and the earliest expiry among its roles.
      const bins = (this.#delegations.offlineRoles(v.name)?.roles ?? []).slice(1);
      const binDrafts = bins.flatMap((role) => {
        const pinned = this.#pinned(role);
        return pinned ? [{ role, ...summary(pinned) }] : [];
      });
      const expires = [v.name, ...bins].flatMap((role) => (expiries[role] ? [expiries[role]] : [])).sort()[0];
      return {
        ...v,
        ...(expires ? { expires } : {}),
        pending: this.pendingCount(v.name),
        ...(draft ? { draft: summary(draft) } : {}),
        ...(bins.length > 0 ? { binDrafts } : {}),
      };
    });
  }

  /**
   * The pinned draft of `role`, if it still is the role's next version and
   * has not expired (an expired draft cannot be published: its signatures
   * are worthless, and the next request makes a new one).
   */
  #pinned(role: string, now = Date.now()): Draft | null {
    const row = this.#sql.exec<DraftRow>("SELECT * FROM offline_drafts WHERE role = ?", role).toArray()[0];
    if (!row || row.version !== this.#delegations.current(role) + 1) return null;
    const canonical = new Uint8Array(row.canonical);
    const { expires } = JSON.parse(fromUtf8(canonical)) as { expires: string };
    if (Date.parse(expires) <= now) return null;
    return {
      role,
      version: row.version,
      canonical,
      sha256: row.sha256,
      through: row.through,
      signatures: JSON.parse(row.signatures),
      createdAt: row.created_at,
    };
  }

  #view(draft: Draft, owners: OfflineOwners): OfflineDraftView {
    const canonical = fromUtf8(draft.canonical);
    const signed = JSON.parse(canonical) as Record<string, unknown> & { expires: string };
    const changes = this.#pending(draft.role).map(changeView);
    return {
      delegation: draft.role,
      publishedVersion: draft.version - 1,
      version: draft.version,
      expires: signed.expires,
      signed,
      canonical,
      sha256: draft.sha256,
      changes: changes.filter((c) => c.id <= draft.through),
      queued: changes.filter((c) => c.id > draft.through),
      keyids: Object.keys(owners.keys),
      threshold: owners.threshold,
      signatures: draft.signatures,
      frozen: draft.signatures.length > 0,
    };
  }

  #pending(role: string): Pending[] {
    return this.#sql
      .exec<PendingRow>("SELECT * FROM offline_pending WHERE role = ? ORDER BY id", role)
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
    return this.#pendingCount(role);
  }

  /** Whether `role` has a pinned draft with signatures collected (frozen: its owners are signing it). */
  signing(role: string): boolean {
    return (this.#pinned(role)?.signatures.length ?? 0) > 0;
  }

  #pendingCount(role: string): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM offline_pending WHERE role = ?", role).one().n;
  }

  #publishedTargets(role: string): Record<string, TargetFile> {
    const signed = this.#publishedSigned(role);
    return targetsDictionary(signed?.targets ?? {});
  }

  /** The signed part of the owners' newest version of `role` (the one the next draft follows). */
  #publishedSigned(role: string): PublishedSigned | null {
    const file = this.#delegations.offlineFile(role);
    if (!file) return null;
    const cached = this.#published.get(role);
    if (cached?.version === file.version) return cached.signed;
    const { signed } = JSON.parse(fromUtf8(file.bytes)) as { signed: PublishedSigned };
    this.#published.set(role, { version: file.version, signed });
    return signed;
  }
}

/** The delegation a role belongs to: itself, or the delegation whose bin it is (`<name>.bins-XX`). */
function delegationOf(role: string): string {
  return role.split(".")[0] as string;
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

function changeView(row: Pending): PendingChangeView {
  return {
    // Parsed from JSON: every field is a JSON value.
    ...(row.change as PendingChangeView),
    id: row.id,
    actor: row.actor,
    ...(row.task_id ? { task: row.task_id } : {}),
    at: new Date(row.at).toISOString(),
  };
}
