/**
 * Staging, a round's first step (publisher.ts): each claimed role signed with
 * its next version and stored, then recorded as staged (role-table.ts). Top-
 * level hash bins are stored as packs, a slice of up to PACK_SLOTS bins per R2
 * object, or a round of few bins as one step pack (src/storage/bin-pack.ts);
 * every other role as a file of its own; an offline role as its owners
 * signed it. Nothing here becomes current: the round's timestamp does that.
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { sign } from "../src/tuf/metadata.ts";
import type { Signer } from "../src/tuf/signer.ts";
import { binTargets, type TargetFile, topLevelTargets } from "../src/tuf/targets.ts";
import { signJoined } from "../src/tuf/assembled.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { PACK_SLOTS, sliceOf, STEP_PACK_BINS, STEP_PACK_BYTES, STEP_PACK_SLICE } from "../src/storage/bin-pack.ts";
import type { Delegations } from "./delegations.ts";
import { binExpiry } from "./freshness.ts";
import type { PackVersions } from "./pack-versions.ts";
import type { Reservations } from "./reserved-versions.ts";
import type { RoleTable } from "./role-table.ts";
import { hashBins, type Settings } from "./settings.ts";
import type { TargetsIndex } from "./targets-index.ts";
import type { Turns } from "./turns.ts";
import { withWriteWindow } from "./write-window.ts";

export interface RoleStagingDeps {
  roles: RoleTable;
  packs: PackVersions;
  bucket: RepositoryBucket;
  targets: TargetsIndex;
  settings: () => Settings;
  signer: () => Promise<Signer>;
  /** Delegations (delegations.ts): shapes targets once it delegates to named roles, and each delegated role. */
  delegations?: Pick<Delegations, "signedRole" | "offlineFile">;
  /** Where staging waits between its turns, so the object takes what waits meanwhile (turns.ts). */
  turns: Pick<Turns, "next">;
  /** The time the round's roles are signed at (Publisher's round time). */
  roundTime: () => Date;
  /** Stores the log's verifier key as a target; the top-level targets map that lists it. */
  logTarget: () => Promise<Record<string, TargetFile>>;
}

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
 * Most top-level bins in one turn of a round, whose packs are written
 * together once its bins are signed (whole packs only): one pack's worth.
 * Its bins are read, reserved and assembled in one synchronous block when
 * they are small, in parts of binsPerTurn() when they are not; each block
 * costs a round one wait behind the object's other events, and one SQLite
 * commit. With 16,384 bins a round's changed bins are spread thin over all
 * 128 slices, so a turn takes several small packs.
 */
const TURN_BINS = PACK_SLOTS;

/**
 * Most target entries one synchronous block of a turn reads and assembles:
 * about what TURN_BINS bins hold at 1,000,000 targets in 16,384 bins (61
 * each). Larger bins make the block longer in proportion (at 10,000,000
 * targets a bin holds about 612), so a turn of them is read, reserved and
 * assembled a part of binsPerTurn() bins at a time, with a turn of the
 * object's between two parts; its packs are still written whole, once every
 * part is signed (docs/measured.md, "Ten million targets").
 */
export const TURN_ENTRIES = 8_192;

/**
 * Bins one synchronous block takes when bins hold `entriesPerBin` targets on
 * average (the repository's targets over its bins: hash bins spread paths
 * evenly): TURN_ENTRIES' worth, at most TURN_BINS, at least one.
 */
export function binsPerTurn(entriesPerBin: number): number {
  return Math.max(1, Math.min(TURN_BINS, Math.floor(TURN_ENTRIES / Math.max(1, Math.ceil(entriesPerBin)))));
}

