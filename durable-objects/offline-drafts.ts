/**
 * The drafts of offline roles' next versions, for their owners to sign
 * (docs/operators.md §12; the queue they carry is offline-queue.ts).
 *
 * A draft is the published version's signed part, version + 1, a new
 * expiry, the published targets with the pending changes applied
 * (src/tuf/offline-draft.ts). The owners sign its canonical bytes on their
 * own machines and submit the signatures one at a time. When the role's
 * threshold is met, the envelope is assembled, to be published like a
 * version the owners submitted whole.
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
import { fromHex, fromUtf8 } from "../src/lib/bytes.ts";
import { sha256Hex } from "../src/lib/digest.ts";
import { failure, type Failure, type OfflineDraftView, type PendingChangeView } from "../src/repository-api.ts";
import { formatExpires, serialize, type Signature } from "../src/tuf/metadata.ts";
import { draftNextVersion, withChanges } from "../src/tuf/offline-draft.ts";
import { MAX_OFFLINE_ROLE_BYTES } from "../src/tuf/offline-role.ts";
import { verifySignature } from "../src/tuf/verify.ts";
import type { AuditLog } from "./audit-log.ts";
import type { OfflineOwners } from "./delegation-tree.ts";
import type { OfflineQueue, Pending } from "./offline-queue.ts";
import type { OfflineRoles } from "./offline-roles.ts";

interface DraftRow extends Record<string, SqlStorageValue> {
  role: string;
  version: number;
  canonical: ArrayBuffer;
  sha256: string;
  through: number;
  signatures: string;
  created_at: number;
}

/** A pinned draft, as stored. */
export interface Draft {
  role: string;
  version: number;
  canonical: Uint8Array<ArrayBuffer>;
  sha256: string;
  through: number;
  signatures: Signature[];
  createdAt: number;
}

/** An unsigned draft older than this is made again when asked for, so its expiry counts from about now. */
const UNSIGNED_DRAFT_REUSE_MS = 86_400_000;

/** What a collected signature led to: more are needed, or the envelope to publish (and which changes it carries). */
export type SignatureOutcome =
  | { complete: false; draft: OfflineDraftView }
  | { complete: true; draft: OfflineDraftView; envelope: Uint8Array<ArrayBuffer>; through: number };

export interface OfflineDraftsDeps {
  sql: SqlStorage;
  audit: AuditLog;
  roles: Pick<OfflineRoles, "current">;
  /** The changes a draft carries, and the published version it follows. */
  queue: Pick<OfflineQueue, "pending" | "published">;
}

export class OfflineDrafts {
  readonly #sql: SqlStorage;
  readonly #audit: AuditLog;
  readonly #roles: OfflineDraftsDeps["roles"];
  readonly #queue: OfflineDraftsDeps["queue"];

  constructor(deps: OfflineDraftsDeps) {
    this.#sql = deps.sql;
    this.#audit = deps.audit;
    this.#roles = deps.roles;
    this.#queue = deps.queue;
  }

  /**
   * The draft of `role`'s next version (see the module comment for when it
   * is made again), pinned before it is returned. `validity`: seconds the
   * version is valid from `now` (the repository's targets expiry).
   */
  async draft(role: string, owners: OfflineOwners, now: Date, validity: number): Promise<OfflineDraftView | Failure> {
    const published = this.#queue.published(role);
    if (!published) return failure(409, "bad_version", `delegation "${role}" has no published version`);
    const pending = this.#queue.pending(role);
    const through = pending.at(-1)?.id ?? 0;
    const pinned = this.pinned(role, now.getTime());
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
    const pinned = this.pinned(role);
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
      const now = this.pinned(role);
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
   * The pinned draft of `role`, if it still is the role's next version and
   * has not expired (an expired draft cannot be published: its signatures
   * are worthless, and the next request makes a new one).
   */
  pinned(role: string, now = Date.now()): Draft | null {
    const row = this.#sql.exec<DraftRow>("SELECT * FROM offline_drafts WHERE role = ?", role).toArray()[0];
    if (!row || row.version !== this.#roles.current(role) + 1) return null;
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
    const changes = this.#queue.pending(draft.role).map(changeView);
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

  /** Whether `role` has a pinned draft with signatures collected (frozen: its owners are signing it). */
  signing(role: string): boolean {
    return (this.pinned(role)?.signatures.length ?? 0) > 0;
  }
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
