/**
 * Where the instances keep their state (wrangler dev's `--persist-to`: the
 * Durable Objects' SQLite, the local R2 and cache simulators' files).
 *
 * By default a folder in /dev/shm when it is a tmpfs with room to spare,
 * else in the system's temporary folder. Local workerd waits for the disk
 * on its one thread, the thread that also takes every request: at 100
 * targets/s and 16,384 bins, acknowledgements took about 80 ms at the median
 * with state on ext4 and about 22 ms with state on tmpfs (docs/measured.md,
 * "State in memory"). On the platform R2 is remote: its writes are waits
 * for the network, not work on the object's thread.
 * SQLite's temporary files go there too (SQLITE_TMPDIR, set by scripts/bench.ts
 * for every workerd it starts): a group of pushes writes its transaction's
 * sub-journal to one once it passes 64 KiB, and in /var/tmp, on ext4, its
 * writes were 3.8 % of the object's process at 2,000 targets/s
 * (`perf record` during `npm run bench -- --quick --only scale --split
 * --push-rate 2000`).
 * `--state-dir` chooses another folder, e.g. a disk for runs whose state
 * would not fit in memory.
 */
import { mkdtemp, statfs } from "node:fs/promises";
import { join } from "node:path";

/** statfs's type of a tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;
/** Free space /dev/shm must have to be the default. */
const MIN_FREE_BYTES = 16 * 1024 ** 3;

export interface StateDir {
  /** A fresh folder for this run's instances (removed at the end unless --keep-state). */
  path: string;
  /** How it was chosen, for the report. */
  description: string;
}

async function filesystem(path: string): Promise<{ tmpfs: boolean; freeBytes: number } | null> {
  try {
    const s = await statfs(path);
    return { tmpfs: s.type === TMPFS_MAGIC, freeBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

/** A fresh folder under `chosen` (--state-dir), or under /dev/shm if it is a roomy tmpfs, else under `fallback`. */
export async function makeStateDir(chosen: string | null, fallback: string): Promise<StateDir> {
  const gib = (n: number) => `${(n / 1024 ** 3).toFixed(0)} GiB`;
  let parent = fallback;
  let why = "the work folder";
  if (chosen !== null) {
    parent = chosen;
    why = "--state-dir";
  } else {
    const shm = await filesystem("/dev/shm");
    if (shm?.tmpfs && shm.freeBytes >= MIN_FREE_BYTES) {
      parent = "/dev/shm";
      why = `tmpfs, ${gib(shm.freeBytes)} free`;
    } else if (shm?.tmpfs)
      why = `the work folder: /dev/shm has ${gib(shm.freeBytes)} free, under ${gib(MIN_FREE_BYTES)}`;
  }
  const fs = await filesystem(parent);
  const path = await mkdtemp(join(parent, "tuf-edge-bench-state-"));
  const kind = fs === null ? "" : fs.tmpfs ? " (tmpfs)" : " (not tmpfs)";
  return { path, description: `${path}${kind}: ${why}` };
}