/** A bin's signed part without its `targets` map (which is assembled from the rows' entries). */
export function binHeader(version: number, expires: string): Record<string, unknown> {
  const { targets: _, ...header } = binTargets(version, expires, {});
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

export class RoleStaging {
  readonly #deps: RoleStagingDeps;

  constructor(deps: RoleStagingDeps) {
    this.#deps = deps;
  }

  /**
   * Signs and stores each claimed role, then records it as staged. Top-level
   * hash bins all get the round's version for packs (pack-versions.ts) and
   * are stored as packs, a slice of up to PACK_SLOTS bins per R2 object
   * (src/storage/bin-pack.ts; `names` holds whole slices,
   * PackVersions.claimedBatch sees to it); other roles get their own next
   * version and file. Roles are read, their versions reserved and their files
   * assembled in one synchronous block per turn: a group of WRITE_CONCURRENCY
   * other roles, or whole packs of up to TURN_BINS bins in all (in parts of
   * binsPerTurn() bins where bins are larger than a million targets in
   * 16,384 bins make them); their files are signed and written while the
   * next turns are built (at most
   * GROUPS_IN_FLIGHT groups or TURNS_IN_FLIGHT turns of packs in flight).
   * A round whose bins this one step holds (`last()`, asked only of a step of
   * few bins), at most STEP_PACK_BINS of them and STEP_PACK_BYTES by their
   * current files, stores them as one step pack instead (#stepPack).
   */
  async stage(names: string[], last: () => boolean): Promise<void> {
    names = await this.#offline(names);
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
        const group = build(chunk, this.#deps.roles.reserveVersions(chunk));
        await writes.add(async () => {
          const files = await signedFiles(group);
          await Promise.all(
            files.map((f) => this.#deps.bucket.putMetadata(`${f.version}.${f.name}.json`, f.bytes, f.sha256)),
          );
          this.#deps.roles.recordStagedMany(files);
        });
      }
    });
    if (packed.length === 0) return;
    const version = this.#deps.packs.version(packed);
    // Every target is counted, also those delegated elsewhere: bins are taken as no smaller than they are.
    const perBlock = binsPerTurn(this.#deps.targets.count() / bins.count);
    if (packed.length <= STEP_PACK_BINS && last() && this.#deps.roles.publishedBytes(packed) <= STEP_PACK_BYTES) {
      await this.#stepPack(slices(packed, bins).flat(), version, build, bins, perBlock);
      return;
    }
    await withWriteWindow(TURNS_IN_FLIGHT, async (writes) => {
      for (const packs of turns(slices(packed, bins))) {
        const built = new Map<string, RoleFile>();
        for (const part of chunked(packs.flat(), perBlock)) {
          await this.#deps.turns.next();
          // A part's bins are read and reserved in one statement each, with no await in between.
          for (const file of build(part, this.#deps.packs.reserve(part, version))) built.set(file.name, file);
        }
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
          this.#deps.roles.recordStagedMany(stored.flat());
        });
      }
    });
  }

  /**
   * Signs the round's top-level bins `names` (in index order, at most
   * STEP_PACK_BINS, every bin the round signs) at `version` and stores them as
   * that version's one step pack (src/storage/bin-pack.ts): one R2 write
   * however many slices they fall in. They are read, reserved and assembled
   * `perBlock` (binsPerTurn()) at a time, a turn each; the pack is written once all
   * are signed, and they are recorded as staged once it is stored. A failed
   * write leaves them claimed, and the step that retries them takes a new
   * version (pack-versions.ts).
   */
  async #stepPack(
    names: readonly string[],
    version: number,
    build: (chunk: string[], reserved: Reservations) => RoleFile[],
    bins: HashBins,
    perBlock: number,
  ): Promise<void> {
    const signing: ReturnType<typeof signedFiles>[] = [];
    for (const turn of chunked(names, perBlock)) {
      await this.#deps.turns.next();
      signing.push(signedFiles(build(turn, this.#deps.packs.reserve(turn, version))));
    }
    const files = (await Promise.all(signing)).flat();
    await this.#deps.bucket.putStepPack(
      version,
      bins.suffixLength,
      files.map((f) => ({ index: bins.indexOf(f.name), bytes: f.bytes })),
    );
    this.#deps.roles.recordStagedMany(files.map((f) => ({ ...f, packSlice: STEP_PACK_SLICE })));
  }

  /**
   * What builds a group's files: for each role, its version from `reserved`,
   * its expiry at the round's time, and its file (not yet signed). Delegating
   * roles and the top-level targets are signed whole; a bin is assembled from
   * its rows' serialised entries (byte for byte what sign() would make).
   */
  async #builder(withTargets: boolean): Promise<(chunk: string[], reserved: Reservations) => RoleFile[]> {
    const signer = await this.#deps.signer();
    const now = this.#deps.roundTime();
    const settings = this.#deps.settings();
    const bins = hashBins(settings);
    // Only the top-level targets role lists the log's verifier key.
    const logTarget = withTargets ? await this.#deps.logTarget() : {};
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
   * Stores the owners' newest version of each offline role among `names`
   * exactly as they signed it, under its own version number (never one the
   * service reserves), and records it as staged; returns the other names.
   */
  async #offline(names: string[]): Promise<string[]> {
    const online: string[] = [];
    for (const name of names) {
      const file = this.#deps.delegations?.offlineFile(name);
      if (!file) {
        online.push(name);
        continue;
      }
      // Read with the file, no await between: the change sequence its bytes reflect.
      const seenSeq = this.#deps.roles.seq(name);
      const sha256 = await sha256Hex(file.bytes);
      await this.#deps.bucket.putMetadata(`${file.version}.${name}.json`, file.bytes, sha256);
      this.#deps.roles.recordStaged(
        name,
        { version: file.version, expires: file.expires, length: file.bytes.length, sha256 },
        seenSeq,
      );
    }
    return online;
  }
}
