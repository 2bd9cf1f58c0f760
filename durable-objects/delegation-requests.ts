/**
 * The object's requests about delegations (docs/operators.md §12): the
 * operator adds and removes them, an offline role's owners fetch its draft
 * (or, with bins inside it, every bin's: offline-bins.ts), sign it or submit
 * a whole version. Each is checked, stored in one
 * transaction and published before the answer; in protected-delegations
 * mode a change of what `targets` delegates opens a ceremony instead.
 */
import type {
  DelegationSpec,
  DelegationView,
  DelegationsView,
  DraftsSigned,
  PublishedVersions,
  Result,
} from "../src/repository-api.ts";
import { failure } from "../src/repository-api.ts";
import { published } from "./group-commit.ts";
import { OfflineBins, type RoleSignature } from "./offline-bins.ts";
import { checkedOffline, offlineFirst } from "./offline-versions.ts";
import { describeChange } from "./protected-targets.ts";
import type { CeremonyResult, RepositoryParts } from "./repository-parts.ts";

export class DelegationRequests {
  readonly #p: RepositoryParts;

  readonly #bins: OfflineBins;

  constructor(parts: RepositoryParts) {
    this.#p = parts;
    this.#bins = new OfflineBins({
      roles: parts.offlineRoles,
      queue: parts.offlineQueue,
      drafts: parts.offlineDrafts,
      audit: parts.audit,
      transaction: parts.transaction,
      nextSeq: () => parts.publisher.roles.nextSeq(),
      publish: (seq) => parts.publishThrough(seq),
    });
  }

  list(): DelegationView[] {
    return this.#p.offlineStatus.annotate(this.#p.delegations.list());
  }

  /**
   * The draft of offline role `name`'s next version (an OfflineDraftView, as JSON text), for its owners to sign:
   * the published targets with the changes waiting for them applied
   * (offline-drafts.ts says when a draft is made again and when it is frozen).
   */
  async draft(name: string): Promise<Result<{ draft: string }>> {
    const settings = this.#p.bootstrappedSettings();
    if ("ok" in settings) return settings;
    const owners = this.#p.offlineRoles.ownersOrRefusal(name);
    if ("ok" in owners) return owners;
    const draft = await this.#p.offlineDrafts.draft(name, owners, new Date(), settings.expiry.targets);
    return "ok" in draft ? draft : { ok: true, draft: JSON.stringify(draft) };
  }

  /**
   * An owner's signature over the draft named by `sha256`: collected, and
   * once the role's threshold is met the version is assembled, checked like
   * a version the owners submit whole, and published before the answer (the
   * changes it carries leave the queue; their tasks are published with it).
   */
  async signDraft(
    name: string,
    sha256: string,
    signature: { keyid: string; sig: string },
  ): Promise<Result<{ draft: string; published: { version: number; versions: PublishedVersions } | null }>> {
    const signed = await this.signDrafts(name, [{ role: name, sha256, signature }]);
    if (!signed.ok) return signed;
    const [draft] = JSON.parse(signed.drafts) as unknown[];
    const version = signed.published?.roles[0]?.version;
    return {
      ok: true,
      draft: JSON.stringify(draft),
      published: signed.published && version ? { version, versions: signed.published.versions } : null,
    };
  }

  /**
   * The drafts of offline delegation `name`'s roles its owners have to sign
   * (OfflineDraftView[] as JSON text): with bins inside it, one per bin with
   * changes waiting; `renew`: every role's (offline-bins.ts).
   */
  async drafts(name: string, renew: boolean): Promise<Result<{ drafts: string }>> {
    const settings = this.#p.bootstrappedSettings();
    if ("ok" in settings) return settings;
    return this.#bins.drafts(name, new Date(), settings.expiry.targets, renew);
  }

  /** One owner's signatures over drafts of `name`'s roles; those at their threshold are published together, before the answer. */
  async signDrafts(name: string, signatures: readonly RoleSignature[]): Promise<DraftsSigned> {
    const ready = await this.#p.changesRefused();
    if (ready) return ready;
    return this.#bins.sign(name, signatures);
  }

  /**
   * Adds a delegation (docs/operators.md "Delegations"): published before the
   * answer, with the targets it claims moved into it; an offline one comes
   * with its owners' version 1.
   */
  async add(
    spec: DelegationSpec,
  ): Promise<Result<{ delegation: DelegationView; versions: PublishedVersions }> | CeremonyResult> {
    const p = this.#p;
    const ready = await p.changesRefused();
    if (ready) return ready;
    const offline = spec.signing === "offline" ? await offlineFirst(spec) : undefined;
    if (offline && "ok" in offline) return offline;
    // Protected mode: a change of what targets delegates waits for its key holders (a ceremony).
    if (spec.parent === "targets" && p.protectedTargets.active()) {
      return p.openTargetsChange(() => p.ceremonies.openTargetsChange({ op: "add", spec }, offline));
    }
    const seq = p.publisher.roles.nextSeq();
    const added = p.delegations.add(spec, seq, Date.now(), offline);
    if ("ok" in added) return added;
    const where = spec.paths
      ? `paths ${spec.paths.join(" ")}`
      : `path_hash_prefixes ${spec.path_hash_prefixes?.join(" ")}`;
    p.audit.record(
      "delegation-added",
      `${spec.name} under ${spec.parent}: ${where}${spec.terminating ? ", terminating" : ""}${spec.bins ? `, ${spec.bins} bins` : ""}${offline ? `, offline (${offline.owners.threshold} of ${spec.keys?.length} keys), version 1` : ""}`,
    );
    const result = await published(p.commits.publish(seq));
    if (!result.ok) return result;
    const delegation = p.delegations.list().find((d) => d.name === spec.name) as DelegationView;
    return { ok: true, delegation, versions: result.versions };
  }

  /**
   * An offline delegation's next version, signed by its owners
   * (docs/operators.md §12): checked, stored as it is, and published before
   * the answer (the snapshot lists it; the transparency log records it).
   */
  async submit(name: string, bytes: Uint8Array): Promise<Result<{ version: number; versions: PublishedVersions }>> {
    const p = this.#p;
    const ready = await p.changesRefused();
    if (ready) return ready;
    const owners = this.#p.offlineRoles.ownersOrRefusal(name);
    if ("ok" in owners) return owners;
    const succinct = p.offlineRoles.rolesOf(name)?.succinct;
    const next = await checkedOffline(name, owners, bytes, p.offlineRoles.current(name), succinct);
    if ("ok" in next) return next;
    const seq = p.publisher.roles.nextSeq();
    const refused = p.offlineRoles.submit(name, next, owners, seq, Date.now());
    if (refused) return refused;
    p.audit.record(
      "delegation-signed",
      `${name} version ${next.checked.version} (${Object.keys(next.checked.targets).length} targets), expires ${next.checked.expires}`,
    );
    const result = await published(p.commits.publish(seq));
    return result.ok ? { ok: true, version: next.checked.version, versions: result.versions } : result;
  }

  /** Removes a delegation with no nested ones; its targets go to whichever role claims them now. */
  async remove(name: string): Promise<Result<{ versions: PublishedVersions }> | CeremonyResult> {
    const p = this.#p;
    const ready = await p.changesRefused();
    if (ready) return ready;
    const waiting = p.offlineQueue.pendingCount(name);
    if (waiting > 0) {
      // Their pushes were accepted for the owners to sign; dropping them silently would lose acknowledged changes.
      return failure(
        409,
        "pending_changes",
        `delegation "${name}" has ${waiting} change(s) waiting for its owners: have them sign the draft (tuf-edge delegation draft ${name}) before removing it`,
      );
    }
    const parent = p.delegations.list().find((d) => d.name === name)?.parent;
    if (parent === "targets" && p.protectedTargets.active()) {
      return p.openTargetsChange(() => p.ceremonies.openTargetsChange({ op: "remove", name }));
    }
    const seq = p.publisher.roles.nextSeq();
    const removed = p.delegations.remove(name, seq);
    if ("ok" in removed) return removed;
    p.audit.record("delegation-removed", name);
    const result = await published(p.commits.publish(seq));
    return result.ok ? { ok: true, versions: result.versions } : result;
  }

  /** The delegations, how `targets` is signed, and the open ceremony that would change it (for operators). */
  async overview(): Promise<Result<DelegationsView>> {
    const p = this.#p;
    const ready = p.requireBootstrapped();
    if (ready) return ready;
    p.ceremonies.expireStale();
    const trusted = await p.trustedRoot();
    const publishedRole = (name: string) => p.publisher.roles.published(name);
    const targets = publishedRole("targets");
    const open = p.ceremonies.book.current();
    return {
      ok: true,
      delegations: this.list().map((d) => {
        const role = publishedRole(d.name);
        // An offline role's `expires` (offline-status.ts) is the earliest of its own and its bins': the one its owners must act on first.
        return { ...d, ...(role ? { version: d.version ?? role.version, expires: d.expires ?? role.expires } : {}) };
      }),
      targets: {
        signing: p.protectedTargets.active() ? "offline" : "online",
        version: targets?.version ?? 0,
        expires: targets?.expires ?? null,
        keyids: trusted.roles.targets.keyids,
        threshold: trusted.roles.targets.threshold,
      },
      pending:
        open?.targetsDraft && open.state === "awaiting-signatures"
          ? [
              {
                id: open.id,
                kind: open.kind,
                change: describeChange(open.change),
                expiresAt: new Date(open.expiresAt).toISOString(),
              },
            ]
          : [],
    };
  }
}
