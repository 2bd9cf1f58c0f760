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
 * This module holds the tree's changes (adding and removing a delegation,
 * moving the targets they claim) and the assignment of each path to the role
 * that lists it; delegation-tree.ts reads the tree, delegation-shapes.ts
 * shapes the roles' signed parts.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromUtf8, toHex, utf8 } from "../src/lib/bytes.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import type { DelegationSpec, DelegationView } from "../src/repository-api.ts";
import { clientsMayDisagree, isDelegatedPathWithDigest } from "../src/tuf/delegations.ts";
import { HashBins } from "../src/tuf/hash-bins.ts";
import type { Targets } from "../src/tuf/targets.ts";
import { CATCH_ALL_ROLE, type ShapeRequest, signedShape } from "./delegation-shapes.ts";
import { EVERY_TARGET, type Place, type Scan, scansForAdded, scansOfRoles } from "./delegation-reach.ts";
import { type Delegation, DelegationTree, innerBins, type OfflineOwners } from "./delegation-tree.ts";
import { OFFLINE_ROLE_NAMES, OfflineRoles, type OfflineVersion } from "./offline-roles.ts";
import { Refused, refusedOr } from "./refused.ts";

/** Where a target path is listed, and why it cannot be, if it cannot. */
export interface Assignment {
  bin: string;
  /** Set when python-tuf and tuf-js would look for this path in different roles: it is refused. */
  unclaimable?: string;
  /** Set (to the role's name) when an offline role lists this path: only its owners change it. */
  offline?: string;
}

/**
 * Targets a change of the tree reads at a time as it moves them: the rows
 * are read a page at a time in path order, so a repository of any size
 * never has its targets in the heap at once (128 MB per isolate), only a
 * page of them and the roles they touch.
 */
export const REASSIGN_PAGE = 4_096;

/**
 * The most targets one change of the tree reads. Each is placed in
 * JavaScript (its path's SHA-256, the walk down the tree) within the
 * change's one request: 1,020,000 took 7.4–9.1 s until published on the
 * development machine (docs/measured.md, "Delegation changes read what
 * they can move"), so this many stay within the 30 s of CPU a request
 * gets (wrangler.toml). A change that would read more is refused before
 * anything is written, rather than reset by the platform half-way. (The
 * paths SQLite only tests against a pattern's GLOB are not counted: the
 * whole change with such a pass over 1,020,000 paths took 0.4 s.)
 */
export const REASSIGN_MAX = 2_000_000;

export class Delegations {
  readonly #sql: SqlStorage;
  readonly #topBins: () => HashBins;
  readonly #transaction: <T>(fn: () => T) => T;
  readonly #tree: DelegationTree;
  /** The roles the offline delegations' owners sign: their versions and the checks they pass (offline-roles.ts). */
  readonly offline: OfflineRoles;

  readonly #page: number;
  readonly #max: number;

  constructor(deps: {
    sql: SqlStorage;
    transaction: <T>(fn: () => T) => T;
    topBins: () => HashBins;
    /** Targets read at a time when a change moves them (REASSIGN_PAGE; smaller in tests). */
    reassignPage?: number;
    /** The most targets one change reads (REASSIGN_MAX; smaller in tests). */
    reassignMax?: number;
  }) {
    const { sql, transaction, topBins, reassignPage = REASSIGN_PAGE, reassignMax = REASSIGN_MAX } = deps;
    for (const [name, value] of [
      ["reassignPage", reassignPage],
      ["reassignMax", reassignMax],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer, not ${value}`);
    }
    this.#max = reassignMax;
    this.#sql = sql;
    this.#transaction = transaction;
    this.#topBins = topBins;
    this.#page = reassignPage;
    this.#tree = new DelegationTree(sql);
    this.offline = new OfflineRoles({ sql, transaction, tree: this.#tree, assign: (path) => this.assign(path) });
  }

  /** Whether `targets` delegates through named roles (it has had a delegation). */
  active(): boolean {
    return this.#sql.exec("SELECT 1 FROM roles WHERE name = ?", CATCH_ALL_ROLE).toArray().length > 0;
  }

  /**
   * Gives `targets` the shape "named roles, then the catch-all `bins`" even
   * with no delegation yet (protected-delegations mode starts with it), in the
   * caller's transaction; marks the catch-all for the round `seq`.
   */
  activate(seq: number): void {
    this.#sql.exec("INSERT OR IGNORE INTO roles (name, dirty, seq) VALUES (?, 1, ?)", CATCH_ALL_ROLE, seq);
  }

  /** Drops what this object remembers of the tree (after a transaction it wrote in was rolled back). */
  forget(): void {
    this.#tree.forget();
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
        this.#tree.forget();
        this.#sql.exec("INSERT OR IGNORE INTO roles (name, dirty, seq) VALUES (?, 1, ?)", CATCH_ALL_ROLE, seq);
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
    const reads = this.#targetsIn(reach);
    if (reads > this.#max) {
      return failure(
        409,
        "delegation_change_too_large",
        `this change would read ${reads} targets to find those it moves; one change reads at most ${this.#max} (a request's CPU time): ${instead}`,
      );
    }
    try {
      return refusedOr(() =>
        this.#transaction(() => {
          const touched = new Set(write());
          this.#tree.forget();
          for (const name of touched) {
            this.#sql.exec("INSERT OR IGNORE INTO roles (name, dirty, seq) VALUES (?, 1, ?)", name, seq);
          }
          for (const moved of this.#reassign(reach)) touched.add(moved);
          for (const name of touched) {
            this.#sql.exec("UPDATE roles SET dirty = MAX(dirty, 1), seq = ? WHERE name = ?", seq, name);
          }
          return { touched: [...touched] };
        }),
      );
    } finally {
      this.#tree.forget();
    }
  }

