/**
 * Pack versions: the version at which a publish round signs each group of
 * top-level hash bins it stores as one step pack (src/storage/bin-pack.ts,
 * one R2 object at `<repo>/packs/<version>/65536`), and which bins a step
 * claims. A pack key is never written with two contents, and the Worker
 * finds a bin's pack from its file name alone. The rules:
 *
 *   - a round's bins are cut into groups in index order by stepPackGroups:
 *     at most binsPerPack() bins (STEP_PACK_BINS, or the repository's
 *     binsPerInvocation if smaller) and STEP_PACK_BYTES of current files each;
 *   - steps claim whole groups: a step's batch is extended to the end of its
 *     last bin's group (so by fewer than binsPerPack() roles), each pack is
 *     written whole by one step, and the groups a resumed round cuts are
 *     those one uninterrupted run cuts (the cut depends only on the bins
 *     left, their published lengths, which change only at the round's
 *     commit, and the setting);
 *   - each group takes its own version, reserved durably (in `state`, and as
 *     each bin's reserved version, `reserved_versions.allocated`) before
 *     anything is signed with it: one more than any earlier pack version and
 *     than any version (allocated, staged or published) of the group's bins,
 *     so a bin's versions only grow, not always by one, and a round resumed
 *     in a later invocation signs what one uninterrupted run would;
 *   - a retried step takes a new version: its bins were reserved at the
 *     version of the step that failed (whose pack may or may not be stored).
 */
import { STEP_PACK_BINS, stepPackGroups } from "../src/storage/bin-pack.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";
import type { Reservations } from "./reserved-versions.ts";
import type { RoleTable } from "./role-table.ts";
import type { Settings } from "./settings.ts";
import { readState, writeState } from "./state-values.ts";

/**
 * Most bins in one step pack of a repository: STEP_PACK_BINS, or fewer when
 * its publish steps sign fewer roles each (a step never exceeds its budget
 * by a whole pack).
 */
export function binsPerPack(settings: Pick<Settings, "binsPerInvocation">): number {
  return Math.max(1, Math.min(STEP_PACK_BINS, settings.binsPerInvocation));
}

/** A publish step's roles, and the step packs their top-level bins go in. */
export interface ClaimedBatch {
  /** The roles, in name order. */
  names: string[];
  /** The top-level bins among `names`, cut into step packs (stepPackGroups), in index order. */
  packs: string[][];
}

/** The highest pack version ever reserved. */
const HIGHEST_VERSION = "pack_version";

export class PackVersions {
  readonly #sql: SqlStorage;
  readonly #roles: RoleTable;

  constructor(sql: SqlStorage, roles: RoleTable) {
    this.#sql = sql;
    this.#roles = roles;
  }

  /**
   * The next roles the round under way signs, in name order: `limit` of
   * them, and then the rest of the last top-level bin's group of `most`
   * (binsPerPack()) if there is one among them (steps claim whole groups);
   * with the groups their top-level bins are stored in, in index order.
   */
  claimedBatch(limit: number, bins: Pick<HashBins, "indexOf">, most: number): ClaimedBatch {
    const claimed = this.#roles.claimed(limit + most);
    const taken = new Set(claimed.slice(0, limit).map((role) => role.name));
    // Top-level bins' names have one width, so name order is index order.
    const groups = stepPackGroups(
      claimed.filter((role) => bins.indexOf(role.name) >= 0),
      most,
    ).filter((group) => group.some((bin) => taken.has(bin.name)));
    for (const group of groups) for (const bin of group) taken.add(bin.name);
    return {
      names: claimed.filter((role) => taken.has(role.name)).map((role) => role.name),
      packs: groups.map((group) => group.map((bin) => bin.name)),
    };
  }

  /**
   * A new version for the group of top-level bins `names`, reserved here:
   * one more than any earlier pack version and than any version of `names`.
   */
  version(names: readonly string[]): number {
    const version = Math.max(readState(this.#sql, HIGHEST_VERSION), this.#roles.highestVersion(names)) + 1;
    writeState(this.#sql, HIGHEST_VERSION, version);
    return version;
  }

  /**
   * Reserves `version` (from version()) as the next version of each of
   * `names` that has none as high, with the change sequence each was at, as
   * RoleTable.reserveVersions does: one statement for any number of names
   * (a publish turn's part of a group), which go as one JSON array.
   */
  reserve(names: readonly string[], version: number): Reservations {
    return this.#roles.reserveVersionsAt(names, version);
  }
}
