/**
 * The delegations of a repository as a tree (the `delegations` table,
 * migration 13): each delegation with its paths, its hash bins and, for an
 * offline one, its owners; read once and kept until a change of the tree
 * (forget()). And what a new delegation must respect in it: how many a
 * repository holds, how deep they nest, under which parents.
 */
import { type DelegationSpec, type Failure, failure } from "../src/repository-api.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";
import type { Key } from "../src/tuf/key.ts";
import { delegationBins } from "../src/tuf/offline-bins.ts";

/** Delegations one repository may hold, and how deep they may nest below `targets`. */
export const MAX_DELEGATIONS_PER_REPOSITORY = 256;
export const MAX_DEPTH = 4;

/** The hash bins inside delegation `name`: `<name>.bins-XX` (a delegation's own name has no dot). */
export const innerBins = delegationBins;

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
/** Where a target path is listed (Delegations.assign), and why it cannot be, if it cannot. */
export interface Assignment {
  bin: string;
  /** Set when python-tuf and tuf-js would look for this path in different roles: it is refused. */
  unclaimable?: string;
  /** Set (to the role's name) when an offline role lists this path: only its owners change it. */
  offline?: string;
}

export interface OfflineOwners {
  keys: Record<string, Key>;
  threshold: number;
}

export interface Delegation {
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

export class DelegationTree {
  readonly #sql: SqlStorage;
  #cache: Delegation[] | null = null;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Every delegation, by parent and position among its siblings. */
  all(): Delegation[] {
    this.#cache ??= this.#sql
      .exec<DelegationRow>("SELECT * FROM delegations ORDER BY parent, position")
      .toArray()
      .map(fromRow);
    return this.#cache;
  }

  find(name: string): Delegation | undefined {
    return this.all().find((d) => d.name === name);
  }

  /** The delegations of `parent` (`targets` or a delegation), in the order a client's search meets them. */
  children(parent: string): Delegation[] {
    return this.all().filter((d) => d.parent === parent);
  }

  /** Drops what this object remembers of the tree (after it changed, or a transaction that wrote it was rolled back). */
  forget(): void {
    this.#cache = null;
  }

  /** Why `spec` cannot be added (beyond its schema), or null. */
  refusalToAdd(spec: DelegationSpec): Failure | null {
    const all = this.all();
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
}
