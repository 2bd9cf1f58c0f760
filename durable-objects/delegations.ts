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
 * claimed by it) and the publisher stores and serves those exact bytes.
 * Changes pushed for a path an offline role claims wait for its owners
 * (offline-queue.ts): only the owners' next version changes what clients see.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromUtf8, toHex, utf8 } from "../src/lib/bytes.ts";
import {
  clientsMayDisagree,
  type DelegatedRole,
  isDelegatedPathWithDigest,
  type RoleDelegations,
} from "../src/tuf/delegations.ts";
import { HashBins } from "../src/tuf/hash-bins.ts";
import type { Key } from "../src/tuf/key.ts";
import { delegatingTargets, type TargetFile, type Targets } from "../src/tuf/targets.ts";
import type { CheckedOfflineRole } from "../src/tuf/offline-role.ts";
import { delegationBins, type OwnersSuccinctDelegations, ownersSuccinctDelegations } from "../src/tuf/offline-bins.ts";
import { targetPathProblem } from "../src/schemas/target-path.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import type { DelegationSpec, DelegationView } from "../src/repository-api.ts";

/** The catch-all role through which `targets` delegates to the hash bins once it lists delegations. */
export const CATCH_ALL_ROLE = "bins";

/**
 * The roles that are bins of offline delegations (`<name>.bins-XX`, their owners sign them), as SQL:
 * searched by name in `roles`, so it costs a range per offline delegation with bins, never a scan.
 */
export const OFFLINE_BIN_NAMES = `SELECT r.name FROM delegations d CROSS JOIN roles r
  ON r.name > d.name || '.bins-' AND r.name < d.name || '.bins.' AND length(r.name) = length(d.name) + 6 + (d.bit_length + 3) / 4
  WHERE d.offline_keys IS NOT NULL AND d.bit_length IS NOT NULL`;

/** Every role signed offline by a delegation's owners (the delegations and their bins), as SQL. */
export const OFFLINE_ROLE_NAMES = `SELECT name FROM delegations WHERE offline_keys IS NOT NULL UNION ALL ${OFFLINE_BIN_NAMES}`;

/** Delegations one repository may hold, and how deep they may nest below `targets`. */
export const MAX_DELEGATIONS_PER_REPOSITORY = 256;
export const MAX_DEPTH = 4;

const ALL_PREFIXES = [..."0123456789abcdef"];

interface DelegationRow extends Record<string, SqlStorageValue> {
  name: string;
  parent: string;
  position: number;
  paths: string | null;
  path_hash_prefixes: string | null;
  terminating: number;
  bit_length: number | null;
  created_at: number;
  offline_keys: string | null;
  offline_threshold: number | null;
}

/** An offline delegation's owners: their keys (by keyid) and how many must sign. */
export interface OfflineOwners {
  keys: Record<string, Key>;
  threshold: number;
}

/** A version of an offline role, checked (src/tuf/offline-role.ts), with its exact bytes. */
export interface OfflineVersion {
  checked: CheckedOfflineRole;
  bytes: Uint8Array;
}

interface Delegation {
  name: string;
  parent: string;
  paths?: string[];
  path_hash_prefixes?: string[];
  terminating: boolean;
  bins: HashBins | null;
  offline: OfflineOwners | null;
}

function fromRow(row: DelegationRow): Delegation {
  const d: Delegation = {
    name: row.name,
    parent: row.parent,
    terminating: row.terminating === 1,
    bins: row.bit_length === null ? null : innerBins(row.name, row.bit_length),
    offline:
      row.offline_keys === null
        ? null
        : { keys: JSON.parse(row.offline_keys), threshold: row.offline_threshold as number },
  };
  if (row.paths !== null) d.paths = JSON.parse(row.paths);
  if (row.path_hash_prefixes !== null) d.path_hash_prefixes = JSON.parse(row.path_hash_prefixes);
  return d;
}

