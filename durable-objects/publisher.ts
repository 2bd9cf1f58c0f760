/**
 * Publishing: turns changed rows into signed metadata in R2, in the order the
 * TUF specification needs for clients never to see a broken repository:
 *
 *   1. every changed bin (and targets, if it changed) is signed with a fresh
 *      version and stored under its consistent-snapshot name  ("staged");
 *   2. a snapshot listing the staged and published versions is stored;
 *   3. any new root version is stored;
 *   4. timestamp.json, pointing at that snapshot, is stored last;
 *   5. only then are the staged versions recorded as published, and the
 *      files of the versions they replace as superseded (deleted from R2
 *      after the retention: superseded-files.ts).
 *
 * A round is resumable: bins are staged in chunks of `binsPerInvocation`, each
 * chunk in its own invocation (an alarm continues the round), and a round that
 * died half-way is picked up where it stopped. A version number is reserved
 * durably before it is used and never handed out again, so a failed publish
 * can waste a version but never reuse one.
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { utf8 } from "../src/lib/bytes.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { sign } from "../src/tuf/metadata.ts";
import type { Signer } from "../src/tuf/signer.ts";
import { snapshot } from "../src/tuf/snapshot.ts";
import { binTargets, type TargetFile, topLevelTargets } from "../src/tuf/targets.ts";
import { signAssembled, signJoined, versionMember } from "../src/tuf/assembled.ts";
import { timestamp } from "../src/tuf/timestamp.ts";
import { encodeMetadataEntry } from "../src/log/entry.ts";
import type { PublishedVersions } from "../src/repository-api.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { binExpiry } from "./freshness.ts";
import { hashBins, type Settings } from "./settings.ts";
import { PackVersions } from "./pack-versions.ts";
import { SnapshotParts } from "./snapshot-parts.ts";
import { type Reservations, RoleTable, type RoleVersion } from "./role-table.ts";
import type { RootHistory } from "./root-history.ts";
import type { Delegations } from "./delegations.ts";
import type { TargetsIndex } from "./targets-index.ts";
import { HASH_SLICE, type LogHead, type TransparencyLog } from "./transparency-log.ts";
import type { Turns } from "./turns.ts";
import { FINISH_LOG_WRITES } from "./invocation-budget.ts";
import { withWriteWindow } from "./write-window.ts";
import type { SupersededFiles } from "./superseded-files.ts";
import { PACK_SLOTS, sliceOf, STEP_PACK_BINS, STEP_PACK_BYTES, STEP_PACK_SLICE } from "../src/storage/bin-pack.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";

export interface PublisherDeps {
  sql: SqlStorage;
  bucket: RepositoryBucket;
  targets: TargetsIndex;
  roots: RootHistory;
  settings: () => Settings;
  signer: () => Promise<Signer>;
  now: () => Date;
  /** Drops a replaced file from the edge cache (best effort). */
  purge: (r2Key: string) => Promise<void>;
  /** The transparency log: every published file is recorded, and each timestamp commits to its head. */
  log: TransparencyLog;
  repo: string;
  /** Delegations (delegations.ts): shapes targets once it delegates to named roles, and each delegated role. */
  delegations?: Pick<Delegations, "signedRole" | "offlineFile">;
  /**
   * Called in the same synchronous block that makes a round's versions
   * current, with those versions and the change sequence the round carried
   * (so the changes it published can record the first versions that carry them).
   */
  committed: (versions: PublishedVersions, seq: number) => void;
  /** Records, as a round commits, the files of the versions it replaced (superseded-files.ts). */
  superseded: Pick<SupersededFiles, "recordRound">;
  /** Where a round waits between its slices, so the object takes what waits meanwhile (turns.ts). */
  turns: Pick<Turns, "next">;
  /** Told when a round starts (with the roles it claimed) and when its timestamp is out (with the files it published). */
  rounds?: {
    started(roles: number): void;
    published(versions: PublishedVersions, files: number): void;
  };
}

/** The top-level target through which clients get the log's verifier key with TUF's protection. */
export const LOG_VERIFIER_TARGET = "tuf-edge/log-verifier-key.txt";

/** How long a round keeps signing at its start time (see Publisher.#roundTime). */
const ROUND_TIME_LIMIT_MS = 3_600_000;

