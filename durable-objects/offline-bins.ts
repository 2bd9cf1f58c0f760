/**
 * Hash bins inside an offline delegation, as repository state
 * (docs/operators.md §12; the signed shape is src/tuf/offline-bins.ts).
 *
 * Such a delegation's roles are its own (no targets, delegating to its bins
 * with the owners' keys) and each bin `<name>.bins-XX`; its owners sign every
 * one of them, the service none. Delegations (delegations.ts) assigns each
 * path of the namespace to its bin, so a change pushed for it is queued for
 * that bin (offline-queue.ts, which is keyed by role): a change touching
 * several bins waits in several queues and gives several drafts (offline-drafts.ts). This module
 * serves the owners all of them at once:
 *   - drafts(): the draft of every role of the delegation that has changes
 *     waiting, or a draft being signed (or, to renew, of every role);
 *   - sign(): one owner's signatures over several of those drafts in one
 *     request, checked all before any is kept; the drafts that reach the
 *     threshold are stored together, in one transaction, and published in
 *     one round.
 * Adding such a delegation carries the owners' version 1 of the role and of
 * every bin (offline-versions.ts offlineFirst), so no role is ever listed
 * without a version.
 */
import {
  type DraftsSigned,
  failure,
  type Failure,
  type PublishedVersions,
  type Result,
} from "../src/repository-api.ts";
import type { OwnersSuccinctDelegations } from "../src/tuf/offline-bins.ts";
import type { AuditLog } from "./audit-log.ts";
import type { OfflineOwners } from "./delegation-tree.ts";
import type { OfflineDrafts, SignatureOutcome } from "./offline-drafts.ts";
import type { OfflineQueue } from "./offline-queue.ts";
import type { OfflineRoles, OfflineVersion } from "./offline-roles.ts";
import { checkedOffline } from "./offline-versions.ts";
import { Refused, refusedOr } from "./refused.ts";

/** One owner's signature over the draft of one role of a delegation (a bin, or the role itself). */
export interface RoleSignature {
  role: string;
  sha256: string;
  signature: { keyid: string; sig: string };
}

export interface OfflineBinsDeps {
  roles: Pick<OfflineRoles, "rolesOf" | "ownersOrRefusal" | "current" | "submitAll">;
  queue: Pick<OfflineQueue, "settle" | "pendingFor">;
  drafts: Pick<OfflineDrafts, "draft" | "collect" | "signing">;
  audit: AuditLog;
  transaction: <T>(fn: () => T) => T;
  nextSeq: () => number;
  publish: (seq: number) => Promise<{ ok: true; versions: PublishedVersions } | Failure>;
}

export class OfflineBins {
  readonly #deps: OfflineBinsDeps;

  constructor(deps: OfflineBinsDeps) {
    this.#deps = deps;
  }

  /**
   * The drafts of the roles of offline delegation `name` its owners have to
   * sign (as JSON text: OfflineDraftView[]): each role with changes waiting
   * or a draft already being signed, in bin order; with `renew`, every role
   * (with nothing pending a draft re-signs the same targets, later expiry).
   */
  async drafts(name: string, now: Date, validity: number, renew: boolean): Promise<Result<{ drafts: string }>> {
    const set = this.#roles(name);
    if ("ok" in set) return set;
    const { queue, drafts } = this.#deps;
    const views = [];
    for (const role of set.roles) {
      if (!renew && queue.pendingFor(role) === 0 && !drafts.signing(role)) continue;
      const draft = await drafts.draft(role, set.owners, now, validity);
      if ("ok" in draft) return draft;
      views.push(draft);
    }
    return { ok: true, drafts: JSON.stringify(views) };
  }

