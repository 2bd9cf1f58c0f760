/**
 * Bin packs: how the publisher stores many top-level hash bins in one R2
 * object, and how the Worker finds one bin's file in it.
 *
 * A busy round re-signs hundreds or thousands of bins. One R2 object per bin
 * made a round a stream of small writes: on the platform an invocation keeps
 * at most six connections open at once (R2 calls included), every write is
 * a billed Class A operation, and local workerd's R2 simulator takes one
 * write at a time. So a round stores its bins as step packs: the bins it
 * signs, taken in index order, in groups of at most STEP_PACK_BINS whose
 * files hold at most STEP_PACK_BYTES (stepPackGroups), each group signed at
 * a version of its own that no bin has had, and stored at
 *
 *     <repo>/packs/<version>/<STEP_PACK_SLICE>
 *
 * so the Worker derives the key from the file name `<version>.bins-<hex>.json`
 * alone (no index to look up, nothing that reaches the Durable Object). The
 * object's bytes are the files, one after the other in index order, exactly
 * as signed; its custom metadata lists each bin's index and length (`bins`:
 * "3:454,70:461") and the hex width of the bins' names, so `5.bins-3.json`
 * is not read as `5.bins-003.json`. A pack is written once: the publisher
 * takes a new version for each (durable-objects/pack-versions.ts), and never
 * writes the same version twice. At 2,000 targets/s and 16,384 bins a round
 * of 3,400 bins is 7 writes.
 *
 * Versions published by earlier releases may instead be in slice packs: the
 * bins of one slice (the 128 bins with indexes 128·k … 128·k + 127) that one
 * publish step signed at that version, at
 *
 *     <repo>/packs/<version>/<k>
 *
 * whose custom metadata records each slot's length (`lengths`, 0: not in this
 * pack). They stay readable: the Worker looks for a bin in the step pack of
 * its version first, then in its slice's.
 */
import { cutRuns } from "../lib/cut.ts";

/** Bins per slice pack (a slice of the bins' index range), the layout of versions published before step packs only. */
export const PACK_SLOTS = 128;

/**
 * Most bins in a step pack: its directory ("65535:1234567," at most 14
 * characters a bin, for files under 10 MB) stays within 7.2 KB of the 8 KB
 * R2 allows for an object's custom metadata (keys and values).
 */
export const STEP_PACK_BINS = 512;

/**
 * Most bytes a step pack's bins may hold (by their current files' lengths,
 * a bin of none counted as one byte): a pack's files and its body are in
 * memory together while it is written, and the next pack is built meanwhile
 * (durable-objects/role-staging.ts), so at most about four times this. At
 * 10 M targets in 16,384 bins (120 KB a bin) about 70 bins; at 1 M (12 KB),
 * STEP_PACK_BINS.
 */
export const STEP_PACK_BYTES = 8 * 1024 * 1024;

/**
 * The last key segment of a step pack: one past any slice (an index has at
 * most 4 hex digits, so slices are below 65,536 ÷ PACK_SLOTS = 512). The
 * superseded files' bookkeeping counts it as a slice (durable-objects/superseded-files.ts).
 */
export const STEP_PACK_SLICE = 65_536;

/**
 * Bins grouped into step packs: `bins` in index order with their current
 * files' lengths, cut greedily from the front into groups of at most
 * `most` bins (STEP_PACK_BINS at most) and STEP_PACK_BYTES (a group takes at
 * least one bin, however large). The cut depends only on the bins that
 * follow a group's start, so a round that stores its first groups and
 * resumes later cuts the rest as one uninterrupted run does
 * (durable-objects/pack-versions.ts).
 */
export function stepPackGroups<T extends { length: number }>(bins: readonly T[], most = STEP_PACK_BINS): T[][] {
  if (!Number.isSafeInteger(most) || most < 1) throw new RangeError(`a step pack holds at least one bin, not ${most}`);
  return cutRuns(bins, Math.min(most, STEP_PACK_BINS), STEP_PACK_BYTES, (bin) => Math.max(1, bin.length));
}

/** A bin's file as a pack holds it: the bin's index (its name's hex suffix) and its bytes as signed. */
export interface PackFile {
  index: number;
  bytes: Uint8Array;
}

/** `<version>.bins-<hex>.json`: a version of a top-level hash bin (delegated bins are `<role>.bins-<hex>`). */
const TOP_LEVEL_BIN_FILE = /^(?<version>[1-9]\d{0,14})\.bins-(?<hex>[0-9a-f]{1,4})\.json$/;

export interface BinFile {
  version: number;
  /** The bin's index (its name's hex suffix). */
  index: number;
  /** The number of hex digits in the bin's name. */
  width: number;
}

