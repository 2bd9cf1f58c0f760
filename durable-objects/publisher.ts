/**
 * Publishing: turns changed rows into signed metadata in R2, in the order the
 * TUF specification needs for clients never to see a broken repository:
 *
 *   1. every changed bin (and targets, if it changed) is signed with a fresh
 *      version and stored under its consistent-snapshot name ("staged":
 *      role-staging.ts);
 *   2. a snapshot listing the staged and published versions is stored;
 *   3. any new root version is stored;
 *   4. timestamp.json, pointing at that snapshot, is stored last;
 *   5. only then are the staged versions recorded as published, and the
 *      files of the versions they replace as superseded (deleted from R2
 *      after the retention: superseded-files.ts), in parts of bounded size
 *      (round-commit.ts).
 *
 * Steps 2 to 4, and the start of step 5, are a round's finish (round-finish.ts).
 *
 * A round is resumable: bins are staged in chunks of `binsPerInvocation`, each
 * chunk in its own invocation (an alarm continues the round), and a round that
 * died half-way is picked up where it stopped. A version number is reserved
 * durably before it is used and never handed out again, so a failed publish
 * can waste a version but never reuse one.
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { utf8 } from "../src/lib/bytes.ts";
import type { Signer } from "../src/tuf/signer.ts";
import type { TargetFile } from "../src/tuf/targets.ts";
import { signAssembled } from "../src/tuf/assembled.ts";
import type { PublishedVersions } from "../src/repository-api.ts";
import { hashBins } from "./settings.ts";
import { binsPerPack, PackVersions } from "./pack-versions.ts";
import { SnapshotParts } from "./snapshot-parts.ts";
import { RoleTable, type RoleVersion } from "./role-table.ts";
import { commitRound } from "./round-commit.ts";
import { type FinishSources, finishRound } from "./round-finish.ts";
import { binHeader, RoleStaging } from "./role-staging.ts";
import type { Delegations } from "./delegations.ts";
import type { TargetsIndex } from "./targets-index.ts";
import { HASH_SLICE } from "./transparency-log.ts";
import type { Turns } from "./turns.ts";
import { FINISH_LOG_WRITES } from "./invocation-budget.ts";
import { type PhaseTimes, RoundPhases } from "./round-phases.ts";
import type { SupersededFiles } from "./superseded-files.ts";

/** The publisher's dependencies: those a round's finish uses (round-finish.ts), and these. */
export interface PublisherDeps extends FinishSources {
  sql: SqlStorage;
  targets: TargetsIndex;
  repo: string;
  /** Delegations (delegations.ts): shapes targets once it delegates to named roles, and each delegated role. */
  delegations?: Pick<Delegations, "signedRole" | "offlineFile">;
  /**
   * Called in the synchronous block that makes a round's last versions
   * current (round-commit.ts), with those versions and the change sequence
   * the round carried (so the changes it published can record the first
   * versions that carry them).
   */
  committed: (versions: PublishedVersions, seq: number) => void;
  /** Records, as a round commits, the files of the versions it replaced (superseded-files.ts). */
  superseded: Pick<SupersededFiles, "recordReplaced">;
  /** Where a round waits between its slices, so the object takes what waits meanwhile (turns.ts). */
  turns: Pick<Turns, "next">;
  /**
   * Told when a round starts (with the roles it claimed) and when its timestamp is out (with the files it
   * published, and where the round's time went: round-phases.ts).
   */
  rounds?: {
    started(roles: number): void;
    published(versions: PublishedVersions, files: number, phases: PhaseTimes): void;
  };
}

/** The top-level target through which clients get the log's verifier key with TUF's protection. */
export const LOG_VERIFIER_TARGET = "tuf-edge/log-verifier-key.txt";

/** How long a round keeps signing at its start time (see Publisher.#roundTime). */
const ROUND_TIME_LIMIT_MS = 3_600_000;

/** Outcome of one invocation's worth of publishing. */
export type StepResult = "idle" | "more" | "published";

