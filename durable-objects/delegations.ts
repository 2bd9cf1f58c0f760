/**
 * Delegations: named targets roles for namespaces, as repository state (the
 * `delegations` table, migration 13), and what they change in publishing.
 *
 * Without delegations, top-level `targets` delegates every path to the hash
 * bins with TAP 15 `succinct_roles`. A targets role cannot list both named
 * roles and succinct ones (python-tuf refuses it, tuf-js ignores the bins),
 * so once a repository has had a delegation, `targets` lists its delegations
 * in order and, last, the catch-all role `bins`, which claims every path
 * (`path_hash_prefixes` 0–f), is terminating and delegates to the same
 * hash bins as before. A client's preorder search meets the delegations
 * first, and a path none claims falls through to the bins. The shape stays
 * once taken: a snapshot may never drop a role an earlier one listed.
 *
 * A delegation is online (the service signs it with the online key, like the
 * bins); it may hold its targets itself, delegate further to nested
 * delegations, or hold them in hash bins of its own (`<name>.bins-XX`).
 * Each target path is listed by exactly one role: the end of the chain of
 * first-claiming delegations from `targets`, which is where a client's
 * search ends too. Changing delegations moves the targets they claim.
 *
 * Or a delegation is offline: its keys are its owners', the service never
 * signs it. The owners sign each version (version 1 comes with the request
 * that adds it, so the role is never listed without a version to serve),
 * the service checks it (src/tuf/offline-role.ts, and every path it lists
 * claimed by it: offline-roles.ts) and the publisher stores and serves those
 * exact bytes.
 * Changes pushed for a path an offline role claims wait for its owners
 * (offline-queue.ts): only the owners' next version changes what clients see.
 *
 * This module holds the tree's changes (adding and removing a delegation)
 * and the assignment of each path to the role that lists it;
 * delegation-tree.ts reads the tree, delegation-reach.ts says which targets
 * a change can move and delegation-moves.ts moves them,
 * delegation-shapes.ts shapes the roles' signed parts.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../src/lib/bytes.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import type { DelegationSpec, DelegationView } from "../src/repository-api.ts";
import { clientsMayDisagree, isDelegatedPathWithDigest } from "../src/tuf/delegations.ts";
import { HashBins } from "../src/tuf/hash-bins.ts";
import type { Targets } from "../src/tuf/targets.ts";
import { CATCH_ALL_ROLE, type ShapeRequest, signedShape } from "./delegation-shapes.ts";
import { DelegationMoves } from "./delegation-moves.ts";
import { type Place, type Scan, scansForAdded, scansOfRoles } from "./delegation-reach.ts";
import { type Assignment, type Delegation, DelegationTree, innerBins, type OfflineOwners } from "./delegation-tree.ts";
import { OfflineRoles, type OfflineVersion } from "./offline-roles.ts";
import { RoleTable } from "./role-table.ts";
import { refusedOr } from "./refused.ts";

export class Delegations {
  readonly #sql: SqlStorage;
  /** The roles' rows, and the marks of those changed (role-table.ts). */
  readonly #roles: RoleTable;
  readonly #topBins: () => HashBins;
  readonly #transaction: <T>(fn: () => T) => T;
  readonly #tree: DelegationTree;
  #active: boolean | undefined;
  /** The roles the offline delegations' owners sign: their versions and the checks they pass (offline-roles.ts). */
  readonly offline: OfflineRoles;

  /** Moves the targets a change reaches (delegation-moves.ts). */
  readonly #moves: DelegationMoves;

  constructor(deps: {
    sql: SqlStorage;
    transaction: <T>(fn: () => T) => T;
    topBins: () => HashBins;
    /** Targets read at a time when a change moves them (REASSIGN_PAGE; smaller in tests). */
    reassignPage?: number;
    /** The most targets one change reads (REASSIGN_MAX; smaller in tests). */
    reassignMax?: number;
  }) {
    const { sql, transaction, topBins, reassignPage, reassignMax } = deps;
    this.#moves = new DelegationMoves({
      sql,
      ...(reassignPage === undefined ? {} : { page: reassignPage }),
      ...(reassignMax === undefined ? {} : { max: reassignMax }),
    });
    this.#sql = sql;
    this.#roles = new RoleTable(sql);
    this.#transaction = transaction;
    this.#topBins = topBins;
    this.#tree = new DelegationTree(sql);
    this.offline = new OfflineRoles({
      sql,
      transaction,
      tree: this.#tree,
      assign: (path) => this.assign(path),
      markDirty: (name, seq) => this.#roles.markDirty([name], seq),
    });
  }

  /**
   * Whether `targets` delegates through named roles (it has had a
   * delegation). Read once and kept until forget(), like the tree: every
   * push asks, and as the only SQL statement of a push's own event the
   * read took about 2 % of the object's isolate at 2,000 targets/s
   * (docs/measured.md, "A push's body read by the Worker").
   */
  active(): boolean {
    this.#active ??= this.#sql.exec("SELECT 1 FROM roles WHERE name = ?", CATCH_ALL_ROLE).toArray().length > 0;
    return this.#active;
  }

  /**
   * Gives `targets` the shape "named roles, then the catch-all `bins`" even
   * with no delegation yet (protected-delegations mode starts with it), in the
   * caller's transaction; marks the catch-all for the round `seq`.
   */
  activate(seq: number): void {
    this.#roles.add(CATCH_ALL_ROLE, seq);
    this.#active = undefined;
  }

  /** Drops what this object remembers of the tree and of active() (after a change, or a transaction that wrote it was rolled back). */
  forget(): void {
    this.#tree.forget();
    this.#active = undefined;
  }

  /** Every delegation in the order a client's search meets them (preorder from targets). */
  list(): DelegationView[] {
    const ordered: Delegation[] = [];
    const visit = (parent: string) => {
      for (const child of this.#tree.children(parent)) {
        ordered.push(child);
        visit(child.name);
      }
    };
    visit("targets");
    return ordered.map((d) => ({
      name: d.name,
      parent: d.parent,
      terminating: d.terminating,
      signing: d.offline ? ("offline" as const) : ("online" as const),
      ...(d.offline
        ? { keyids: Object.keys(d.offline.keys), threshold: d.offline.threshold, version: this.offline.current(d.name) }
        : {}),
      ...(d.paths ? { paths: d.paths } : {}),
      ...(d.path_hash_prefixes ? { path_hash_prefixes: d.path_hash_prefixes } : {}),
      ...(d.bins ? { bins: d.bins.count } : {}),
    }));
  }

  /**
   * assign() for the paths of one batch, or of one change of the tree (no
   * await in between): whether there are delegations, and the top-level
   * bins, are read once, not per path.
   */
  assigner(): (path: string) => Assignment {
    const top = this.#topBins();
    if (!this.active()) return (path) => ({ bin: top.name(top.indexForDigest(sha256(utf8(path)))) });
    return (path) => this.#assignThrough(path, top);
  }

  /** The role that lists `path`: the end of the chain of first-claiming delegations from `targets`. */
  assign(path: string): Assignment {
    return this.assigner()(path);
  }

  /** assign() once `targets` delegates through named roles; `top` are the top-level bins. */
  #assignThrough(path: string, top: HashBins): Assignment {
    const digest = sha256(utf8(path));
    let hex: string | undefined;
    /** The digest in hex, for hash-prefix delegations only. */
    const digestHex = (): string => {
      hex ??= toHex(digest);
      return hex;
    };
    let parent = "targets";
    let holder: Delegation | null = null;
    for (;;) {
      let next: Delegation | null = null;
      for (const child of this.#tree.children(parent)) {
        const ambiguous = child.paths?.find((pattern) => clientsMayDisagree(path, pattern));
        if (ambiguous !== undefined) {
          return {
            bin: "",
            unclaimable: `delegation "${child.name}" pattern "${ambiguous}" matches this path's leading-dot segment in python-tuf and not in tuf-js: rename the path or change the pattern`,
          };
        }
        if (isDelegatedPathWithDigest(child, path, child.path_hash_prefixes ? digestHex() : "")) {
          next = child;
          break;
        }
      }
      if (!next) break;
      holder = next;
      parent = next.name;
    }
    if (!holder) return { bin: top.name(top.indexForDigest(digest)) };
    if (holder.offline) {
      // An offline delegation with bins (offline-bins.ts): each bin is a role its owners sign.
      const role = holder.bins ? holder.bins.name(holder.bins.indexForDigest(digest)) : holder.name;
      return { bin: role, offline: role };
    }
    return { bin: holder.bins ? holder.bins.name(holder.bins.indexForDigest(digest)) : holder.name };
  }

  /**
   * The signed part of a role the delegations shape (`targets` once it lists
   * delegations, the catch-all `bins`, each online delegation: delegation-shapes.ts),
   * or null for the roles the publisher builds itself (the hash bins, inner ones included).
   */
  signedRole(...role: ShapeRequest): Targets | null {
    return signedShape({ tree: this.#tree, active: () => this.active(), topBins: this.#topBins }, ...role);
  }

  /** The owners' newest version of offline role `name`, to publish as it is (offline-roles.ts); null for any other role. */
  offlineFile(name: string): { version: number; expires: string; bytes: Uint8Array<ArrayBuffer> } | null {
    return this.offline.file(name);
  }

  /**
   * Adds a delegation, in the caller's transaction: its roles (and the
   * catch-all, the first time), the targets it now claims moved into it, and
   * every role whose content changed marked for the next round. Returns the
   * roles it touched, or a refusal (nothing written then).
   */
  add(
    spec: DelegationSpec,
    seq: number,
    now: number,
    offline?: { owners: OfflineOwners; first: OfflineVersion; bins?: OfflineVersion[] },
  ): Failure | { touched: string[] } {
    const refused = this.#tree.refusalToAdd(spec);
    if (refused) return refused;
    const reach = scansForAdded(spec, this.#placeOf(spec));
    const instead = `give the delegation narrower path patterns (one with a literal prefix, such as "@acme/*", reads only the paths under it), or add it under a delegation that holds fewer targets`;
    return this.#change(seq, reach, instead, () => {
      const siblings = this.#tree.children(spec.parent);
      const position = Math.min(spec.position ?? siblings.length, siblings.length);
      this.#sql.exec(
        "UPDATE delegations SET position = position + 1 WHERE parent = ? AND position >= ?",
        spec.parent,
        position,
      );
      this.#sql.exec(
        `INSERT INTO delegations (name, parent, position, paths, path_hash_prefixes, terminating, bit_length, created_at,
           offline_keys, offline_threshold)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        spec.name,
        spec.parent,
        position,
        spec.paths ? JSON.stringify(spec.paths) : null,
        spec.path_hash_prefixes ? JSON.stringify(spec.path_hash_prefixes) : null,
        spec.terminating ? 1 : 0,
        spec.bins ? HashBins.bitLengthFor(spec.bins) : null,
        now,
        offline ? JSON.stringify(offline.owners.keys) : null,
        offline ? offline.owners.threshold : null,
      );
      if (offline) {
        // Checked against the tree as it is with this delegation (and so the catch-all) in it.
        this.forget();
        this.#roles.add(CATCH_ALL_ROLE, seq);
        this.offline.store(spec.name, offline.first, now);
      }
      const bins = spec.bins ? innerBins(spec.name, HashBins.bitLengthFor(spec.bins)).names() : [];
      for (const [i, first] of (offline?.bins ?? []).entries()) this.offline.store(bins[i] as string, first, now);
      return [CATCH_ALL_ROLE, spec.parent, spec.name, ...bins];
    });
  }

  /**
   * Where a delegation added under `spec.parent` at its position goes
   * (delegation-reach.ts): the roles that hold what a search reaching it
   * would have ended after it (the parent's own, each later sibling's and
   * its descendants'), and the top-level bins under `targets`.
   */
  #placeOf(spec: DelegationSpec): Place {
    const siblings = this.#tree.children(spec.parent);
    const position = Math.min(spec.position ?? siblings.length, siblings.length);
    const after = spec.parent === "targets" ? [] : [spec.parent];
    const subtree = (d: Delegation): void => {
      after.push(d.name, ...(d.bins?.names() ?? []));
      for (const child of this.#tree.children(d.name)) subtree(child);
    };
    for (const sibling of siblings.slice(position)) subtree(sibling);
    return { after, topBins: spec.parent === "targets" ? this.#topBins() : null };
  }

  /** Removes a delegation with no nested ones; the targets it held move to whichever role claims them now. */
  remove(name: string, seq: number): Failure | { touched: string[] } {
    const delegation = this.#tree.find(name);
    if (!delegation) return failure(404, "not_found", `no delegation "${name}"`);
    const nested = this.#tree.children(name);
    if (nested.length > 0) {
      return failure(
        409,
        "delegation_has_delegations",
        `delegation "${name}" delegates to ${nested.map((d) => `"${d.name}"`).join(", ")}: remove those first`,
      );
    }
    const roles = [name, ...(delegation.bins?.names() ?? [])];
    const instead = `remove some of the targets "${name}" holds first (they are unlisted, not moved), then the delegation`;
    return this.#change(seq, scansOfRoles(roles), instead, () => {
      const { position } = this.#sql
        .exec<{ position: number }>("DELETE FROM delegations WHERE name = ? RETURNING position", name)
        .one();
      this.#sql.exec(
        "UPDATE delegations SET position = position - 1 WHERE parent = ? AND position > ?",
        delegation.parent,
        position,
      );
      // Its roles stay in the snapshot (clients refuse a snapshot that drops one), re-signed empty.
      return [delegation.parent, ...roles];
    });
  }

  /**
   * Runs a change of the tree in one transaction, then moves every target it
   * can move (`reach`: delegation-reach.ts) and every held quarantined entry
   * to the role that claims it now. A target that no role can hold refuses
   * the whole change (nothing is written), and so does a reach of more than
   * REASSIGN_MAX targets, counted first (`instead`: what the operator can do).
   */
  #change(seq: number, reach: Scan[], instead: string, write: () => string[]): Failure | { touched: string[] } {
    const reads = this.#moves.count(reach);
    if (reads > this.#moves.max) {
      return failure(
        409,
        "delegation_change_too_large",
        `this change would read ${reads} targets to find those it moves; one change reads at most ${this.#moves.max} (a request's CPU time): ${instead}`,
      );
    }
    try {
      return refusedOr(() =>
        this.#transaction(() => {
          const touched = new Set(write());
          this.forget();
          for (const name of touched) this.#roles.add(name, seq);
          const rules = { assign: this.assigner(), offlineFile: (role: string) => this.offline.file(role) };
          for (const moved of this.#moves.move(reach, rules)) touched.add(moved);
          this.#roles.markDirty([...touched], seq);
          return { touched: [...touched] };
        }),
      );
    } finally {
      this.forget();
    }
  }
}
