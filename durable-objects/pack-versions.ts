/**
 * Pack versions: the version at which a publish round signs the top-level
 * hash bins it stores as packs (src/storage/bin-pack.ts, one R2 object per
 * slice of PACK_SLOTS bins at `<repo>/packs/<version>/<slice>`), and which
 * bins a step claims. A pack key is never written with two contents, and the
 * Worker finds a bin's pack from its file name alone. The rules:
 *
 *   - a pack version is reserved durably (in `state`, and as each bin's
 *     reserved version, `reserved_versions.allocated`) before anything is
 *     signed with it;
 *   - it is one more than any earlier pack version and than any version
 *     (allocated, staged or published) of the bins it covers, so a bin's
 *     versions only grow, not always by one;
 *   - a retried step takes a new version: when some of its bins were
 *     reserved at the round's version already (a step that failed after
 *     reserving, whose pack may or may not be stored);
 *   - every step of a round uses the same version, so a round resumed in a
 *     later invocation signs what one uninterrupted run would; a new round
 *     takes a new one;
 *   - steps claim whole slices: a step's batch is extended to the end of its
 *     last bin's slice, so each pack is written whole by one step;
 *   - a version has at most one step pack (bin-pack.ts): only the round's
 *     last step stores one (lastBatch), and a retried step has a new version.
 */
import { PACK_SLOTS, sliceOf } from "../src/storage/bin-pack.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";
import type { Reservations } from "./reserved-versions.ts";
import type { RoleTable } from "./role-table.ts";
import { readState, writeState } from "./state-values.ts";

/** The version the round under way signs its packs at (0: none reserved yet). */
const ROUND_VERSION = "round_pack_version";
/** The highest pack version ever reserved. */
const HIGHEST_VERSION = "pack_version";

export class PackVersions {
  readonly #sql: SqlStorage;
  readonly #roles: RoleTable;

  constructor(sql: SqlStorage, roles: RoleTable) {
    this.#sql = sql;
    this.#roles = roles;
  }

  /** A round starts (RoleTable.startRound): its packs take a new version. */
  startRound(): void {
    writeState(this.#sql, ROUND_VERSION, 0);
  }

  /**
   * The next roles the round under way signs, in name order: `limit` of
   * them, and then the rest of the last one's slice if it is a top-level bin
   * of `bins` (steps claim whole slices).
   */
  claimedBatch(limit: number, bins: Pick<HashBins, "indexOf">): string[] {
    const sliceOfName = (name: string) => {
      const index = bins.indexOf(name);
      return index < 0 ? -1 : sliceOf(index);
    };
    const names = this.#roles.claimed(limit + PACK_SLOTS);
    let end = Math.min(limit, names.length);
    const last = end > 0 ? sliceOfName(names[end - 1] ?? "") : -1;
    while (last >= 0 && end < names.length && sliceOfName(names[end] ?? "") === last) end++;
    return names.slice(0, end);
  }

  /**
   * Whether `batch` (this step's, from claimedBatch) holds every role the
   * round under way still has to sign (a step only takes roles out of the
   * claimed ones, so the answer holds all through it): no later step of the
   * round signs a bin at its version, so the step may store its bins as the
   * version's one step pack (src/storage/bin-pack.ts).
   */
  lastBatch(batch: readonly string[]): boolean {
    return this.#roles.claimed(batch.length + 1).length <= batch.length;
  }

  /**
   * The version at which the round signs the top-level bins `names`: the
   * round's version, or a new one (reserved here) when the round has none
   * yet or some of `names` were reserved at it already.
   */
  version(names: readonly string[]): number {
    const current = readState(this.#sql, ROUND_VERSION);
    const highest = this.#roles.highestVersion(names);
    if (current > highest) return current;
    const version = Math.max(readState(this.#sql, HIGHEST_VERSION), highest) + 1;
    writeState(this.#sql, HIGHEST_VERSION, version);
    writeState(this.#sql, ROUND_VERSION, version);
    return version;
  }

  /**
   * Reserves `version` (from version()) as the next version of each of
   * `names` that has none as high, with the change sequence each was at, as
   * RoleTable.reserveVersions does: one statement for any number of names
   * (a publish turn's, up to a pack's 128), which go as one JSON array.
   */
  reserve(names: readonly string[], version: number): Reservations {
    return this.#roles.reserveVersionsAt(names, version);
  }
}