/** How a step ended, the roles it signed and the log tiles it stored ahead of the checkpoint (R2 writes). */
export interface StepOutcome {
  result: StepResult;
  staged: number;
  logWrites: number;
}

export class Publisher {
  readonly #deps: PublisherDeps;
  readonly roles: RoleTable;
  readonly #packs: PackVersions;
  readonly #snapshotParts: SnapshotParts;
  readonly #staging: RoleStaging;
  /** Where the round under way spends its time (logged with it). */
  readonly #phases = new RoundPhases();
  /** The object's turns, each wait counted in the round's phases. */
  readonly #turns: Pick<Turns, "next">;

  constructor(deps: PublisherDeps) {
    this.#deps = deps;
    this.#turns = { next: () => this.#phases.time("turnWaits", () => deps.turns.next()) };
    this.roles = new RoleTable(deps.sql);
    this.#packs = new PackVersions(deps.sql, this.roles);
    this.#snapshotParts = new SnapshotParts(deps.sql);
    this.#staging = new RoleStaging({
      ...deps,
      turns: this.#turns,
      roles: this.roles,
      packs: this.#packs,
      roundTime: () => this.#roundTime(),
      logTarget: () => this.storeLogVerifierTarget(),
    });
  }

  /**
   * Does part of a round: starts one if changes wait, stages at most `budget`
   * roles, then stores the log's full tiles ahead of the checkpoint within
   * what is left of `budget` and at most `logBudget` (one R2 write each), and
   * finishes the round (snapshot, checkpoint, timestamp) when neither remains.
   */
  async step(budget: number, logBudget = Number.POSITIVE_INFINITY): Promise<StepOutcome> {
    const { roles } = this;
    if (!roles.roundActive()) {
      if (!roles.hasChanges()) return { result: "idle", staged: 0, logWrites: 0 };
      roles.startRound(this.#deps.now());
      this.#phases.take();
      this.#deps.rounds?.started(roles.roundProgress().pending);
    }
    // A round whose timestamp is out, and whose invocation died while its versions were made current.
    if (roles.committing()) {
      await this.#commit();
      this.#deps.log.prune();
      return { result: "published", staged: 0, logWrites: 0 };
    }
    const settings = this.#deps.settings();
    const { names: batch, packs } = this.#packs.claimedBatch(budget, hashBins(settings), binsPerPack(settings));
    if (batch.length > 0) await this.#phases.time("staging", () => this.#staging.stage(batch, packs));
    if (roles.hasClaimed()) return { result: "more", staged: batch.length, logWrites: 0 };
    // The log's full tiles since the last checkpoint, stored ahead of it with what is left of the budget:
    // however many entries the round's log gained (an import's batches), its finish stores at most
    // FINISH_LOG_WRITES of them (besides its partial tiles), or waits for a step with budget to spare.
    const { log } = this.#deps;
    const left = Math.min(budget - batch.length, logBudget);
    const ahead = left > 0 ? log.aheadWithin(left) : null;
    if (ahead)
      await this.#phases.time("logAhead", async () => {
        await log.hashInTurns(() => this.#turns.next(), ahead.upTo);
        await log.storeFullTiles(this.#deps.bucket, ahead.upTo);
      });
    const logWrites = ahead?.writes ?? 0;
    if (log.aheadWithin(FINISH_LOG_WRITES)?.more) return { result: "more", staged: batch.length, logWrites };
    await finishRound({
      ...this.#deps,
      roles: this.roles,
      snapshotParts: this.#snapshotParts,
      phases: this.#phases,
      turns: this.#turns,
      commit: () => this.#commit(),
    });
    // Once the timestamp is out: the entries whose tiles the checkpoint stored leave SQLite (log-history.ts).
    log.prune();
    return { result: "published", staged: batch.length, logWrites };
  }

  /**
   * Between rounds, with nothing to publish: hashes a slice (HASH_SLICE) of
   * the log's entries not hashed yet, and says whether any remain. A round
   * logs the files it published only once its timestamp is out, so those
   * entries (16,387 after a round of 16,384 bins: an import's, a rotation's,
   * a full re-sign's) wait for the next round, whose first step would
   * otherwise hash them all before it signs anything (docs/measured.md,
   * "Hashing between rounds").
   */
  hashAhead(): boolean {
    return this.#deps.log.hashSome(HASH_SLICE) > 0;
  }

  /** Whether a full tile of the log waits to be stored ahead of the checkpoint (storeAhead). */
  tilesAhead(): boolean {
    return this.#deps.log.aheadWithin(1) !== null;
  }

  /**
   * Between rounds, with nothing to publish and the log hashed: stores the
   * log's full tiles (and entry bundles) ahead of the checkpoint, in at most
   * `writes` R2 writes (at least one tile's); returns the writes made, 0 if
   * no full tile waits. Without it, the files a large round logged (an
   * import's, a full re-sign's: 16,387 entries, 129 writes, after a round of
   * 16,384 bins) waited for the next round, which stored them before its own
   * timestamp, and the change that started it waited for them
   * (docs/measured.md, "Where a round's time goes").
   */
  async storeAhead(writes: number): Promise<number> {
    const { log } = this.#deps;
    const ahead = log.aheadWithin(writes);
    if (!ahead) return 0;
    await log.storeFullTiles(this.#deps.bucket, ahead.upTo);
    return ahead.writes;
  }

  /**
   * Signs and stores version 1 of every top-level hash bin, at bootstrap: one
   * empty bin, one signature and one R2 write for all of them, since a bin's
   * signed part names no role (RepositoryBucket.getMetadata serves it as each
   * `1.bins-<hex>.json`). It expires at `expires` for every bin; the spread
   * of bins' expiries by index (freshness.ts) starts with their first re-signing.
   */
  async storeEmptyBin(signer: Signer, expires: string): Promise<RoleVersion> {
    const { bytes } = await signAssembled(binHeader(1, expires), "targets", [], [signer]);
    const sha256 = await sha256Hex(bytes);
    await this.#deps.bucket.putEmptyBin(bytes, sha256);
    return { version: 1, expires, length: bytes.length, sha256 };
  }

  /** Stores the log's verifier key as a target file; returns the top-level targets map that lists it (a draft of targets lists it too). */
  async storeLogVerifierTarget(): Promise<Record<string, TargetFile>> {
    const log = await this.#deps.log.checkpoint.signer();
    const bytes = utf8(`${log.verifierKey}\n`);
    const sha256 = await sha256Hex(bytes);
    await this.#deps.bucket.putTarget(LOG_VERIFIER_TARGET, new Blob([bytes]).stream(), bytes.length, sha256);
    return {
      [LOG_VERIFIER_TARGET]: {
        length: bytes.length,
        hashes: { sha256 },
        custom: { tuf_edge_log: { origin: this.#deps.log.origin, verifier_key: log.verifierKey } },
      },
    };
  }

  /** Step 5: the committing round's versions made current and logged, in parts (round-commit.ts). */
  async #commit(): Promise<void> {
    const files = await this.#phases.time("commit", () =>
      commitRound({
        ...this.#deps,
        turns: this.#turns,
        roles: this.roles,
        versions: () => this.versions(),
      }),
    );
    this.#deps.rounds?.published(this.versions(), files, this.#phases.take());
  }

  /**
   * The time the round's bins are signed at: the round's start, so a round
   * resumed in a later invocation signs the bytes it would have signed in one
   * go; the present if the round stalled for longer than ROUND_TIME_LIMIT_MS
   * (e.g. failing writes retried), so no bin is signed with validity used up.
   */
  #roundTime(): Date {
    const now = this.#deps.now();
    const started = this.roles.roundTime();
    return started && now.getTime() - started.getTime() <= ROUND_TIME_LIMIT_MS ? started : now;
  }

  versions(): PublishedVersions {
    return {
      targets: this.roles.published("targets")?.version ?? 0,
      snapshot: this.roles.published("snapshot")?.version ?? 0,
      timestamp: this.roles.published("timestamp")?.version ?? 0,
    };
  }
}
