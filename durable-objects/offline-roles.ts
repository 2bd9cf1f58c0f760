/**
 * The roles that offline delegations' owners sign (docs/operators.md §12),
 * as repository state: each owners' newest version, stored exactly as they
 * signed it (`offline_roles`) for the publisher to serve, and the checks a
 * version passes before it is stored: it is the role's next version, signed
 * by its current owners (src/tuf/offline-role.ts checked the signatures),
 * and every path it lists is one the role claims. Top-level `targets`, in
 * protected-delegations mode, is stored here too (protected-targets.ts).
 */
import { failure, type Failure } from "../src/repository-api.ts";
import { targetPathProblem } from "../src/schemas/target-path.ts";
import { type OwnersSuccinctDelegations, ownersSuccinctDelegations } from "../src/tuf/offline-bins.ts";
import type { CheckedOfflineRole } from "../src/tuf/offline-role.ts";
import type { DelegationTree, OfflineOwners } from "./delegation-tree.ts";
import { Refused, refusedOr } from "./refused.ts";

/**
 * The roles that are bins of offline delegations (`<name>.bins-XX`, their owners sign them), as SQL:
 * searched by name in `roles`, so it costs a range per offline delegation with bins, never a scan.
 */
export const OFFLINE_BIN_NAMES = `SELECT r.name FROM delegations d CROSS JOIN roles r
  ON r.name > d.name || '.bins-' AND r.name < d.name || '.bins.' AND length(r.name) = length(d.name) + 6 + (d.bit_length + 3) / 4
  WHERE d.offline_keys IS NOT NULL AND d.bit_length IS NOT NULL`;

/** Every role signed offline by a delegation's owners (the delegations and their bins), as SQL. */
export const OFFLINE_ROLE_NAMES = `SELECT name FROM delegations WHERE offline_keys IS NOT NULL UNION ALL ${OFFLINE_BIN_NAMES}`;

/** A version of an offline role, checked (src/tuf/offline-role.ts), with its exact bytes. */
export interface OfflineVersion {
  checked: CheckedOfflineRole;
  bytes: Uint8Array;
}

export interface OfflineRolesDeps {
  sql: SqlStorage;
  transaction: <T>(fn: () => T) => T;
  tree: DelegationTree;
  /** The role that lists `path` as the tree is now, and the offline role's name if one does (delegations.ts assign). */
  assign: (path: string) => { bin: string; offline?: string };
  /** Marks role `name` changed by change `seq` (RoleTable.markDirty). */
  markDirty: (name: string, seq: number) => void;
}

export class OfflineRoles {
  readonly #deps: OfflineRolesDeps;

  constructor(deps: OfflineRolesDeps) {
    this.#deps = deps;
  }

  /** Whether top-level `targets` is signed offline (protected-delegations mode): a version of it is stored. */
  targetsOffline(): boolean {
    return this.#deps.sql.exec("SELECT 1 FROM offline_roles WHERE name = 'targets'").toArray().length > 0;
  }