/** The hash bins inside delegation `name`: `<name>.bins-XX` (a delegation's own name has no dot). */
export const innerBins = delegationBins;

/** Where a target path is listed, and why it cannot be, if it cannot. */
export interface Assignment {
  bin: string;
  /** Set when python-tuf and tuf-js would look for this path in different roles: it is refused. */
  unclaimable?: string;
  /** Set (to the role's name) when an offline role lists this path: only its owners change it. */
  offline?: string;
}

/** Thrown inside a transaction to roll it back with a refusal. */
class Refused extends Error {
  readonly failure: Failure;
  constructor(refusal: Failure) {
    super(refusal.detail);
    this.failure = refusal;
  }
}

export class Delegations {
  readonly #sql: SqlStorage;
  readonly #topBins: () => HashBins;
  #cache: Delegation[] | null = null;

  readonly #transaction: <T>(fn: () => T) => T;

  constructor(deps: { sql: SqlStorage; transaction: <T>(fn: () => T) => T; topBins: () => HashBins }) {
    const { sql, transaction, topBins } = deps;
    this.#sql = sql;
    this.#transaction = transaction;
    this.#topBins = topBins;
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

  /** Whether top-level `targets` is signed offline (protected-delegations mode): a version of it is stored. */
  targetsOffline(): boolean {
    return this.#sql.exec("SELECT 1 FROM offline_roles WHERE name = 'targets'").toArray().length > 0;
  }

  /**
   * Stores a version of top-level `targets` its key holders signed (in the
   * caller's transaction): the publisher serves these bytes, never signing
   * `targets` itself again.
   */
  storeTargets(version: number, expires: string, bytes: Uint8Array, now: number): void {
    this.#sql.exec(
      `INSERT INTO offline_roles (name, version, expires, bytes, submitted_at) VALUES ('targets', ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, expires = excluded.expires,
         bytes = excluded.bytes, submitted_at = excluded.submitted_at`,
      version,
      expires,
      bytes.slice().buffer,
      now,
    );
  }

  /** Drops what this object remembers of the tree (after a transaction it wrote in was rolled back). */
  forget(): void {
    this.#cache = null;
  }

