/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the Merkle tree served as
 * static, immutable "tiles" of height 8.
 *
 * - The n-th tile at level l holds, for i in 0..255, MTH(D[(n·256 + i)·256**l :
 *   (n·256 + i + 1)·256**l]): the tree nodes at tree level 8·l, indices
 *   n·256 … n·256 + 255, as 32-byte hashes concatenated (8,192 bytes when full).
 * - Paths are `tile/<L>/<N>[.p/<W>]`: L decimal 0–63, N in zero-padded
 *   3-digit path elements all but the last prefixed with `x` (1234067 →
 *   `x001/x234/067`), and `.p/<W>` (W 1–255) only on partial tiles.
 * - A tree of size s has at level l a partial tile of width
 *   ⌊s / 256**l⌋ mod 256 (if non-zero) after ⌊s / 256**(l+1)⌋ full ones.
 *   Partial tiles are never hashed into the level above.
 * - Entry bundles `tile/entries/<N>[.p/<W>]` hold the entries behind level-0
 *   tile N, each prefixed by its length as a big-endian uint16.
 *
 * Only tree levels 0, 8, 16, … are ever stored: a node at tree level
 * 8·L + r (r < 8) is the MTH of 2**r consecutive hashes of one tile at level L,
 * which is how {@link subtreeHashesFromTiles} answers proof look-ups.
 */
import { concatBytes } from "../lib/bytes.ts";
import { isSafeNonNegativeInteger, requireSize } from "./errors.ts";
import { LogError } from "./errors.ts";
import { type Hash, HASH_SIZE, nodeHash, type SubtreeHashes } from "./merkle.ts";

/** Tree levels per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2**TILE_HEIGHT). */
export const TILE_WIDTH = 256;
/** The largest entry an entry bundle can hold (its length is a uint16). */
export const MAX_ENTRY_SIZE = 0xffff;

/** A tile: `width` is 1–255 for a partial tile and TILE_WIDTH for a full one. */
export interface Tile {
  level: number;
  index: number;
  width: number;
}

/** A path relative to the log prefix, parsed. */
export type TilePath =
  | { kind: "tile"; level: number; index: number; width: number }
  | { kind: "entries"; index: number; width: number };

/** N as tile path elements: 1234067 → "x001/x234/067", 5 → "005". */
export function encodeTileIndex(index: number): string {
  requireSize(index, "tile index");
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

function suffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new LogError("invalid_argument", `a tile width is 1–${TILE_WIDTH}, not ${width}`);
  }
  return width === TILE_WIDTH ? "" : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(tile: Tile): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > 63) {
    throw new LogError("invalid_argument", `a tile level is 0–63, not ${tile.level}`);
  }
  return `tile/${tile.level}/${encodeTileIndex(tile.index)}${suffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`, the entry bundle behind level-0 tile N. */
