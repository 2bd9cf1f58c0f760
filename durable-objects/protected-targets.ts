/**
 * Protected-delegations mode (docs/operators.md §12): top-level `targets` is
 * signed offline by its key holders, so the online key can neither remove a
 * delegation nor re-delegate a namespace. Root N+1 names the holders' keys
 * for `targets` (a `protect-delegations` ceremony); from then on the service
 * never signs `targets`. The catch-all `bins` and the online delegations it
 * lists stay signed by the online key, so pushes keep publishing.
 *
 * Every change of `targets` is then a ceremony (ceremonies.ts): this module
 * drafts the next version, the targets of the tree as it would be after the
 * change, by applying the change in a transaction that is rolled back; and at
 * threshold applies it for real, checks that the tree gives exactly the
 * signed draft (refusing otherwise: nothing changes), and stores the signed
 * envelope for the publisher to serve as it is (offline-roles.ts storeTargets).
 */
import { canonicalBytes } from "../src/tuf/canonical.ts";
import { fromUtf8 } from "../src/lib/bytes.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import type { Key } from "../src/tuf/key.ts";
import type { Root } from "../src/tuf/root.ts";
import { serialize, type Signature } from "../src/tuf/metadata.ts";
import type { TargetFile, Targets } from "../src/tuf/targets.ts";
import { failure, type DelegationSpec, type Failure } from "../src/repository-api.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { OfflineOwners } from "./delegation-tree.ts";
import type { Delegations } from "./delegations.ts";
import type { OfflineVersion } from "./offline-roles.ts";
import { ROUND_ROLES, type RoleTable } from "./role-table.ts";
import type { Settings } from "./settings.ts";

/** What publishing a ceremony's targets draft does to the delegations. */
export type DelegationChange =
  | { op: "protect" }
  | { op: "add"; spec: DelegationSpec }
  | { op: "remove"; name: string }
  | { op: "refresh" }
  | { op: "rotate" }
  | { op: "rekey"; keyids: string[]; threshold: number };

/** An offline delegation's owners and version 1, checked (the `add` of an offline delegation needs them). */
export type OfflineFirst = { owners: OfflineOwners; first: OfflineVersion; bins?: OfflineVersion[] };

export interface ProtectedTargetsDeps {
  sql: SqlStorage;
  transaction: <T>(fn: () => T) => T;
  delegations: Delegations;
  roles: RoleTable;
  bucket: RepositoryBucket;
  settings: () => Settings;
  now: () => Date;
  /** The top-level targets' own target files (the log's verifier key), stored. */
  ownTargets: () => Promise<Record<string, TargetFile>>;
}

/** Thrown inside a transaction to roll it back. */
class RollBack extends Error {
  readonly failure: Failure | null;
  constructor(refusal: Failure | null) {
    super(refusal?.detail ?? "rolled back");
    this.failure = refusal;
  }
}

/** The change in words, for the audit log and the people who sign. */
export function describeChange(change: DelegationChange | null): string {
  if (!change) return "no change to the delegations";
  switch (change.op) {
    case "protect":
      return "targets is signed offline from now on: the online key can no longer change the delegations";
    case "add": {
      const s = change.spec;
      const claims = s.paths ? `paths ${s.paths.join(" ")}` : `path_hash_prefixes ${s.path_hash_prefixes?.join(" ")}`;
      const signing = s.signing === "offline" ? `offline (${s.threshold} of ${s.keys?.length} owner keys)` : "online";
      return `add delegation ${s.name} (${claims}${s.terminating ? ", terminating" : ""}, ${signing}${s.bins ? `, ${s.bins} bins` : ""})`;
    }
    case "remove":
      return `remove delegation ${change.name}`;
    case "refresh":
      return "the same delegations with a later expiry";
    case "rotate":
      return "the online key is rotated: the catch-all bins and the online delegations are delegated to the new key";
    case "rekey":
      return `the same delegations, signed from now on by ${change.threshold} of the ${change.keyids.length} targets key(s) the new root names (${change.keyids.join(", ")})`;
  }
}

/**
 * In protected mode, what a root draft does to the keys that sign targets:
 * nothing (null), a change its key holders' ceremony carries with the next
 * targets signed by the new keys (`rekey`), or why it may not (the online
 * key, or no offline keys at all, would sign targets again).
 */