  /** Every delegation in the order a client's search meets them (preorder from targets). */
  list(): DelegationView[] {
    const ordered: Delegation[] = [];
    const visit = (parent: string) => {
      for (const child of this.#children(parent)) {
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
        ? { keyids: Object.keys(d.offline.keys), threshold: d.offline.threshold, version: this.current(d.name) }
        : {}),
      ...(d.paths ? { paths: d.paths } : {}),
      ...(d.path_hash_prefixes ? { path_hash_prefixes: d.path_hash_prefixes } : {}),
      ...(d.bins ? { bins: d.bins.count } : {}),
    }));
  }

  /**
   * assign() for the paths of one batch (no await in between): whether there
   * are delegations, and the top-level bins, are read once, not per path.
   */
  assigner(): (path: string) => Assignment {
    if (this.active()) return (path) => this.assign(path);
    const bins = this.#topBins();
    return (path) => ({ bin: bins.name(bins.indexForDigest(sha256(utf8(path)))) });
  }

  /** The role that lists `path`: the end of the chain of first-claiming delegations from `targets`. */
  assign(path: string): Assignment {
    const digest = sha256(utf8(path));
    if (!this.active()) return { bin: this.#topBins().name(this.#topBins().indexForDigest(digest)) };
    const hex = toHex(digest);
    let parent = "targets";
    let holder: Delegation | null = null;
    for (;;) {
      let next: Delegation | null = null;
      for (const child of this.#children(parent)) {
        const ambiguous = child.paths?.find((pattern) => clientsMayDisagree(path, pattern));
        if (ambiguous !== undefined) {
          return {
            bin: "",
            unclaimable: `delegation "${child.name}" pattern "${ambiguous}" matches this path's leading-dot segment in python-tuf and not in tuf-js: rename the path or change the pattern`,
          };
        }
        if (isDelegatedPathWithDigest(child, path, hex)) {
          next = child;
          break;
        }
      }
      if (!next) break;
      holder = next;
      parent = next.name;
    }
    if (!holder) return { bin: this.#topBins().name(this.#topBins().indexForDigest(digest)) };
    if (holder.offline) {
      // An offline delegation with bins (offline-bins.ts): each bin is a role its owners sign.
      const role = holder.bins ? holder.bins.name(holder.bins.indexForDigest(digest)) : holder.name;
      return { bin: role, offline: role };
    }
    return { bin: holder.bins ? holder.bins.name(holder.bins.indexForDigest(digest)) : holder.name };
  }

  /**
   * The signed part of a role this module shapes (`targets` once it lists
   * delegations, the catch-all `bins`, each delegation), or null for the
   * roles the publisher builds itself (the hash bins, inner ones included).
   */
  signedRole(
    name: string,
    version: number,
    expires: string,
    online: { keyid: string; key: Key },
    ownTargets: () => Record<string, TargetFile>,
  ): Targets | null {
    const keys = { [online.keyid]: online.key };
    const withOwners = (children: Delegation[]) => {
      const all: Record<string, Key> = { ...keys };
      for (const d of children) Object.assign(all, d.offline?.keys);
      return all;
    };
    if (name === "targets") {
      if (!this.active()) return null;
      const catchAll: DelegatedRole = {
        name: CATCH_ALL_ROLE,
        keyids: [online.keyid],
        threshold: 1,
        terminating: true,
        path_hash_prefixes: ALL_PREFIXES,
      };
      const children = this.#children("targets");
      const roles = [...children.map((d) => this.#role(d, online.keyid)), catchAll];
      return delegatingTargets(version, expires, ownTargets(), { keys: withOwners(children), roles });
    }
    if (name === CATCH_ALL_ROLE) {
      const bins = this.#topBins();
      return delegatingTargets(
        version,
        expires,
        {},
        {
          keys,
          succinct_roles: {
            keyids: [online.keyid],
            threshold: 1,
            bit_length: bins.bitLength,
            name_prefix: bins.namePrefix,
          },
        },
      );
    }
    const delegation = this.#all().find((d) => d.name === name);
    if (!delegation) return null;
    if (delegation.offline) throw new Error(`delegation "${name}" is offline: the service never signs it`);
    if (delegation.bins) {
      const { bitLength, namePrefix } = delegation.bins;
      return delegatingTargets(version, expires, ownTargets(), {
        keys,
        succinct_roles: { keyids: [online.keyid], threshold: 1, bit_length: bitLength, name_prefix: namePrefix },
      });
    }
    const children = this.#children(name);
    const delegations: RoleDelegations | undefined =
      children.length > 0
        ? { keys: withOwners(children), roles: children.map((d) => this.#role(d, online.keyid)) }
        : undefined;
    return delegatingTargets(version, expires, ownTargets(), delegations);
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
    const refused = this.#checkNew(spec);
    if (refused) return refused;
    return this.#change(seq, () => {
      const siblings = this.#children(spec.parent);
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
        this.#cache = null;
        this.#sql.exec("INSERT OR IGNORE INTO roles (name, dirty, seq) VALUES (?, 1, ?)", CATCH_ALL_ROLE, seq);
        this.#storeOffline(spec.name, offline.first, now);
      }
      const bins = spec.bins ? innerBins(spec.name, HashBins.bitLengthFor(spec.bins)).names() : [];
      for (const [i, first] of (offline?.bins ?? []).entries()) this.#storeOffline(bins[i] as string, first, now);
      return [CATCH_ALL_ROLE, spec.parent, spec.name, ...bins];
    });
  }

  /** Removes a delegation with no nested ones; the targets it held move to whichever role claims them now. */
  remove(name: string, seq: number): Failure | { touched: string[] } {
    const delegation = this.#all().find((d) => d.name === name);
    if (!delegation) return failure(404, "not_found", `no delegation "${name}"`);
    const nested = this.#children(name);
    if (nested.length > 0) {
      return failure(
        409,
        "delegation_has_delegations",
        `delegation "${name}" delegates to ${nested.map((d) => `"${d.name}"`).join(", ")}: remove those first`,
      );
    }
    return this.#change(seq, () => {
      const { position } = this.#sql
        .exec<{ position: number }>("DELETE FROM delegations WHERE name = ? RETURNING position", name)
        .one();
      this.#sql.exec(
        "UPDATE delegations SET position = position - 1 WHERE parent = ? AND position > ?",
        delegation.parent,
        position,
      );
      // Its roles stay in the snapshot (clients refuse a snapshot that drops one), re-signed empty.
      return [delegation.parent, name, ...(delegation.bins?.names() ?? [])];
    });
  }

  /**
   * Runs a change of the tree in one transaction, then moves every target
   * (and held quarantined entry) to the role that claims it now. A target
   * that no role can hold refuses the whole change (nothing is written).
   */
  #change(seq: number, write: () => string[]): Failure | { touched: string[] } {
    try {
      return this.#transaction(() => {
        const touched = new Set(write());
        this.#cache = null;
        for (const name of touched) {
          this.#sql.exec("INSERT OR IGNORE INTO roles (name, dirty, seq) VALUES (?, 1, ?)", name, seq);
        }
        for (const moved of this.#reassign()) touched.add(moved);
        for (const name of touched) {
          this.#sql.exec("UPDATE roles SET dirty = MAX(dirty, 1), seq = ? WHERE name = ?", seq, name);
        }
        return { touched: [...touched] };
      });
    } catch (error) {
      if (error instanceof Refused) return error.failure;
      throw error;
    } finally {
      this.#cache = null;
    }
  }

  /** Moves targets whose role changed; returns the roles they left and joined. Throws Refused if one cannot be placed. */
  #reassign(): string[] {
    const touched: string[] = [];
    const place = (path: string, from: string): string | null => {
      const to = this.assign(path);
      if (to.unclaimable)
        throw new Refused(failure(409, "ambiguous_delegation", `target "${path}": ${to.unclaimable}`));
      if (to.bin === from) return null;
      if (to.offline) throw new Refused(offlineNamespace(to.offline, path));
      touched.push(from, to.bin);
      return to.bin;
    };
    const rows = this.#sql.exec<{ path: string; bin: string }>("SELECT path, bin FROM targets").toArray();
    for (const { path, bin } of rows) {
      const to = place(path, bin);
      if (to) this.#sql.exec("UPDATE targets SET bin = ? WHERE path = ?", to, path);
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
      if (this.assign(path).offline === role) continue;
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
      const file = this.offlineFile(role);
      const listed = file ? (JSON.parse(fromUtf8(file.bytes)) as { signed: { targets: object } }).signed.targets : {};
      for (const path of Object.keys(listed)) {
        if (this.assign(path).offline === role) continue;
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

  /** Why `spec` cannot be added (beyond its schema), or null. */
  #checkNew(spec: DelegationSpec): Failure | null {
    const all = this.#all();
    if (all.length >= MAX_DELEGATIONS_PER_REPOSITORY) {
      return failure(
        409,
        "too_many_delegations",
        `a repository holds at most ${MAX_DELEGATIONS_PER_REPOSITORY} delegations`,
      );
    }
    // A removed delegation's name may be taken again: its role kept its versions, which go on from there.
    if (all.some((d) => d.name === spec.name))
      return failure(409, "delegation_exists", `delegation "${spec.name}" exists`);
    if (spec.parent === "targets") return null;
    const parent = all.find((d) => d.name === spec.parent);
    if (!parent) return failure(409, "unknown_delegation", `no delegation "${spec.parent}" to delegate from`);
    if (parent.offline) {
      return failure(
        409,
        "offline_namespace",
        `delegation "${spec.parent}" is signed offline by its owners: the service cannot add a role under it`,
      );
    }
    if (parent.bins) {
      return failure(
        409,
        "delegation_has_bins",
        `delegation "${spec.parent}" holds its targets in hash bins: it cannot delegate to named roles`,
      );
    }
    let depth = 2;
    for (let p = parent; p.parent !== "targets"; depth++) {
      p = all.find((d) => d.name === p.parent) as Delegation;
    }
    if (depth > MAX_DEPTH)
      return failure(409, "delegation_too_deep", `delegations nest at most ${MAX_DEPTH} deep below targets`);
    return null;
  }

  /**
   * Stores the owners' next version of offline role `name`, if it still is
   * the next version and every path it lists is one the role claims (checked
   * here, synchronously, against the tree as it is now); marks the role for
   * the next round, and runs `alsoInTransaction` in the same transaction
   * (its refusal rolls it all back). Returns a refusal, or null once stored.
   */
  submit(
    name: string,
    next: OfflineVersion,
    checkedWith: OfflineOwners,
    seq: number,
    now: number,
    alsoInTransaction?: () => Failure | null,
  ): Failure | null {
    return this.submitAll([{ name, next }], checkedWith, seq, now, alsoInTransaction);
  }

  /** submit() for several roles of one offline delegation (the role and its bins), all or none, in one transaction. */
  submitAll(
    versions: ReadonlyArray<{ name: string; next: OfflineVersion }>,
    checkedWith: OfflineOwners,
    seq: number,
    now: number,
    alsoInTransaction?: () => Failure | null,
  ): Failure | null {
    for (const { name } of versions) {
      const owners = this.owners(name);
      if (!owners) {
        const known = this.#all().some((d) => d.name === name);
        return known
          ? failure(409, "online_delegation", `delegation "${name}" is signed online: the service signs it`)
          : failure(404, "not_found", `no delegation "${name}"`);
      }
      // The delegation was replaced while the signatures were checked: they were checked against other keys.
      if (JSON.stringify(owners) !== JSON.stringify(checkedWith)) {
        return failure(
          409,
          "bad_version",
          `delegation "${name}" changed while this version was checked: submit it again`,
        );
      }
    }
    try {
      this.#transaction(() => {
        const refused = alsoInTransaction?.();
        if (refused) throw new Refused(refused);
        for (const { name, next } of versions) {
          this.#storeOffline(name, next, now);
          this.#sql.exec("UPDATE roles SET dirty = MAX(dirty, 1), seq = ? WHERE name = ?", seq, name);
        }
      });
    } catch (error) {
      if (error instanceof Refused) return error.failure;
      throw error;
    }
    return null;
  }

  /**
   * The published offline roles (and `targets` when its key holders sign it), the one that expires
   * first first (for status: only their owners can re-sign them). Delegations drive the join, so
   * roles is searched by name, never scanned.
   */
  offlineExpiries(): Array<{ name: string; version: number; expires: string }> {
    return this.#sql
      .exec<{ name: string; version: number; expires: string }>(
        `SELECT name, version, expires FROM (
           SELECT r.name, r.version, r.expires FROM delegations d CROSS JOIN roles r ON r.name = d.name
           WHERE d.offline_keys IS NOT NULL AND r.version > 0
           UNION ALL
           SELECT r.name, r.version, r.expires FROM roles r WHERE r.version > 0 AND r.name IN (${OFFLINE_BIN_NAMES})
           UNION ALL
           SELECT name, version, expires FROM roles
           WHERE name = 'targets' AND version > 0 AND EXISTS (SELECT 1 FROM offline_roles WHERE name = 'targets')
         ) ORDER BY expires`,
      )
      .toArray();
  }

  /** The owners' current keys and threshold for offline role `name` (a delegation, or one of its bins), or null if it is not one. */
  owners(name: string): OfflineOwners | null {
    const all = this.#all();
    const own = all.find((d) => d.name === name);
    if (own) return own.offline;
    // `<delegation>.bins-XX`: a bin of an offline delegation is signed by its owners (offline-bins.ts).
    const holder = all.find((d) => name.startsWith(`${d.name}.`));
    return holder?.offline && holder.bins && holder.bins.indexOf(name) >= 0 ? holder.offline : null;
  }

  /**
   * The roles of offline delegation `name` its owners sign: the role, then its
   * bins in order; and, when it has bins, the `delegations` its role must list.
   */
  offlineRoles(name: string): { roles: string[]; succinct?: OwnersSuccinctDelegations } | null {
    const d = this.#all().find((x) => x.name === name);
    if (!d?.offline) return null;
    if (!d.bins) return { roles: [name] };
    return { roles: [name, ...d.bins.names()], succinct: ownersSuccinctDelegations(d.offline, d.bins) };
  }

  /** The newest version of role `name` anyone has seen or could: published, staged or submitted. */
  current(name: string): number {
    return this.#sql
      .exec<{ v: number }>(
        `SELECT MAX(IFNULL((SELECT MAX(version, IFNULL(staged_version, 0)) FROM roles WHERE name = ?1), 0),
                    IFNULL((SELECT version FROM offline_roles WHERE name = ?1), 0)) AS v`,
        name,
      )
      .one().v;
  }

  /** The owners' newest version of offline role `name`, to publish as it is; null for any other role. */
  offlineFile(name: string): { version: number; expires: string; bytes: Uint8Array<ArrayBuffer> } | null {
    if (name !== "targets" && !this.owners(name)) return null;
    const row = this.#sql
      .exec<{ version: number; expires: string; bytes: ArrayBuffer }>(
        "SELECT version, expires, bytes FROM offline_roles WHERE name = ?",
        name,
      )
      .toArray()[0];
    return row ? { version: row.version, expires: row.expires, bytes: new Uint8Array(row.bytes) } : null;
  }

  /** Writes `next` as offline role `name`'s newest version, in the caller's transaction; throws Refused if it cannot be. */
  #storeOffline(name: string, next: OfflineVersion, now: number): void {
    const { version, targets } = next.checked;
    const expected = this.current(name) + 1;
    if (version !== expected) {
      throw new Refused(
        failure(409, "bad_version", `${name}: version ${version} submitted, the next version is ${expected}`),
      );
    }
    for (const path of Object.keys(targets)) {
      const problem = targetPathProblem(path);
      const to = problem ? null : this.assign(path);
      if (problem || to?.offline !== name) {
        const why = problem ?? `not claimed by "${name}" (clients look for it in "${to?.bin}")`;
        throw new Refused(failure(422, "path_not_claimed", `${name}: target "${path}": ${why}`));
      }
    }
    this.#sql.exec(
      `INSERT INTO offline_roles (name, version, expires, bytes, submitted_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, expires = excluded.expires,
         bytes = excluded.bytes, submitted_at = excluded.submitted_at`,
      name,
      version,
      next.checked.expires,
      next.bytes.slice().buffer,
      now,
    );
  }

  #role(d: Delegation, keyid: string): DelegatedRole {
    const role: DelegatedRole = {
      name: d.name,
      keyids: d.offline ? Object.keys(d.offline.keys) : [keyid],
      threshold: d.offline?.threshold ?? 1,
      terminating: d.terminating,
    };
    if (d.paths) role.paths = d.paths;
    if (d.path_hash_prefixes) role.path_hash_prefixes = d.path_hash_prefixes;
    return role;
  }

  #children(parent: string): Delegation[] {
    return this.#all().filter((d) => d.parent === parent);
  }

  #all(): Delegation[] {
    this.#cache ??= this.#sql
      .exec<DelegationRow>("SELECT * FROM delegations ORDER BY parent, position")
      .toArray()
      .map(fromRow);
    return this.#cache;
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