  /** How many rows the scans read (a row in two scans counted twice, as it is read twice). */
  #targetsIn(reach: Scan[]): number {
    const count = (where: string, bindings: string[]) =>
      this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM targets WHERE ${where}`, ...bindings).one().n;
    let rows = 0;
    for (const scan of reach) {
      if (scan !== EVERY_TARGET) {
        rows += count(scan.where, scan.bindings);
        continue;
      }
      // The count the triggers keep (migration 17), not a scan of the table.
      const kept = this.#sql
        .exec<{ value: number }>("SELECT value FROM state WHERE key = 'targets_count'")
        .toArray()
        .at(0);
      rows += kept ? kept.value : count("1", []);
    }
    return rows;
  }

  /**
   * Moves the targets in `reach` whose role changed; returns the roles they left and joined. Throws Refused if one
   * cannot be placed. Each scan's rows are read a page at a time (REASSIGN_PAGE) in path order, each page after the
   * last path of the one before: a move changes a row's bin, never its path, so no row is read twice or skipped
   * (scans may overlap: a row read again is already where it belongs).
   */
  #reassign(reach: Scan[]): Set<string> {
    const touched = new Set<string>();
    const assign = this.assigner();
    const place = (path: string, from: string): string | null => {
      const to = assign(path);
      if (to.unclaimable)
        throw new Refused(failure(409, "ambiguous_delegation", `target "${path}": ${to.unclaimable}`));
      if (to.bin === from) return null;
      if (to.offline) throw new Refused(offlineNamespace(to.offline, path));
      touched.add(from).add(to.bin);
      return to.bin;
    };
    type Row = { path: string; bin: string };
    for (const { where, bindings } of reach) {
      const page = `SELECT path, bin FROM targets WHERE (${where}) AND path > ? ORDER BY path LIMIT ${this.#page}`;
      for (let after = ""; ; ) {
        const rows: Row[] = this.#sql.exec<Row>(page, ...bindings, after).toArray();
        for (const { path, bin } of rows) {
          const to = place(path, bin);
          if (to) this.#sql.exec("UPDATE targets SET bin = ? WHERE path = ?", to, path);
        }
        const last: Row | undefined = rows.at(-1);
        if (!last || rows.length < this.#page) break;
        after = last.path;
      }
    }
    const held = this.#sql
      .exec<{ path: string; target: string }>("SELECT path, target FROM quarantine WHERE state = 'held'")
      .toArray();
    for (const { path, target } of held) {
      const entry = JSON.parse(target) as { bin: string };
      const to = place(path, entry.bin);
      if (to)
        this.#sql.exec("UPDATE quarantine SET target = ? WHERE path = ?", JSON.stringify({ ...entry, bin: to }), path);
    }
    // Changes accepted for an offline role's owners (offline-queue.ts) stay in its namespace until they sign them.
    const waiting = this.#sql
      .exec<{ role: string; path: string }>(
        "SELECT DISTINCT role, json_extract(event, '$.path') AS path FROM offline_pending",
      )
      .toArray();
    for (const { role, path } of waiting) {
      if (assign(path).offline === role) continue;
      throw new Refused(
        failure(
          409,
          "pending_changes",
          `target "${path}" waits for the owners of "${role}" to sign it: this change would take it out of their namespace; have them sign the draft first`,
        ),
      );
    }
    // Nor can it move what the owners' newest versions list: only they can re-sign those without it.
    for (const { name: role } of this.#sql.exec<{ name: string }>(OFFLINE_ROLE_NAMES).toArray()) {
      const file = this.offline.file(role);
      const listed = file ? (JSON.parse(fromUtf8(file.bytes)) as { signed: { targets: object } }).signed.targets : {};
      for (const path of Object.keys(listed)) {
        if (assign(path).offline === role) continue;
        throw new Refused(
          failure(
            409,
            "offline_namespace",
            `target "${path}" is listed by version ${file?.version} of "${role}", which its owners sign offline: this change would take it out of their namespace, and their next version could not list it; have them remove it first (a targets.remove waits for their next version)`,
          ),
        );
      }
    }
    return touched;
  }
}

/** The refusal for a change to a path offline role `role` lists: the online key must never sign it. */
export function offlineNamespace(role: string, path: string): Failure {
  return failure(
    409,
    "offline_namespace",
    `target "${path}" is in the namespace of delegation "${role}", which its owners sign offline: the service cannot quarantine, release or move it (that would take it out of, or put it back into, metadata only they sign); remove it through them instead (a targets.remove waits for their next version), and have the bytes reviewed where they are stored`,
  );
}