/** Roles in a group: read, reserved and assembled in one synchronous block (reserveVersions takes at most 32). */
const WRITE_CONCURRENCY = 32;

/**
 * Groups whose files are being signed and written at once: R2 writes overlap
 * the assembling of the next groups instead of each group waiting for its
 * slowest write (write-window.ts).
 */
const GROUPS_IN_FLIGHT = 4;

/**
 * Turns of packed bins being signed and written at once, beside the one being
 * built: at most 3 × TURN_BINS bins' files in memory (bins of 120 KB, 10 M
 * targets in 16,384 bins, make that 46 MB).
 */
const TURNS_IN_FLIGHT = 2;

/**
 * Most top-level bins one turn of a round reads, reserves and assembles in
 * one synchronous block (whole packs only, so a pack's bins are read and
 * reserved together): one pack's worth. A turn costs a round one wait behind
 * the object's other events, and one SQLite commit; bins per turn, not packs
 * per turn, bound its CPU (tens of milliseconds: mostly the bins' signatures).
 * With 16,384 bins a round's changed bins are spread thin over all 128
 * slices, so a turn takes several small packs.
 */
const TURN_BINS = PACK_SLOTS;

/** A bin's signed part without its `targets` map (which is assembled from the rows' entries). */
function binHeader(version: number, expires: string): Record<string, unknown> {
  const { targets: _, ...header } = binTargets(version, expires, {});
  return header;
}

/** The snapshot's signed part without its `meta` map. */
function snapshotHeader(version: number, expires: string): Record<string, unknown> {
  const { meta: _, ...header } = snapshot(version, expires, []);
  return header;
}

/** A role's next file, built and being signed. */
interface RoleFile {
  name: string;
  seenSeq: number;
  version: number;
  expires: string;
  file: Promise<{ bytes: Uint8Array<ArrayBuffer> }>;
}

