/**
 * Inclusion and consistency proofs computed from the log's published files
 * alone (C2SP tlog-tiles: hash tiles and entry bundles), for any tree size up
 * to the published one. Every complete subtree of a smaller tree is a node of
 * the published tree, so the tiles of the published size answer for every
 * size below it, including sizes no checkpoint signed. The Worker serves
 * proofs this way, from R2 through the edge cache, so no proof request reaches
 * the repository's Durable Object; the answers are those the object's own
 * nodes give (durable-objects/log-proofs.ts).
 */
import { toHex } from "../lib/bytes.ts";
import { parseCheckpoint } from "./checkpoint.ts";
import { parseNote } from "./note.ts";
import { consistencyProof, inclusionProof, leafHash, rootHash, type SubtreeHashes } from "./merkle.ts";
import { decodeEntryBundle, entriesPath, entryTile, subtreeHashesFromTiles, TILE_WIDTH, type Tile } from "./tiles.ts";

/** Reads a published log file ("tile/…", "tile/entries/…"): its bytes, or throws. */
export type LogFileReader = (path: string) => Promise<Uint8Array>;

/** Entry `index` in the tree of `size` leaves, with its audit path (hex, leaf to root). */
export interface InclusionProof {
  index: number;
  size: number;
  leafHash: string;
  entry: string;
  proof: string[];
  rootHash: string;
}

/** Tree `from` is a prefix of tree `to` (hex, RFC 6962 order). */
export interface ConsistencyProof {
  from: number;
  to: number;
  proof: string[];
  fromRoot: string;
  toRoot: string;
}

/**
 * The log as the checkpoint note `checkpoint` (its text or bytes; null: none
 * yet, an empty log) publishes it, its files read with `read` (null: not stored,
 * which a tree the checkpoint signs cannot be).
 */
export function publishedTiles(
  checkpoint: string | Uint8Array | null,
  read: (path: string) => Promise<Uint8Array | null>,
): PublishedTiles {
  const signed = checkpoint === null ? null : parseCheckpoint(parseNote(checkpoint).text);
  return new PublishedTiles(signed?.size ?? 0, signed?.rootHash ?? new Uint8Array(32), async (path) => {
    const file = await read(path);
    if (!file) throw new Error(`the log has no ${path} though its checkpoint signs a tree that needs it`);
    return file;
  });
}

/** The log as published at `publishedSize` (what the served checkpoint signs). */
export class PublishedTiles {
  readonly publishedSize: number;
  readonly #publishedRoot: Uint8Array;
  readonly #read: LogFileReader;
  readonly #source: SubtreeHashes;

  /** `publishedRoot`: the root hash the checkpoint signs for `publishedSize` (not computed again). */
  constructor(publishedSize: number, publishedRoot: Uint8Array, read: LogFileReader) {
    this.publishedSize = publishedSize;
    this.#publishedRoot = publishedRoot;
    this.#read = read;
    this.#source = subtreeHashesFromTiles(publishedSize, (_tile: Tile, path: string) => read(path));
  }

  async #root(size: number): Promise<string> {
    return toHex(size === this.publishedSize ? this.#publishedRoot : await rootHash(this.#source, size));
  }

  /** Entry `index`'s bytes, from its entry bundle at the published size. */
  async entry(index: number): Promise<Uint8Array<ArrayBuffer>> {
    const tile = entryTile(index, this.publishedSize);
    const bundle = decodeEntryBundle(await this.#read(entriesPath(tile.index, tile.width)), tile.width);
    const entry = bundle[index % TILE_WIDTH];
    if (!entry) throw new Error(`the entry bundle has no entry ${index}`);
    return entry;
  }

  /** Requires 0 <= index < size <= publishedSize. */
  async inclusion(index: number, size: number): Promise<InclusionProof> {
    const entry = await this.entry(index);
    return {
      index,
      size,
      leafHash: toHex(await leafHash(entry)),
      entry: new TextDecoder().decode(entry),
      proof: (await inclusionProof(this.#source, index, size)).map(toHex),
      rootHash: await this.#root(size),
    };
  }

  /** Requires 1 <= from <= to <= publishedSize. */
  async consistency(from: number, to: number): Promise<ConsistencyProof> {
    return {
      from,
      to,
      proof: (await consistencyProof(this.#source, from, to)).map(toHex),
      fromRoot: await this.#root(from),
      toRoot: await this.#root(to),
    };
  }
}