  /**
   * Stores a version of top-level `targets` its key holders signed (in the
   * caller's transaction): the publisher serves these bytes, never signing
   * `targets` itself again.
   */
  storeTargets(version: number, expires: string, bytes: Uint8Array, now: number): void {
    this.#write("targets", version, expires, bytes, now);
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
      const owners = this.ownersOrRefusal(name);
      if ("ok" in owners) return owners;
      // The delegation was replaced while the signatures were checked: they were checked against other keys.
      if (JSON.stringify(owners) !== JSON.stringify(checkedWith)) {
        return failure(
          409,
          "bad_version",
          `delegation "${name}" changed while this version was checked: submit it again`,
        );
      }
    }
    return refusedOr(() =>
      this.#deps.transaction(() => {
        const refused = alsoInTransaction?.();
        if (refused) throw new Refused(refused);
        for (const { name, next } of versions) {
          this.store(name, next, now);
          this.#deps.markDirty(name, seq);
        }
        return null;
      }),
    );
  }

  /** Writes `next` as offline role `name`'s newest version, in the caller's transaction; throws Refused if it cannot be. */
  store(name: string, next: OfflineVersion, now: number): void {
    const { version, targets } = next.checked;
    const expected = this.current(name) + 1;
    if (version !== expected) {
      throw new Refused(
        failure(409, "bad_version", `${name}: version ${version} submitted, the next version is ${expected}`),
      );
    }
    for (const path of Object.keys(targets)) {
      const problem = targetPathProblem(path);
      const to = problem ? null : this.#deps.assign(path);
      if (problem || to?.offline !== name) {
        const why = problem ?? `not claimed by "${name}" (clients look for it in "${to?.bin}")`;
        throw new Refused(failure(422, "path_not_claimed", `${name}: target "${path}": ${why}`));
      }
    }
    this.#write(name, version, next.checked.expires, next.bytes, now);
  }

  /** Keeps `bytes` as role `name`'s newest version, in place of the one before. */
  #write(name: string, version: number, expires: string, bytes: Uint8Array, now: number): void {
    this.#deps.sql.exec(
      `INSERT INTO offline_roles (name, version, expires, bytes, submitted_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, expires = excluded.expires,
         bytes = excluded.bytes, submitted_at = excluded.submitted_at`,
      name,
      version,
      expires,
      bytes.slice().buffer,
      now,
    );
  }

  /**
   * The published offline roles (and `targets` when its key holders sign it), the one that expires
   * first first (for status: only their owners can re-sign them). Delegations drive the join, so
   * roles is searched by name, never scanned.
   */
  expiries(): Array<{ name: string; version: number; expires: string }> {
    return this.#deps.sql
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
    const all = this.#deps.tree.all();
    const own = all.find((d) => d.name === name);
    if (own) return own.offline;
    // `<delegation>.bins-XX`: a bin of an offline delegation is signed by its owners (offline-bins.ts).
    const holder = all.find((d) => name.startsWith(`${d.name}.`));
    return holder?.offline && holder.bins && holder.bins.indexOf(name) >= 0 ? holder.offline : null;
  }

  /** The owners of offline role `name`, or why it has none: it is signed online, or there is no such delegation. */
  ownersOrRefusal(name: string): OfflineOwners | Failure {
    const owners = this.owners(name);
    if (owners) return owners;
    return this.#deps.tree.find(name)
      ? failure(409, "online_delegation", `delegation "${name}" is signed online: the service signs it`)
      : failure(404, "not_found", `no delegation "${name}"`);
  }

  /**
   * The roles of offline delegation `name` its owners sign: the role, then its
   * bins in order; and, when it has bins, the `delegations` its role must list.
   */
  rolesOf(name: string): { roles: string[]; succinct?: OwnersSuccinctDelegations } | null {
    const d = this.#deps.tree.find(name);
    if (!d?.offline) return null;
    if (!d.bins) return { roles: [name] };
    return { roles: [name, ...d.bins.names()], succinct: ownersSuccinctDelegations(d.offline, d.bins) };
  }

  /** The newest version of role `name` anyone has seen or could: published, staged or submitted. */
  current(name: string): number {
    return this.#deps.sql
      .exec<{ v: number }>(
        `SELECT MAX(IFNULL((SELECT version FROM roles WHERE name = ?1), 0),
                    IFNULL((SELECT staged_version FROM reserved_versions WHERE name = ?1), 0),
                    IFNULL((SELECT version FROM offline_roles WHERE name = ?1), 0)) AS v`,
        name,
      )
      .one().v;
  }

  /** The owners' newest version of offline role `name`, to publish as it is; null for any other role. */
  file(name: string): { version: number; expires: string; bytes: Uint8Array<ArrayBuffer> } | null {
    if (name !== "targets" && !this.owners(name)) return null;
    const row = this.#deps.sql
      .exec<{ version: number; expires: string; bytes: ArrayBuffer }>(
        "SELECT version, expires, bytes FROM offline_roles WHERE name = ?",
        name,
      )
      .toArray()[0];
    return row ? { version: row.version, expires: row.expires, bytes: new Uint8Array(row.bytes) } : null;
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