/** The group's files signed, with their SHA-256: what R2 stores and the roles table records. */
function signedFiles(group: RoleFile[]) {
  return Promise.all(
    group.map(async ({ file, ...role }) => {
      const { bytes } = await file;
      return { ...role, bytes, length: bytes.length, sha256: await sha256Hex(bytes) };
    }),
  );
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Packs (from slices()) taken together into turns of at most TURN_BINS bins,
 * in order; a pack is never split (it holds at most PACK_SLOTS = TURN_BINS).
 */
function turns(packs: readonly string[][]): string[][][] {
  const out: string[][][] = [];
  let turn: string[][] = [];
  let size = 0;
  for (const pack of packs) {
    if (size > 0 && size + pack.length > TURN_BINS) {
      out.push(turn);
      turn = [];
      size = 0;
    }
    turn.push(pack);
    size += pack.length;
  }
  if (turn.length > 0) out.push(turn);
  return out;
}

/** Top-level bins grouped by the pack they go in (their slice of PACK_SLOTS indexes), in index order. */
function slices(names: readonly string[], bins: HashBins): string[][] {
  const bySlice = new Map<number, string[]>();
  for (const name of [...names].sort((a, b) => bins.indexOf(a) - bins.indexOf(b))) {
    const slice = sliceOf(bins.indexOf(name));
    const members = bySlice.get(slice);
    if (members) members.push(name);
    else bySlice.set(slice, [name]);
  }
  return [...bySlice.values()];
}

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

  constructor(deps: PublisherDeps) {
    this.#deps = deps;
    this.roles = new RoleTable(deps.sql);
    this.#packs = new PackVersions(deps.sql, this.roles);
    this.#snapshotParts = new SnapshotParts(deps.sql);
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
      this.#packs.startRound();
      this.#deps.rounds?.started(roles.roundProgress().pending);
    }
    const batch = this.#packs.claimedBatch(budget, hashBins(this.#deps.settings()));
    if (batch.length > 0) await this.#stage(batch, () => this.#packs.lastBatch(batch));
    if (roles.hasClaimed()) return { result: "more", staged: batch.length, logWrites: 0 };
    // The log's full tiles since the last checkpoint, stored ahead of it with what is left of the budget:
    // however many entries the round's log gained (an import's batches), its finish stores at most
    // FINISH_LOG_WRITES of them (besides its partial tiles), or waits for a step with budget to spare.
    const { log } = this.#deps;
    const left = Math.min(budget - batch.length, logBudget);
    const ahead = left > 0 ? log.aheadWithin(left) : null;
    if (ahead) {
      await log.hashInTurns(() => this.#deps.turns.next(), ahead.upTo);
      await log.storeFullTiles(this.#deps.bucket, ahead.upTo);
    }
    const logWrites = ahead?.writes ?? 0;
    if (log.aheadWithin(FINISH_LOG_WRITES)?.more) return { result: "more", staged: batch.length, logWrites };
    await this.#finishRound();
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

  /**
   * Signs and stores each claimed role, then records it as staged. Top-level
   * hash bins all get the round's version for packs (pack-versions.ts) and
   * are stored as packs, a slice of up to PACK_SLOTS bins per R2 object
   * (src/storage/bin-pack.ts; `names` holds whole slices,
   * PackVersions.claimedBatch sees to it); other roles get their own next
   * version and file. Roles are read, their versions reserved and their files
   * assembled in one synchronous block per turn: a group of WRITE_CONCURRENCY
   * other roles, or whole packs of up to TURN_BINS bins in all; their files
   * are signed and written while the next turns are built (at most
   * GROUPS_IN_FLIGHT groups or TURNS_IN_FLIGHT turns of packs in flight).
   * A round whose bins this one step holds (`last()`, asked only of a step of
   * few bins), at most STEP_PACK_BINS of them and STEP_PACK_BYTES by their
   * current files, stores them as one step pack instead (#stageStepPack).
   */
  async #stage(names: string[], last: () => boolean): Promise<void> {
    names = await this.#stageOffline(names);
    const bins = hashBins(this.#deps.settings());
    const packed = names.filter((name) => bins.indexOf(name) >= 0);
    const single = names.filter((name) => bins.indexOf(name) < 0);
    const build = await this.#builder(single.includes("targets"));
    await withWriteWindow(GROUPS_IN_FLIGHT, async (writes) => {
      for (const [i, chunk] of chunked(single, WRITE_CONCURRENCY).entries()) {
        // Each group is one slice: between slices the object answers what waits (pushes, tasks, status).
        if (i > 0) await this.#deps.turns.next();
        // Rows are read and the versions reserved with no await in between,
        // so the bytes and the change sequence they reflect agree.
        const group = build(chunk, this.roles.reserveVersions(chunk));
        await writes.add(async () => {
          const files = await signedFiles(group);
          await Promise.all(
            files.map((f) => this.#deps.bucket.putMetadata(`${f.version}.${f.name}.json`, f.bytes, f.sha256)),
          );
          this.roles.recordStagedMany(files);
        });
      }
    });
    if (packed.length === 0) return;
    const version = this.#packs.version(packed);
    if (packed.length <= STEP_PACK_BINS && last() && this.roles.publishedBytes(packed) <= STEP_PACK_BYTES) {
      await this.#stageStepPack(slices(packed, bins).flat(), version, build, bins);
      return;
    }
    await withWriteWindow(TURNS_IN_FLIGHT, async (writes) => {
      for (const packs of turns(slices(packed, bins))) {
        await this.#deps.turns.next();
        // The turn's bins are read and reserved in one statement each, with no await in between.
        const names = packs.flat();
        const built = new Map(build(names, this.#packs.reserve(names, version)).map((f) => [f.name, f]));
        await writes.add(async () => {
          const stored = await Promise.all(
            packs.map(async (pack) => {
              const files = await signedFiles(pack.map((name) => built.get(name) as RoleFile));
              const slots = files.map((f) => ({ index: bins.indexOf(f.name), bytes: f.bytes }));
              await this.#deps.bucket.putBinPack(version, bins.suffixLength, slots);
              return files.map((f) => ({ ...f, packSlice: sliceOf(bins.indexOf(f.name)) }));
            }),
          );
          // Recorded once every pack of the turn is stored; a failed pack leaves the turn's bins claimed,
          // and the step that retries them takes a new version (pack-versions.ts).
          this.roles.recordStagedMany(stored.flat());
        });
      }
    });
  }

  /**
   * Signs the round's top-level bins `names` (in index order, at most
   * STEP_PACK_BINS, every bin the round signs) at `version` and stores them as
   * that version's one step pack (src/storage/bin-pack.ts): one R2 write
   * however many slices they fall in. They are read, reserved and assembled a
   * turn of TURN_BINS at a time, as packs are; the pack is written once all
   * are signed, and they are recorded as staged once it is stored. A failed
   * write leaves them claimed, and the step that retries them takes a new
   * version (pack-versions.ts).
   */
  async #stageStepPack(
    names: readonly string[],
    version: number,
    build: (chunk: string[], reserved: Reservations) => RoleFile[],
    bins: HashBins,
  ): Promise<void> {
    const signing: ReturnType<typeof signedFiles>[] = [];
    for (const turn of chunked(names, TURN_BINS)) {
      await this.#deps.turns.next();
      signing.push(signedFiles(build(turn, this.#packs.reserve(turn, version))));
    }
    const files = (await Promise.all(signing)).flat();
    await this.#deps.bucket.putStepPack(
      version,
      bins.suffixLength,
      files.map((f) => ({ index: bins.indexOf(f.name), bytes: f.bytes })),
    );
    this.roles.recordStagedMany(files.map((f) => ({ ...f, packSlice: STEP_PACK_SLICE })));
  }

  /**
   * What builds a group's files: for each role, its version from `reserved`,
   * its expiry at the round's time, and its file (not yet signed). Delegating
   * roles and the top-level targets are signed whole; a bin is assembled from
   * its rows' serialised entries (byte for byte what sign() would make).
   */
  async #builder(withTargets: boolean): Promise<(chunk: string[], reserved: Reservations) => RoleFile[]> {
    const signer = await this.#deps.signer();
    const now = this.#roundTime();
    const settings = this.#deps.settings();
    const bins = hashBins(settings);
    // Only the top-level targets role lists the log's verifier key.
    const logTarget = withTargets ? await this.storeLogVerifierTarget() : {};
    return (chunk, reserved) => {
      const joined = this.#deps.targets.binsJoined(chunk);
      return chunk.map((name) => {
        const reservation = reserved.get(name);
        if (!reservation) throw new Error(`role ${name} has no row to reserve a version in`);
        const { version, seq: seenSeq } = reservation;
        const expires =
          name === "targets"
            ? expiresAt(settings.expiry, "targets", now)
            : binExpiry(now, settings.expiry.bins, Math.max(bins.indexOf(name), 0), bins.count);
        const own = () => (name === "targets" ? logTarget : this.#deps.targets.binTargets(name));
        const whole =
          this.#deps.delegations?.signedRole(name, version, expires, signer, own) ??
          (name === "targets"
            ? { ...topLevelTargets(version, expires, bins, { [signer.keyid]: signer.key }), targets: logTarget }
            : null);
        const file = whole
          ? sign(whole, [signer])
          : signJoined(binHeader(version, expires), "targets", joined.get(name) ?? { canonical: "", json: "" }, [
              signer,
            ]);
        return { name, seenSeq, version, expires, file };
      });
    };
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

  /**
   * Stores the owners' newest version of each offline role among `names`
   * exactly as they signed it, under its own version number (never one the
   * service reserves), and records it as staged; returns the other names.
   */
  async #stageOffline(names: string[]): Promise<string[]> {
    const online: string[] = [];
    for (const name of names) {
      const file = this.#deps.delegations?.offlineFile(name);
      if (!file) {
        online.push(name);
        continue;
      }
      // Read with the file, no await between: the change sequence its bytes reflect.
      const seenSeq = this.roles.seq(name);
      const sha256 = await sha256Hex(file.bytes);
      await this.#deps.bucket.putMetadata(`${file.version}.${name}.json`, file.bytes, sha256);
      this.roles.recordStaged(
        name,
        { version: file.version, expires: file.expires, length: file.bytes.length, sha256 },
        seenSeq,
      );
    }
    return online;
  }

  /** Stores the log's verifier key as a target file; returns the top-level targets map that lists it (a draft of targets lists it too). */
  async storeLogVerifierTarget(): Promise<Record<string, TargetFile>> {
    const log = await this.#deps.log.signer();
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

  /** Stores root versions not yet in R2: a timestamp never precedes the root it is signed under. */
  async #storeRoots(): Promise<void> {
    for (const { version, bytes } of this.#deps.roots.unstored()) {
      await this.#deps.bucket.putMetadata(`${version}.root.json`, bytes, await sha256Hex(bytes));
      this.#deps.roots.markStored(version);
    }
  }

  /** Snapshot, new roots, timestamp, then the commit that makes staged versions current. */
  async #finishRound(): Promise<void> {
    const { roles } = this;
    const signer = await this.#deps.signer();
    // Snapshot and timestamp are signed in this one invocation: at the present.
    const now = this.#deps.now();
    const { expiry } = this.#deps.settings();
    await this.#deps.turns.next();
    // The log's entries since the last round (its pushes' and the last round's files'), hashed a slice per
    // turn: the checkpoint's own hashing below is left with what arrived meanwhile.
    await this.#deps.log.hashInTurns(() => this.#deps.turns.next());

    const snapshotVersion = roles.reserveVersion("snapshot");
    const snapshotExpires = expiresAt(expiry, "snapshot", now);
    // Every role's version, joined by SQLite in parts, of which the round rejoins those of the roles it staged
    // (snapshot-parts.ts); assembled here only if some role's name needs escaping. The bytes are the same
    // either way (test/worker/snapshot-meta.test.ts).
    const header = snapshotHeader(snapshotVersion, snapshotExpires);
    const joined = this.#snapshotParts.joined();
    const snapshotFile =
      joined === null
        ? await signAssembled(
            header,
            "meta",
            [...roles.currentVersions()].map(([name, version]) => versionMember(`${name}.json`, version)),
            [signer],
          )
        : await signJoined(header, "meta", joined, [signer]);
    const snapshotSha = await sha256Hex(snapshotFile.bytes);
    // What the timestamp points to or commits to, stored at once (each wait of a round's is a wait behind
    // the object's other events): the snapshot; any new root, just before the timestamp signed under it, so
    // the moment a client can see one without the other is as short as it can be; and the log's tiles and
    // checkpoint, whose head the timestamp commits to. A failure is thrown once all three have ended.
    let log: LogHead | undefined;
    await withWriteWindow(3, async (writes) => {
      await writes.add(async () => {
        await this.#deps.bucket.putMetadata(`${snapshotVersion}.snapshot.json`, snapshotFile.bytes, snapshotSha);
        roles.recordStaged(
          "snapshot",
          {
            version: snapshotVersion,
            expires: snapshotExpires,
            length: snapshotFile.bytes.length,
            sha256: snapshotSha,
          },
          roles.seq("snapshot"),
        );
      });
      await writes.add(() => this.#storeRoots());
      await writes.add(async () => {
        log = await this.#deps.log.publish(this.#deps.bucket);
      });
    });
    if (!log) throw new Error("the log was not published");

    const timestampVersion = roles.reserveVersion("timestamp");
    const timestampExpires = expiresAt(expiry, "timestamp", now);
    const timestampFile = await sign(
      timestamp(
        timestampVersion,
        timestampExpires,
        { version: snapshotVersion, length: snapshotFile.bytes.length, sha256: snapshotSha },
        { "x-tuf-edge-log": { origin: log.origin, size: log.size, root_hash: log.rootHash } },
      ),
      [signer],
    );
    const timestampSha = await sha256Hex(timestampFile.bytes);
    // Everything the timestamp points to is stored: now, and only now, the timestamp.
    // It records the newest root stored, for the Worker's root visibility (src/routes/metadata.ts).
    await this.#deps.bucket.putMetadata(
      "timestamp.json",
      timestampFile.bytes,
      timestampSha,
      this.#deps.roots.newestStored() ?? undefined,
    );
    await this.#deps.purge(this.#deps.bucket.metadataKey("timestamp.json")).catch(() => undefined);
    roles.recordStaged(
      "timestamp",
      {
        version: timestampVersion,
        expires: timestampExpires,
        length: timestampFile.bytes.length,
        sha256: timestampSha,
      },
      roles.seq("timestamp"),
    );
    // One synchronous block: the versions become current and the log records them.
    const files = roles.stagedFiles();
    this.#deps.log.appendMany(
      files.map((file) => ({ type: "metadata.publish" as const, repository: this.#deps.repo, ...file })),
      encodeMetadataEntry,
    );
    this.#deps.superseded.recordRound(this.#deps.now().getTime());
    roles.commitRound();
    this.#deps.committed(this.versions(), roles.publishedSeq());
    this.#deps.rounds?.published(this.versions(), files.length);
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