/** The version and index of a top-level bin's file name, or null for any other file. */
export function binFile(filename: string): BinFile | null {
  const groups = TOP_LEVEL_BIN_FILE.exec(filename)?.groups;
  if (!groups?.version || !groups.hex) return null;
  return { version: Number(groups.version), index: Number.parseInt(groups.hex, 16), width: groups.hex.length };
}

/** The slice a bin belongs to: its pack's last key segment. */
export function sliceOf(index: number): number {
  return Math.floor(index / PACK_SLOTS);
}

/**
 * A slice pack's body and custom metadata, from files of bins of one slice,
 * all named with `width` hex digits: the layout of versions published
 * before step packs, which tests write to check they stay readable.
 */
export function encodePack(
  files: readonly PackFile[],
  width: number,
): { body: Uint8Array<ArrayBuffer>; customMetadata: Record<string, string> } {
  if (files.length === 0) throw new Error("a bin pack holds at least one file");
  const slice = sliceOf(files[0]?.index ?? 0);
  const lengths = new Array<number>(PACK_SLOTS).fill(0);
  const bySlot = new Array<Uint8Array | undefined>(PACK_SLOTS);
  for (const file of files) {
    if (sliceOf(file.index) !== slice) throw new Error(`bin ${file.index} is not in slice ${slice}`);
    const slot = file.index % PACK_SLOTS;
    if (bySlot[slot]) throw new Error(`bin ${file.index} is twice in one pack`);
    if (file.bytes.length === 0) throw new Error(`bin ${file.index} has an empty file`);
    bySlot[slot] = file.bytes;
    lengths[slot] = file.bytes.length;
  }
  const body = new Uint8Array(lengths.reduce((sum, n) => sum + n, 0));
  let offset = 0;
  for (const bytes of bySlot) {
    if (!bytes) continue;
    body.set(bytes, offset);
    offset += bytes.length;
  }
  // Trailing empty slots are left out: "12,0,7" is slots 0–2, the rest empty.
  const last = lengths.findLastIndex((n) => n > 0);
  return { body, customMetadata: { lengths: lengths.slice(0, last + 1).join(","), width: String(width) } };
}

/**
 * A step pack's body and custom metadata, from files of any bins (in any
 * slices), all named with `width` hex digits: the files in index order, and
 * the directory of their indexes and lengths.
 */
export function encodeStepPack(
  files: readonly PackFile[],
  width: number,
): { body: Uint8Array<ArrayBuffer>; customMetadata: Record<string, string> } {
  if (files.length === 0) throw new Error("a bin pack holds at least one file");
  if (files.length > STEP_PACK_BINS) throw new Error(`a step pack holds at most ${STEP_PACK_BINS} bins`);
  const sorted = [...files].sort((a, b) => a.index - b.index);
  const body = new Uint8Array(sorted.reduce((sum, f) => sum + f.bytes.length, 0));
  let offset = 0;
  for (const [i, file] of sorted.entries()) {
    if (!Number.isSafeInteger(file.index) || file.index < 0) throw new Error(`bin index ${file.index} is not one`);
    if (i > 0 && sorted[i - 1]?.index === file.index) throw new Error(`bin ${file.index} is twice in one pack`);
    if (file.bytes.length === 0) throw new Error(`bin ${file.index} has an empty file`);
    body.set(file.bytes, offset);
    offset += file.bytes.length;
  }
  const bins = sorted.map((f) => `${f.index}:${f.bytes.length}`).join(",");
  return { body, customMetadata: { bins, width: String(width) } };
}

/** Where a bin's file is in its step pack's body, from the directory (`bins`), or null if it is not there. */
function locateInStepPack(bins: string, bin: BinFile): { offset: number; length: number } | null {
  let offset = 0;
  for (const member of bins.split(",")) {
    const [index, length] = member.split(":").map(Number);
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(length) || (length ?? 0) <= 0) return null;
    if (index === bin.index) return { offset, length: length as number };
    offset += length as number;
  }
  return null;
}

/** Where a bin's file is in its pack (from the pack's custom metadata), or null if the pack does not hold it. */
export function locateInPack(
  customMetadata: Record<string, string> | undefined,
  bin: BinFile,
): { offset: number; length: number } | null {
  if (!customMetadata || customMetadata.width !== String(bin.width)) return null;
  if (customMetadata.bins !== undefined) return locateInStepPack(customMetadata.bins, bin);
  const lengths = (customMetadata.lengths ?? "").split(",").map(Number);
  const slot = bin.index % PACK_SLOTS;
  const length = lengths[slot] ?? 0;
  if (!(Number.isSafeInteger(length) && length > 0)) return null;
  let offset = 0;
  for (let i = 0; i < slot; i++) {
    const n = lengths[i] ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) return null;
    offset += n;
  }
  return { offset, length };
}
