/**
 * An entry's inclusion in a checkpoint's tree, computed and checked from the
 * log's published tiles alone (C2SP tlog-tiles): the entry bytes from their
 * entry bundle, the proof from hash tiles. The same code runs on the server
 * (the log page, reading R2) and in the browser (the target page's check,
 * fetching the tile URLs).
 */
import { toHex } from "../lib/bytes.ts";
import { inclusionProof, leafHash, verifyInclusion } from "../log/merkle.ts";
import { decodeEntryBundle, entriesPath, entryTile, subtreeHashesFromTiles, type Tile } from "../log/tiles.ts";

/** Reads a published log file ("tile/…"): its bytes, or throws. */
export type LogFileReader = (path: string) => Promise<Uint8Array>;

export interface ProvenEntry {
  index: number;
  entry: Uint8Array<ArrayBuffer>;
  leafHash: string;
  proof: string[];
  verified: boolean;
}

export async function proveFromTiles(
  read: LogFileReader,
  index: number,
  size: number,
  rootHash: Uint8Array,
): Promise<ProvenEntry> {
  const tile = entryTile(index, size);
  const bundle = decodeEntryBundle(await read(entriesPath(tile.index, tile.width)), tile.width);
  const entry = bundle[index % 256];
  if (!entry) throw new Error(`the entry bundle has no entry ${index}`);
  const leaf = await leafHash(entry);
  const source = subtreeHashesFromTiles(size, (_tile: Tile, path: string) => read(path));
  const proof = await inclusionProof(source, index, size);
  return {
    index,
    entry,
    leafHash: toHex(leaf),
    proof: proof.map(toHex),
    verified: await verifyInclusion(leaf, index, size, proof, rootHash),
  };
}
