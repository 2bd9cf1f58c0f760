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
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../src/lib/bytes.ts";
import {
  clientsMayDisagree,
  type DelegatedRole,
  isDelegatedPathWithDigest,
  type RoleDelegations,
} from "../src/tuf/delegations.ts";
import { HashBins } from "../src/tuf/hash-bins.ts";
import type { Key } from "../src/tuf/key.ts";
import { delegatingTargets, type TargetFile, type Targets } from "../src/tuf/targets.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import type { DelegationSpec, DelegationView } from "../src/repository-api.ts";

/** The catch-all role through which `targets` delegates to the hash bins once it lists delegations. */
export const CATCH_ALL_ROLE = "bins";

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
}

interface Delegation {
  name: string;
  parent: string;
  paths?: string[];
  path_hash_prefixes?: string[];
  terminating: boolean;
  bins: HashBins | null;
}

function fromRow(row: DelegationRow): Delegation {
  const d: Delegation = {
    name: row.name,
    parent: row.parent,
    terminating: row.terminating === 1,
    bins: row.bit_length === null ? null : innerBins(row.name, row.bit_length),
  };
  if (row.paths !== null) d.paths = JSON.parse(row.paths);
  if (row.path_hash_prefixes !== null) d.path_hash_prefixes = JSON.parse(row.path_hash_prefixes);
  return d;
}

/** The hash bins inside delegation `name`: `<name>.bins-XX` (a delegation's own name has no dot). */
export function innerBins(name: string, bitLength: number): HashBins {
  return new HashBins(bitLength, `${name}.${CATCH_ALL_ROLE}`);
}

/** Where a target path is listed, and why it cannot be, if it cannot. */
export interface Assignment {
  bin: string;
  /** Set when python-tuf and tuf-js would look for this path in different roles: it is refused. */
  unclaimable?: string;
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
      signing: "online" as const,
      ...(d.paths ? { paths: d.paths } : {}),
      ...(d.path_hash_prefixes ? { path_hash_prefixes: d.path_hash_prefixes } : {}),
      ...(d.bins ? { bins: d.bins.count } : {}),
    }));
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
    if (name === "targets") {
      if (!this.active()) return null;
      const catchAll: DelegatedRole = {
        name: CATCH_ALL_ROLE,
        keyids: [online.keyid],
        threshold: 1,
        terminating: true,
        path_hash_prefixes: ALL_PREFIXES,
      };
      const roles = [...this.#children("targets").map((d) => this.#role(d, online.keyid)), catchAll];
      return delegatingTargets(version, expires, ownTargets(), { keys, roles });
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
    if (delegation.bins) {
      const { bitLength, namePrefix } = delegation.bins;
      return delegatingTargets(version, expires, ownTargets(), {
        keys,
        succinct_roles: { keyids: [online.keyid], threshold: 1, bit_length: bitLength, name_prefix: namePrefix },
      });
    }
    const children = this.#children(name);
    const delegations: RoleDelegations | undefined =
      children.length > 0 ? { keys, roles: children.map((d) => this.#role(d, online.keyid)) } : undefined;
    return delegatingTargets(version, expires, ownTargets(), delegations);
  }

  /**
   * Adds a delegation, in the caller's transaction: its roles (and the
   * catch-all, the first time), the targets it now claims moved into it, and
   * every role whose content changed marked for the next round. Returns the
   * roles it touched, or a refusal (nothing written then).
   */
  add(spec: DelegationSpec, seq: number, now: number): Failure | { touched: string[] } {
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
        `INSERT INTO delegations (name, parent, position, paths, path_hash_prefixes, terminating, bit_length, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        spec.name,
        spec.parent,
        position,
        spec.paths ? JSON.stringify(spec.paths) : null,
        spec.path_hash_prefixes ? JSON.stringify(spec.path_hash_prefixes) : null,
        spec.terminating ? 1 : 0,
        spec.bins ? HashBins.bitLengthFor(spec.bins) : null,
        now,
      );
      const bins = spec.bins ? innerBins(spec.name, HashBins.bitLengthFor(spec.bins)).names() : [];
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

  #role(d: Delegation, keyid: string): DelegatedRole {
    const role: DelegatedRole = { name: d.name, keyids: [keyid], threshold: 1, terminating: d.terminating };
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