export function entriesPath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${suffix(width)}`;
}

const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile or entry bundle path (relative to the log prefix). Only the
 * canonical spelling is accepted: one resource, one URL.
 */
export function parseTilePath(path: string): TilePath {
  const m = TILE_PATH.exec(path);
  if (m === null) throw new LogError("malformed_tile", `not a tile path: ${JSON.stringify(path)}`);
  const [, levelText, indexText, widthText] = m;
  const index = Number((indexText ?? "").replaceAll("x", "").replaceAll("/", ""));
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (!Number.isSafeInteger(index) || (widthText !== undefined && width >= TILE_WIDTH)) {
    throw new LogError("malformed_tile", `not a tile path: ${JSON.stringify(path)}`);
  }
  const parsed: TilePath =
    levelText === "entries"
      ? { kind: "entries", index, width }
      : { kind: "tile", level: Number(levelText), index, width };
  if (parsed.kind === "tile" && parsed.level > 63) {
    throw new LogError("malformed_tile", `a tile level is 0–63: ${JSON.stringify(path)}`);
  }
  const canonical = parsed.kind === "entries" ? entriesPath(index, width) : tilePath(parsed);
  if (canonical !== path) throw new LogError("malformed_tile", `not the canonical tile path ${canonical}`);
  return parsed;
}

/** 2**(height·level), the number of leaves under one hash of a tile at `level`. */
function leavesPerHash(level: number, height: number): number {
  return 2 ** (height * level);
}

/** The number of tree nodes at tile level `level` in a tree of `size` leaves. */
function nodesAtLevel(level: number, size: number, height: number): number {
  return Math.floor(size / leavesPerHash(level, height));
}

/** The width of tile (level, index) in a tree of `size` leaves: 0 if it does not exist yet. */
export function tileWidth(level: number, index: number, size: number): number {
  requireSize(size, "size");
  const w = nodesAtLevel(level, size, TILE_HEIGHT) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, w));
}

function checkHeight(height: number): number {
  if (!Number.isInteger(height) || height < 1 || height > 30) {
    throw new LogError("invalid_argument", `a tile height is 1–30, not ${height}`);
  }
  return 2 ** height;
}

/**
 * Every tile of a tree of `size` leaves, full and partial, level by level.
 * tlog-tiles fixes the height at 8; other heights exist only to check this
 * against golang.org/x/mod/sumdb/tlog, whose tiles have a height parameter.
 */
export function tilesForSize(size: number, height: number = TILE_HEIGHT): Tile[] {
  return newTiles(0, size, height);
}

/**
 * The tiles a log must write when it grows from `oldSize` to `newSize`: every
 * tile of the new tree that the old tree did not have at the same width
 * (new full tiles, and the new partial tile of each level that changed).
 */
export function newTiles(oldSize: number, newSize: number, height: number = TILE_HEIGHT): Tile[] {
  requireSize(oldSize, "oldSize");
  requireSize(newSize, "newSize");
  if (oldSize > newSize) throw new LogError("invalid_argument", `a log does not shrink (${oldSize} → ${newSize})`);
  const width = checkHeight(height);
  const tiles: Tile[] = [];
  for (let level = 0; nodesAtLevel(level, newSize, height) > 0; level++) {
    const oldN = nodesAtLevel(level, oldSize, height);
    const newN = nodesAtLevel(level, newSize, height);
    if (oldN === newN) continue;
    const full = Math.floor(newN / width);
    for (let index = Math.floor(oldN / width); index < full; index++) tiles.push({ level, index, width });
    const partial = newN - full * width;
    if (partial > 0) tiles.push({ level, index: full, width: partial });
  }
  return tiles;
}

/** The tiles that are full in a tree of `to` entries and were not in one of `from` (they never change). */
export function fullTiles(from: number, to: number): Tile[] {
  return newTiles(from, to).filter((t) => t.width === TILE_WIDTH);
}

/**
 * How far the full tiles of a tree of `size` entries, from those of a tree of
 * `from`, can be written in at most `writes` writes (each full tile, and each
 * level-0 tile's entry bundle, is one): the tree size to write them up to,
 * the writes that takes, and whether full tiles remain beyond it; null when
 * none waits. At least one level-0 tile (with the tiles above it that it
 * completes, at most one per level) whatever `writes`, so a caller always
 * progresses.
 */
export function fullTilesWithin(
  from: number,
  size: number,
  writes: number,
): { upTo: number; writes: number; more: boolean } | null {
  const first = Math.floor(from / TILE_WIDTH);
  const available = Math.floor(size / TILE_WIDTH) - first;
  if (available <= 0) return null;
  const cost = (tiles: number) => {
    const written = fullTiles(from, (first + tiles) * TILE_WIDTH);
    return written.length + written.filter((t) => t.level === 0).length;
  };
  let tiles = Math.max(1, Math.min(available, Math.floor(writes / 2)));
  while (tiles > 1 && cost(tiles) > writes) tiles--;
  return { upTo: (first + tiles) * TILE_WIDTH, writes: cost(tiles), more: tiles < available };
}

/** The entry bundle (level-0 tile) holding entry `index` in a tree of `size` leaves. */
export function entryTile(index: number, size: number): Tile {
  requireSize(index, "index");
  if (index >= size) throw new LogError("invalid_argument", `entry ${index} is not in a tree of size ${size}`);
  const tileIndex = Math.floor(index / TILE_WIDTH);
  return { level: 0, index: tileIndex, width: tileWidth(0, tileIndex, size) };
}

/** The entries [start, end) a tile's hashes span (tlog-tiles "start index" and, for a full tile, "end index"). */
export function tileSpan(tile: Tile): readonly [start: number, end: number] {
  const per = leavesPerHash(tile.level, TILE_HEIGHT);
  const start = tile.index * TILE_WIDTH * per;
  return [start, start + tile.width * per];
}

/** The tree nodes a tile holds: tree level 8·L, node indices [start, end). */
export function tileNodes(tile: Tile): { treeLevel: number; start: number; end: number } {
  const start = tile.index * TILE_WIDTH;
  return { treeLevel: tile.level * TILE_HEIGHT, start, end: start + tile.width };
}

/** Tile contents: the hashes concatenated. */
export function encodeTile(hashes: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (hashes.length < 1 || hashes.length > TILE_WIDTH) {
    throw new LogError("invalid_argument", `a tile has 1–${TILE_WIDTH} hashes, not ${hashes.length}`);
  }
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) throw new LogError("invalid_argument", `a tile hash is ${HASH_SIZE} bytes`);
  }
  return concatBytes(...hashes);
}

/** Splits tile contents into hashes; with `width`, the tile must hold exactly that many. */
export function decodeTile(data: Uint8Array, width?: number): Hash[] {
  const count = data.length / HASH_SIZE;
  if (!Number.isInteger(count) || count < 1 || count > TILE_WIDTH || (width !== undefined && count !== width)) {
    throw new LogError("malformed_tile", `a tile of ${data.length} bytes is not ${width ?? "1–256"} hashes`);
  }
  const out: Hash[] = [];
  for (let i = 0; i < count; i++) out.push(Uint8Array.from(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  return out;
}

/** MTH of a power-of-two number of consecutive hashes at one level (a complete subtree of them). */
export async function perfectRoot(hashes: readonly Uint8Array[]): Promise<Hash> {
  let n = hashes.length;
  if (n < 1 || Math.log2(n) % 1 !== 0) {
    throw new LogError("invalid_argument", `a complete subtree has a power-of-two number of hashes, not ${n}`);
  }
  let level: readonly Uint8Array[] = hashes;
  while (n > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < n; i += 2) {
      const [left, right] = level.slice(i, i + 2);
      if (!left || !right) throw new LogError("invalid_argument", "a level of a complete subtree lost a hash");
      next.push(await nodeHash(left, right));
    }
    level = next;
    n /= 2;
  }
  const [root] = level;
  if (!root) throw new LogError("invalid_argument", "a complete subtree has no root");
  return Uint8Array.from(root);
}

/**
 * Reads stored nodes at tile level L (tree level 8·L) with indices
 * [start, end): SQLite rows of the nodes `MerkleAccumulator.append` reports at
 * levels 0, 8, 16, …, or slices of stored tiles ({@link tileLevelReaderFromTiles}).
 */
export type TileLevelReader = (
  tileLevel: number,
  start: number,
  end: number,
) => readonly Uint8Array[] | Promise<readonly Uint8Array[]>;

/** The contents of `tile`, from the stored nodes at its level. */
export async function tileData(tile: Tile, read: TileLevelReader): Promise<Uint8Array<ArrayBuffer>> {
  const { start, end } = tileNodes(tile);
  const hashes = await read(tile.level, start, end);
  if (hashes.length !== tile.width) {
    throw new LogError("invalid_argument", `read ${hashes.length} hashes for ${tilePath(tile)}`);
  }
  return encodeTile(hashes);
}

/**
 * Every tile of the tree over `leafHashes`, computed in memory from the
 * level-0 hashes alone (each level is the perfectRoot of each full tile of the
 * level below): n + n/256 + … hashes in, O(n) hashing. For rebuilding a log's
 * tiles and for tests; an appending log writes `newTiles(old, new)` instead.
 */
export async function computeTiles(
  leafHashes: readonly Uint8Array[],
): Promise<Array<{ tile: Tile; path: string; data: Uint8Array<ArrayBuffer> }>> {
  const levels: Uint8Array[][] = [];
  for (let below: Uint8Array[] = [...leafHashes]; ; ) {
    levels.push(below);
    if (below.length < TILE_WIDTH) break;
    const above: Uint8Array[] = [];
    for (let i = 0; i + TILE_WIDTH <= below.length; i += TILE_WIDTH) {
      above.push(await perfectRoot(below.slice(i, i + TILE_WIDTH)));
    }
    below = above;
  }
  const read: TileLevelReader = (level, start, end) => levels[level]?.slice(start, end) ?? [];
  const out: Array<{ tile: Tile; path: string; data: Uint8Array<ArrayBuffer> }> = [];
  for (const tile of tilesForSize(leafHashes.length)) {
    out.push({ tile, path: tilePath(tile), data: await tileData(tile, read) });
  }
  return out;
}

/**
 * Complete-subtree look-ups for proofs (merkle.ts) from stored tile-level
 * nodes: node (8·L + r, i) is the perfectRoot of the 2**r nodes at tile level L
 * starting at i·2**r, which always sit in one tile. At most 128 hashes per
 * look-up, so a proof in a log of a million entries costs at most 40 reads.
 */
export function subtreeHashesFromTileLevels(read: TileLevelReader): SubtreeHashes {
  return {
    async subtree(level: number, index: number): Promise<Hash> {
      requireSize(level, "level");
      requireSize(index, "index");
      const tileLevel = Math.floor(level / TILE_HEIGHT);
      const span = 2 ** (level % TILE_HEIGHT);
      const hashes = await read(tileLevel, index * span, (index + 1) * span);
      if (hashes.length !== span) {
        throw new LogError(
          "invalid_argument",
          `read ${hashes.length} hashes for subtree (${level}, ${index}), not ${span}`,
        );
      }
      return perfectRoot(hashes);
    },
  };
}

/**
 * A {@link TileLevelReader} over stored tiles of a tree of `size` leaves:
 * `fetchTile` returns the contents of a tile (`tilePath(tile)`, at the width
 * that tree has). Tiles are fetched once per reader and kept for its lifetime,
 * so use one reader per request.
 */
export function tileLevelReaderFromTiles(
  size: number,
  fetchTile: (tile: Tile, path: string) => Uint8Array | Promise<Uint8Array>,
): TileLevelReader {
  requireSize(size, "size");
  const cache = new Map<string, Promise<Hash[]>>();
  const load = (tile: Tile): Promise<Hash[]> => {
    const path = tilePath(tile);
    let hashes = cache.get(path);
    if (hashes === undefined) {
      hashes = Promise.resolve(fetchTile(tile, path)).then((data) => decodeTile(data, tile.width));
      cache.set(path, hashes);
    }
    return hashes;
  };
  return async (tileLevel, start, end) => {
    if (!isSafeNonNegativeInteger(start) || !isSafeNonNegativeInteger(end) || end <= start) {
      throw new LogError("invalid_argument", `bad node range [${start}, ${end})`);
    }
    if (end > nodesAtLevel(tileLevel, size, TILE_HEIGHT)) {
      throw new LogError(
        "invalid_argument",
        `tile level ${tileLevel} has no node ${end - 1} in a tree of size ${size}`,
      );
    }
    const first = Math.floor(start / TILE_WIDTH);
    const last = Math.floor((end - 1) / TILE_WIDTH);
    const tiles: Tile[] = [];
    for (let index = first; index <= last; index++) {
      tiles.push({ level: tileLevel, index, width: tileWidth(tileLevel, index, size) });
    }
    const loaded = await Promise.all(tiles.map(load));
    return loaded.flat().slice(start - first * TILE_WIDTH, end - first * TILE_WIDTH);
  };
}

/** {@link subtreeHashesFromTileLevels} over {@link tileLevelReaderFromTiles}. */
export function subtreeHashesFromTiles(
  size: number,
  fetchTile: (tile: Tile, path: string) => Uint8Array | Promise<Uint8Array>,
): SubtreeHashes {
  return subtreeHashesFromTileLevels(tileLevelReaderFromTiles(size, fetchTile));
}

/** An entry bundle: each entry prefixed by its length as a big-endian uint16 (at most 256 entries). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new LogError("invalid_argument", `an entry bundle has 1–${TILE_WIDTH} entries, not ${entries.length}`);
  }
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_ENTRY_SIZE) {
      throw new LogError("invalid_argument", `an entry is at most ${MAX_ENTRY_SIZE} bytes, not ${entry.length}`);
    }
    parts.push(new Uint8Array([entry.length >>> 8, entry.length & 0xff]), entry);
  }
  return concatBytes(...parts);
}

/** Splits an entry bundle; with `width`, it must hold exactly that many entries. */
export function decodeEntryBundle(data: Uint8Array, width?: number): Uint8Array<ArrayBuffer>[] {
  const entries: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 2 > data.length) throw new LogError("malformed_tile", "an entry bundle ends inside a length prefix");
    const length = (data[offset] ?? 0) * 256 + (data[offset + 1] ?? 0); // both present: checked above
    offset += 2;
    if (offset + length > data.length) throw new LogError("malformed_tile", "an entry bundle ends inside an entry");
    entries.push(Uint8Array.from(data.subarray(offset, offset + length)));
    offset += length;
  }
  if (entries.length < 1 || entries.length > TILE_WIDTH || (width !== undefined && entries.length !== width)) {
    throw new LogError("malformed_tile", `an entry bundle of ${entries.length} entries, expected ${width ?? "1–256"}`);
  }
  return entries;
}