  /**
   * One request's signatures over drafts of `name`'s roles (each named by
   * its role and the SHA-256 of its canonical bytes). All are verified
   * before any is kept; a refused one changes nothing. The drafts whose
   * threshold is then met are stored together and published in one round
   * before the answer.
   */
  async sign(name: string, signatures: readonly RoleSignature[]): Promise<DraftsSigned> {
    const set = this.#roles(name);
    if ("ok" in set) return set;
    const { queue, drafts: offlineDrafts, roles: offlineRoles, audit } = this.#deps;
    const byRole = new Map<string, { sha256: string; given: RoleSignature["signature"][] }>();
    for (const { role, sha256, signature } of signatures) {
      if (!set.roles.includes(role)) {
        return failure(
          422,
          "invalid_request",
          `"${role}" is not a role of delegation "${name}" (${set.roles.join(", ")})`,
        );
      }
      const entry = byRole.get(role) ?? { sha256, given: [] };
      if (entry.sha256 !== sha256) return failure(422, "invalid_request", `"${role}": signatures over two drafts`);
      entry.given.push(signature);
      byRole.set(role, entry);
    }
    const collected: Array<{ role: string; outcome: SignatureOutcome; store: () => Failure | null; keyids: string[] }> =
      [];
    for (const [role, { sha256, given }] of byRole) {
      const result = await offlineDrafts.collect(role, set.owners, sha256, given);
      if ("ok" in result) return result;
      collected.push({ role, ...result, keyids: given.map((g) => g.keyid) });
    }
    const complete: Array<{ role: string; next: OfflineVersion; through: number }> = [];
    for (const { role, outcome } of collected) {
      if (!outcome.complete) continue;
      const succinct = role === name ? set.succinct : undefined;
      const next = await checkedOffline(role, set.owners, outcome.envelope, offlineRoles.current(role), succinct);
      if ("ok" in next) return next;
      complete.push({ role, next, through: outcome.through });
    }
    // A stale draft rolls back the signatures already recorded in the transaction.
    const storeAll = () => {
      for (const c of collected) {
        const stale = c.store();
        if (stale) throw new Refused(stale);
      }
      return null;
    };
    const seq = complete.length > 0 ? this.#deps.nextSeq() : 0;
    const refused =
      complete.length === 0
        ? refusedOr(() => this.#deps.transaction(storeAll))
        : offlineRoles.submitAll(
            complete.map((c) => ({ name: c.role, next: c.next })),
            set.owners,
            seq,
            Date.now(),
            () => {
              storeAll();
              for (const c of complete) queue.settle(c.role, c.through, seq, c.next.checked.targets);
              return null;
            },
          );
    if (refused) return refused;
    for (const { role, outcome, keyids } of collected) {
      const { draft } = outcome;
      audit.record(
        outcome.complete ? "delegation-signed" : "delegation-draft-signed",
        outcome.complete
          ? `${role} version ${draft.version}: the draft's signatures met the threshold (${draft.changes.length} pending change(s) published)`
          : `${role} version ${draft.version}: ${draft.signatures.length} of ${set.owners.threshold} signatures (sha256 ${draft.sha256})`,
        { keyid: keyids.join(",") },
      );
    }
    const drafts = JSON.stringify(collected.map((c) => c.outcome.draft));
    if (complete.length === 0) return { ok: true, drafts, published: null };
    const result = await this.#deps.publish(seq);
    if (!result.ok) return result;
    const roles = complete.map((c) => ({ role: c.role, version: c.next.checked.version }));
    return { ok: true, drafts, published: { roles, versions: result.versions } };
  }

  /** The roles of offline delegation `name`, its owners and its bins' succinct delegations; or why it has none. */
  #roles(name: string): Failure | { roles: string[]; owners: OfflineOwners; succinct?: OwnersSuccinctDelegations } {
    const owners = this.#deps.roles.ownersOrRefusal(name);
    if ("ok" in owners) return owners;
    // A bin has owners, but is no delegation of its own.
    const set = this.#deps.roles.rolesOf(name);
    return set ? { ...set, owners } : failure(404, "not_found", `no delegation "${name}"`);
  }
}