export function targetsRekey(
  trusted: Root,
  draft: Root,
  onlineKeyId: string,
): Failure | (DelegationChange & { op: "rekey" }) | null {
  const before = trusted.roles.targets;
  const after = draft.roles.targets;
  const same =
    JSON.stringify(before) === JSON.stringify(after) &&
    before.keyids.every((k) => JSON.stringify(draft.keys[k]) === JSON.stringify(trusted.keys[k]));
  if (same) return null;
  if (after.keyids.includes(onlineKeyId))
    return failure(
      422,
      "invalid_root",
      "the online key cannot be one of the keys that sign targets offline (protected-delegations mode)",
    );
  return { op: "rekey", keyids: [...after.keyids], threshold: after.threshold };
}

export class ProtectedTargets {
  readonly #deps: ProtectedTargetsDeps;

  constructor(deps: ProtectedTargetsDeps) {
    this.#deps = deps;
  }

  /** Whether `targets` is signed offline (protected-delegations mode). */
  active(): boolean {
    return this.#deps.delegations.offline.targetsOffline();
  }

  /**
   * The next `targets` version's signed part: the tree after `change` (not
   * kept), delegating online roles to `online`. Reserves the version, so no
   * other draft or round ever uses it. A change the tree refuses is returned.
   */
  async draft(
    change: DelegationChange,
    online: { keyid: string; key: Key },
    offline?: OfflineFirst,
  ): Promise<Failure | { signed: Targets; base: Targets | null }> {
    const { delegations, roles, settings, now } = this.#deps;
    const ownTargets = await this.#deps.ownTargets();
    const base = await this.#published();
    const expires = expiresAt(settings().expiry, "targets", now());
    let signed: Targets | null = null;
    try {
      this.#deps.transaction(() => {
        const refused = this.#applyTree(change, 0, now().getTime(), offline);
        if (refused) throw new RollBack(refused);
        signed = delegations.signedRole("targets", 0, expires, online, () => ownTargets);
        throw new RollBack(null);
      });
    } catch (error) {
      if (!(error instanceof RollBack)) throw error;
      if (error.failure) return error.failure;
    } finally {
      delegations.forget();
    }
    if (!signed) throw new Error("targets has no delegating shape to draft");
    const version = roles.reserveVersion("targets");
    return { signed: { ...(signed as Targets), version }, base };
  }

  /**
   * At threshold, in the caller's transaction: applies `change`, checks that
   * the tree now gives exactly `draft` (signed with `online` for the online
   * roles), stores the signed envelope as `targets`' next version and marks
   * the round. Returns a refusal instead (the caller rolls back).
   */
  apply(
    change: DelegationChange,
    draft: Targets,
    signatures: Signature[],
    online: { keyid: string; key: Key },
    seq: number,
    offline?: OfflineFirst,
  ): Failure | null {
    const { delegations, roles } = this.#deps;
    const now = this.#deps.now().getTime();
    const refused = this.#applyTree(change, seq, now, offline);
    // What the tree's reads kept came from inside this transaction, which the caller rolls back on a refusal.
    delegations.forget();
    if (refused) return refused;
    const own = (draft.targets ?? {}) as Record<string, TargetFile>;
    const tree = delegations.signedRole("targets", draft.version, draft.expires, online, () => own);
    if (!tree || fromUtf8(canonicalBytes(tree)) !== fromUtf8(canonicalBytes(draft))) {
      delegations.forget();
      return failure(
        409,
        "draft_stale",
        "the delegations changed since this targets version was drafted: cancel the ceremony and open it again",
      );
    }
    const file = serialize({ signed: draft, signatures });
    delegations.offline.storeTargets(draft.version, draft.expires, file.bytes, now);
    roles.markDirty(["targets", ...ROUND_ROLES], seq);
    return null;
  }

  #applyTree(change: DelegationChange, seq: number, now: number, offline?: OfflineFirst): Failure | null {
    const { delegations } = this.#deps;
    switch (change.op) {
      case "protect":
        delegations.activate(seq);
        return null;
      case "add": {
        const added = delegations.add(change.spec, seq, now, offline);
        return "ok" in added ? added : null;
      }
      case "remove": {
        const removed = delegations.remove(change.name, seq);
        return "ok" in removed ? removed : null;
      }
      case "refresh":
      case "rotate":
      case "rekey":
        return null;
    }
  }

  /** The published top-level targets' signed part (what a draft is compared with), or null. */
  async #published(): Promise<Targets | null> {
    const published = this.#deps.roles.published("targets");
    if (!published) return null;
    const object = await this.#deps.bucket.getMetadata(`${published.version}.targets.json`);
    if (!object) return null;
    return ((await object.json()) as { signed: Targets }).signed;
  }
}
