import { describe, expect, it } from "vitest";
import { LogError } from "../../../src/log/errors.ts";
import { inclusionProof, leafHash, MerkleAccumulator, rootHash, verifyInclusion } from "../../../src/log/merkle.ts";
import {
  computeTiles,
  decodeEntryBundle,
  decodeTile,
  encodeEntryBundle,
  encodeTile,
  encodeTileIndex,
  entriesPath,
  entryTile,
  fullTiles,
  fullTilesWithin,
  newTiles,
  parseTilePath,
  perfectRoot,
  subtreeHashesFromTileLevels,
  subtreeHashesFromTiles,
  tileData,
  type TileLevelReader,
  tileNodes,
  tilePath,
  tilesForSize,
  tileSpan,
  tileWidth,
} from "../../../src/log/tiles.ts";
import { fromHex, toHex } from "../../../src/lib/bytes.ts";
import { sha256Hex } from "../../../src/lib/digest.ts";
import { caught } from "../helpers.ts";
import {
  GO_NEW_TILES_H10,
  TESSERA_ENTRIES_PATHS,
  TESSERA_ENTRY_BUNDLES,
  TESSERA_TILE_PATHS,
  TILES_70000,
} from "./fixtures.ts";
import { defined } from "../../../scripts/lib/defined.ts";

const u32 = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);

describe("tile paths", () => {
  it("encodes N in x-prefixed 3-digit elements (tlog-tiles: 1234067 → x001/x234/067)", () => {
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(5)).toBe("005");
    expect(encodeTileIndex(999)).toBe("999");
    expect(encodeTileIndex(1000)).toBe("x001/000");
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 2, index: 1234067, width: 17 })).toBe("tile/2/x001/x234/067.p/17");
  });

  it("matches transparency-dev/tessera's tile and entry bundle paths", () => {
    for (const { level, index, width, path } of TESSERA_TILE_PATHS) {
      expect(tilePath({ level, index, width })).toBe(path);
      expect(parseTilePath(path)).toEqual({ kind: "tile", level, index, width });
    }
    for (const { index, width, path } of TESSERA_ENTRIES_PATHS) {
      expect(entriesPath(index, width)).toBe(path);
      expect(parseTilePath(path)).toEqual({ kind: "entries", index, width });
    }
    for (const { seq, size, path } of TESSERA_ENTRY_BUNDLES) {
      const tile = entryTile(seq, size);
      expect(entriesPath(tile.index, tile.width), `${seq} of ${size}`).toBe(path);
    }
    // tessera TestParseTileLevelIndexPartial.
    expect(parseTilePath("tile/0/x001/x234/067.p/89")).toEqual({ kind: "tile", level: 0, index: 1234067, width: 89 });
    expect(parseTilePath("tile/63/001")).toEqual({ kind: "tile", level: 63, index: 1, width: 256 });
  });

  it("refuses malformed and non-canonical paths", () => {
    for (const bad of [
      "tile/0/x001/x234/067.p/",
      "tile/0/x001/x234/067.p",
      "tile/0/x001/x234/",
      "tile/0/x001/x234",
      "tile/0/x001",
      "tile/0/1",
      "tile/0/0001",
      "tile/0/x000/001", // 1 has one spelling: 001
      "tile/0/000.p/256",
      "tile/0/000.p/0",
      "tile/0/000.p/007",
      "tile/00/000",
      "tile/64/000",
      "tile/-1/000",
      "tile/data/000",
      "tile/3/5/x123/x456/078", // golang.org/x/mod sumdb paths carry a height; tlog-tiles paths do not
      "tile/0/x999/x999/x999/x999/x999/999", // beyond 2**53
      "/tile/0/000",
      "tile/entries/000.p/256",
    ]) {
      expect((caught(() => parseTilePath(bad)) as LogError).code, bad).toBe("malformed_tile");
    }
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow(LogError);
    expect(() => tilePath({ level: 64, index: 0, width: 256 })).toThrow(LogError);
    expect(() => encodeTileIndex(-1)).toThrow(LogError);
  });
});

