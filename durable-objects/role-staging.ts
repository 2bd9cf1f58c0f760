/**
 * Staging, a round's first step (publisher.ts): each claimed role signed with
 * its next version and stored, then recorded as staged (role-table.ts). Top-
 * level hash bins are stored as step packs, a group of up to STEP_PACK_BINS
 * bins per R2 object at a version of its own (src/storage/bin-pack.ts);
 * every other role as a file of its own; an offline role as its owners
 * signed it. Nothing here becomes current: the round's timestamp does that.
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { sign } from "../src/tuf/metadata.ts";
import type { Signer } from "../src/tuf/signer.ts";
import { binTargets, type TargetFile, topLevelTargets } from "../src/tuf/targets.ts";
import { signJoined } from "../src/tuf/assembled.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { STEP_PACK_SLICE } from "../src/storage/bin-pack.ts";
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
 * Step packs being written while the next one is built: each holds at most
 * STEP_PACK_BYTES of files (src/storage/bin-pack.ts), in memory twice while
 * it is written (the files and the pack's body).
 */
const PACKS_IN_FLIGHT = 1;

/**
 * Most top-level bins one synchronous block of a step pack's building reads,
 * reserves and assembles when bins are small: each block costs a round one
 * wait behind the object's other events (a turn), and one SQLite commit.
 */
const TURN_BINS = 128;

/**
 * Most target entries one synchronous block reads and assembles: about what
 * TURN_BINS bins hold at 1,000,000 targets in 16,384 bins (61 each). Larger
 * bins make the block longer in proportion (at 10,000,000 targets a bin
 * holds about 612), so their blocks take binsPerTurn() bins, with a turn of
 * the object's between two; a pack is still written whole, once every block
 * of it is signed (docs/measured.md, "Ten million targets").
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

export class RoleStaging {
  readonly #deps: RoleStagingDeps;

  constructor(deps: RoleStagingDeps) {
    this.#deps = deps;
  }

  /**
   * Signs and stores each claimed role, then records it as staged. Other
   * roles than top-level hash bins get their own next version and file: they
   * are read, their versions reserved and their files assembled in one
   * synchronous block per group of WRITE_CONCURRENCY, and signed and written
   * while the next groups are built (at most GROUPS_IN_FLIGHT in flight).
   * Top-level hash bins are stored in the step packs `packs` (in index
   * order, from PackVersions.claimedBatch; every bin among `names` is in
   * one, and no other bin): each pack's bins are signed at a version of its own (pack-versions.ts), read,
   * reserved and assembled binsPerTurn() at a time, a turn each, and the pack
   * is written once all are signed while the next one is built (at most
   * PACKS_IN_FLIGHT being written). A pack's bins are recorded as staged once
   * it is stored; a failed write leaves them claimed, and the step that
   * retries them takes a new version.
   */
  async stage(names: string[], packs: readonly string[][]): Promise<void> {
    names = await this.#offline(names);
    const bins = hashBins(this.#deps.settings());
    const packed = new Set(packs.flat());
    const single = names.filter((name) => !packed.has(name));
    const listed = new Set(names);
    const stray = single.find((name) => bins.indexOf(name) >= 0) ?? [...packed].find((name) => !listed.has(name));
    if (stray) throw new Error(`bin ${stray} is not in exactly one of the step's packs and its roles`);
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
    if (packs.length === 0) return;
    // Every target is counted, also those delegated elsewhere: bins are taken as no smaller than they are.
    const perBlock = binsPerTurn(this.#deps.targets.count() / bins.count);
    await withWriteWindow(PACKS_IN_FLIGHT, async (writes) => {
      for (const pack of packs) {
        const version = this.#deps.packs.version(pack);
        const signing: ReturnType<typeof signedFiles>[] = [];
        for (const part of chunked(pack, perBlock)) {
          await this.#deps.turns.next();
          // A part's bins are read and reserved in one statement each, with no await in between.
          signing.push(signedFiles(build(part, this.#deps.packs.reserve(part, version))));
        }
        await writes.add(async () => {
          const files = (await Promise.all(signing)).flat();
          const members = files.map((f) => ({ index: bins.indexOf(f.name), bytes: f.bytes }));
          await this.#deps.bucket.putStepPack(version, bins.suffixLength, members);
          this.#deps.roles.recordStagedMany(files.map((f) => ({ ...f, packSlice: STEP_PACK_SLICE })));
        });
      }
    });
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
