/**
 * Bin packs: how the publisher stores many top-level hash bins in one R2
 * object, and how the Worker finds one bin's file in it.
 *
 * A busy round re-signs hundreds or thousands of bins. One R2 object per bin
 * made a round a stream of small writes: on the platform an invocation keeps
 * at most six connections open at once (R2 calls included), and local
 * workerd's R2 simulator takes one write at a time, so the writes, not the
 * signing, set the round's length. A pack holds the bins of one slice (the
 * 128 bins with indexes 128·k … 128·k + 127) that one publish step signed,
 * all at the same version, at
 *
 *     <repo>/packs/<version>/<k>
 *
 * so the Worker derives the key from the file name `<version>.bins-<hex>.json`
 * alone (no index to look up, nothing that reaches the Durable Object). The
 * object's bytes are the files, one after the other in slot order, exactly as
 * signed; its custom metadata records each slot's length (0: not in this
 * pack) and the hex width of the bins' names, so `5.bins-3.json` is not read
 * as `5.bins-003.json`. A pack is written once: the publisher takes a version
 * for its packs that no bin has had (durable-objects/pack-versions.ts), and
 * never writes the same version twice.
 *
 * A round that signs few bins has them spread over as many slices: at 16,384
 * bins, 300 changed bins fall in about 115 of the 128 slices, one write each.
 * A round of at most STEP_PACK_BINS bins, all signed in one step, whose files
 * hold at most STEP_PACK_BYTES, stores them as one step pack instead,
 * whatever their slices, at
 *
 *     <repo>/packs/<version>/<STEP_PACK_SLICE>
 *
 * whose custom metadata lists each bin's index and length in index order
 * (`bins`: "3:454,70:461"). A version has at most one step pack (a round
 * stores one only when its one step holds all its bins); the Worker looks
 * for a bin in the step pack of its version first, then in its slice's.
 */

/** Bins per pack (a slice of the bins' index range). */
export const PACK_SLOTS = 128;

/**
 * Most bins in a step pack: its directory ("65535:1234567," at most 14
 * characters a bin, for files under 10 MB) stays within 7.2 KB of the 8 KB
 * R2 allows for an object's custom metadata (keys and values). At 500
 * targets/s and 16,384 bins a round of 0.5 s signs about 250 bins.
 */
export const STEP_PACK_BINS = 512;

/**
 * Most bytes a step pack's bins may hold (by their current files' lengths):
 * the files and the pack's body are in memory together, so at most twice
 * this. At 10 M targets in 16,384 bins (120 KB a bin) about 140 bins.
 */
export const STEP_PACK_BYTES = 16 * 1024 * 1024;

/**
 * The last key segment of a step pack: one past any slice (an index has at
 * most 4 hex digits, so slices are below 65,536 ÷ PACK_SLOTS = 512). The
 * superseded files' bookkeeping counts it as a slice (durable-objects/superseded-files.ts).
 */
export const STEP_PACK_SLICE = 65_536;

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

/** A pack's body and custom metadata, from files of bins of one slice, all named with `width` hex digits. */
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