describe("which tiles a tree has", () => {
  it("a tree of 70,000: 273 full level-0 tiles, one of width 112, one full level-1 tile, one of width 17, one level-2 tile of width 1", () => {
    const tiles = tilesForSize(70000);
    const level = (l: number) => tiles.filter((t) => t.level === l);
    expect(level(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(level(0).filter((t) => t.width < 256)).toEqual([{ level: 0, index: 273, width: 112 }]);
    expect(level(1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(level(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles).toHaveLength(273 + 1 + 2 + 1);
  });

  it("a tree of 256: one full level-0 tile and a level-1 tile of width 1 (tlog-tiles)", () => {
    expect(tilesForSize(256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tilesForSize(0)).toEqual([]);
    expect(tilesForSize(1)).toEqual([{ level: 0, index: 0, width: 1 }]);
  });

  it("counts new tiles as golang.org/x/mod/sumdb/tlog NewTiles does (height 10)", () => {
    for (const { old, new: size, want } of GO_NEW_TILES_H10) {
      expect(newTiles(old, size, 10), `${old} → ${size}`).toHaveLength(want);
    }
  });

  it("growing writes the changed tiles, and growing in steps writes every final tile", () => {
    expect(newTiles(300, 300)).toEqual([]);
    expect(newTiles(255, 257)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 1, width: 1 },
      { level: 1, index: 0, width: 1 },
    ]);
    const seen = new Set<string>();
    let size = 0;
    for (const next of [1, 2, 255, 256, 300, 65535, 65536, 70000]) {
      for (const t of newTiles(size, next)) seen.add(tilePath(t));
      size = next;
    }
    for (const t of tilesForSize(70000)) expect(seen.has(tilePath(t)), tilePath(t)).toBe(true);
    expect(() => newTiles(5, 4)).toThrow(LogError);
  });

  it("widths, spans and nodes", () => {
    expect(tileWidth(0, 273, 70000)).toBe(112);
    expect(tileWidth(0, 274, 70000)).toBe(0);
    expect(tileWidth(1, 0, 70000)).toBe(256);
    expect(tileWidth(2, 0, 70000)).toBe(1);
    expect(tileSpan({ level: 1, index: 0, width: 256 })).toEqual([0, 65536]);
    expect(tileSpan({ level: 0, index: 273, width: 112 })).toEqual([69888, 70000]);
    expect(tileNodes({ level: 1, index: 1, width: 17 })).toEqual({ treeLevel: 8, start: 256, end: 273 });
    expect(() => entryTile(70000, 70000)).toThrow(LogError);
  });
});

describe("tile contents", () => {
  it("reproduces an independent computation of the 70,000-entry example tree's tiles", async () => {
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < TILES_70000.size; i++) leaves.push(await leafHash(u32(i)));
    const tiles = await computeTiles(leaves);
    const byPath = new Map(tiles.map((t) => [t.path, t.data]));
    expect(byPath.size).toBe(277);
    for (const { path, sha256 } of TILES_70000.tiles) {
      const data = byPath.get(path);
      expect(data, path).toBeDefined();
      expect(await sha256Hex(defined(data)), path).toBe(sha256);
    }
    expect(toHex(defined(decodeTile(defined(byPath.get("tile/1/000")))[0]))).toBe(TILES_70000.root256);
    expect(toHex(defined(byPath.get("tile/2/000.p/1")))).toBe(TILES_70000.root65536);

    // The root and an inclusion proof, served from the tiles alone.
    const fromTiles = subtreeHashesFromTiles(TILES_70000.size, (_t, path) => defined(byPath.get(path)));
    const root = await rootHash(fromTiles, TILES_70000.size);
    expect(toHex(root)).toBe(TILES_70000.root);
    const proof = await inclusionProof(fromTiles, 65537, TILES_70000.size);
    expect(await verifyInclusion(defined(leaves[65537]), 65537, TILES_70000.size, proof, root)).toBe(true);

    // The last entry bundle, uint16-length-prefixed.
    const bundle = encodeEntryBundle(Array.from({ length: 112 }, (_, i) => u32(69888 + i)));
    expect(bundle.length).toBe(TILES_70000.lastBundle.length);
    expect(await sha256Hex(bundle)).toBe(TILES_70000.lastBundle.sha256);
    expect(entriesPath(273, 112)).toBe(TILES_70000.lastBundle.path);
  });

  it("builds tiles from the tile-level nodes an accumulator reports", async () => {
    // What a Durable Object would keep: the nodes at tree levels 0, 8, 16, … as appends complete them.
    const size = 600;
    const stored = new Map<string, Uint8Array>();
    const acc = new MerkleAccumulator();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < size; i++) {
      const leaf = await leafHash(u32(i));
      leaves.push(leaf);
      for (const node of await acc.append(leaf)) {
        if (node.level % 8 === 0) stored.set(`${node.level / 8}/${node.index}`, node.hash);
      }
    }
    const read: TileLevelReader = (tileLevel, start, end) =>
      Array.from({ length: end - start }, (_, i) => defined(stored.get(`${tileLevel}/${start + i}`)));
    const expected = new Map((await computeTiles(leaves)).map((t) => [t.path, t.data]));
    for (const tile of tilesForSize(size)) {
      expect(await tileData(tile, read), tilePath(tile)).toEqual(expected.get(tilePath(tile)));
    }
    const viaNodes = subtreeHashesFromTileLevels(read);
    expect(await rootHash(viaNodes, size)).toEqual(await acc.root());
  });

  it("perfectRoot, encodeTile and decodeTile check their input", async () => {
    const a = await leafHash(u32(1));
    const b = await leafHash(u32(2));
    expect(await perfectRoot([a])).toEqual(a);
    expect(() => encodeTile([])).toThrow(LogError);
    expect(() => encodeTile([a.slice(1)])).toThrow(LogError);
    expect(() => encodeTile(Array.from({ length: 257 }, () => a))).toThrow(LogError);
    expect(decodeTile(encodeTile([a, b]))).toEqual([a, b]);
    expect((caught(() => decodeTile(encodeTile([a, b]), 3)) as LogError).code).toBe("malformed_tile");
    expect((caught(() => decodeTile(new Uint8Array(33))) as LogError).code).toBe("malformed_tile");
    expect((caught(() => decodeTile(new Uint8Array(0))) as LogError).code).toBe("malformed_tile");
    await expect(perfectRoot([a, b, a])).rejects.toThrow(LogError);
  });
});

describe("entry bundles", () => {
  it("prefix each entry with its length as a big-endian uint16", () => {
    const bundle = encodeEntryBundle([new Uint8Array(0), fromHex("00"), fromHex("2021")]);
    expect(toHex(bundle)).toBe("0000" + "000100" + "00022021");
    expect(decodeEntryBundle(bundle).map(toHex)).toEqual(["", "00", "2021"]);
    const big = new Uint8Array(0xffff).fill(7);
    const decoded = decodeEntryBundle(encodeEntryBundle([big]), 1);
    expect(defined(decoded[0]).length).toBe(0xffff);
    expect(toHex(encodeEntryBundle([new Uint8Array(0x1234)]).subarray(0, 2))).toBe("1234");
  });

  it("refuse oversized entries, truncated bundles and wrong counts", () => {
    expect(() => encodeEntryBundle([new Uint8Array(0x10000)])).toThrow(LogError);
    expect(() => encodeEntryBundle([])).toThrow(LogError);
    for (const bad of ["00", "0002ff", "000100" + "00", ""]) {
      expect((caught(() => decodeEntryBundle(fromHex(bad))) as LogError).code, bad).toBe("malformed_tile");
    }
    expect((caught(() => decodeEntryBundle(fromHex("000100"), 2)) as LogError).code).toBe("malformed_tile");
  });
});

describe("fullTilesWithin", () => {
  const W = 256;
  it("plans level-0 tiles and their bundles within the writes, at least one, none already written", () => {
    expect(fullTilesWithin(10, 5 * W + 10, 4)).toEqual({ upTo: 2 * W, writes: 4, more: true });
    expect(fullTilesWithin(10, 5 * W + 10, 1)).toEqual({ upTo: W, writes: 2, more: true });
    expect(fullTilesWithin(2 * W, 5 * W + 10, 100)).toEqual({ upTo: 5 * W, writes: 6, more: false });
    expect(fullTilesWithin(5 * W, 5 * W + 10, 100)).toBeNull();
    expect(fullTilesWithin(0, W - 1, 100)).toBeNull();
  });

  it("counts the level-1 tile the 256th level-0 tile completes", () => {
    const level1 = W * W;
    expect(fullTiles(level1 - W, level1).map((t) => [t.level, t.index])).toEqual([
      [0, 255],
      [1, 0],
    ]);
    expect(fullTilesWithin(level1 - 2 * W, level1 + 10, 4)).toEqual({ upTo: level1 - W, writes: 2, more: true });
    expect(fullTilesWithin(level1 - W, level1 + W + 10, 4)).toEqual({ upTo: level1, writes: 3, more: true });
    expect(fullTilesWithin(level1 - W, level1 + W + 10, 2)).toEqual({ upTo: level1, writes: 3, more: true });
    expect(fullTilesWithin(level1 - W, level1 + W + 10, 5)).toEqual({ upTo: level1 + W, writes: 5, more: false });
  });
});
