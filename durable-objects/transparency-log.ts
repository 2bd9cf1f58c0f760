/**
 * The repository's binary-transparency log: an RFC 6962 Merkle tree over
 * every change it publishes (targets, attestations, metadata files, roots).
 *
 * Entries are appended to SQLite in the same transaction as the change they
 * record, so a change that was accepted is in the log and one that was
 * refused is not. Hashing the tree is derived work, done just before a
 * checkpoint is signed: the publish round signs a checkpoint, writes the new
 * tiles and the checkpoint to R2 (C2SP tlog-tiles layout), and records the
 * log's size and root hash in the timestamp it then signs. Entries whose
 * tiles are in R2 are pruned from SQLite (log-history.ts). The checkpoint,
 * its key and witnesses are in log-checkpoint.ts, proofs in log-proofs.ts.
 */
import { fromHex, toHex } from "../src/lib/bytes.ts";
import { encodeEntry, type LogEntry } from "../src/log/entry.ts";
import { leafHashSync, MerkleAccumulator, subtreesOfRange } from "../src/log/merkle.ts";
import {
  encodeEntryBundle,
  fullTiles,
  fullTilesWithin,
  newTiles,
  tileData,
  tileNodes,
  type Tile,
  tilePath,
  tileWidth,
  entriesPath,
  TILE_HEIGHT,
  TILE_WIDTH,
} from "../src/log/tiles.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import { withWriteWindow } from "./write-window.ts";
import { jsonArray, jsonRuns } from "./json-rows.ts";
import type { Sealer } from "./sealer.ts";
import { LogCheckpoint } from "./log-checkpoint.ts";
import { LogHistory } from "./log-history.ts";
import { LogProofs, storedSubtrees } from "./log-proofs.ts";
import { sqlLimit } from "./stable-plans.ts";

export interface LogHead {
  origin: string;
  size: number;
  rootHash: string;
}

/** Tiles and entry bundles written to R2 at once when the log is published. */
const TILE_WRITES_IN_FLIGHT = 16;

const HASHED = "log-hashed-size";
/** The tree size whose full tiles are all stored (storeFullTiles), ahead of the checkpoint. */
const FULL_TILES = "log-full-tiles-size";
/** Entries read per query while hashing. */
const HASH_READ_ROWS = 1024;
/**
 * Entries hashed per turn by hashInTurns (about 50 µs each: the entry's
 * SHA-256, the tree's new nodes and their rows), so the hashing of many
 * entries (a round's, an import batch's) never runs as one block.
 */
export const HASH_SLICE = 512;
/** The most entries whose nodes and bytes one hashing keeps for the tiles stored after it (recent). */
const RECENT_MAX = 65_536;
/**
 * The most appended entries kept for the hashing after them (#appended): two
 * import batches' (10,000 targets each), as the CLI sends two at a time, so
 * the second batch arrives while the first is hashed a slice per turn. The
 * oldest are kept, as they are hashed first; entries appended past the cap
 * are read back, as are a full round's (one per file, 16,387). What stays in
 * the heap until the next hashing is at most 20,000 entries' bytes (about
 * 200 each for a target's).
 */
export const APPENDED_MAX = 20_000;

export class TransparencyLog {
  readonly #sql: SqlStorage;
  readonly #kv: SyncKvStorage;
  readonly origin: string;
  /** What stays of pruned entries, and the pruning (log-history.ts). */
  readonly history: LogHistory;
  /** The signed checkpoint, its key and the witnesses' cosignatures (log-checkpoint.ts). */
  readonly checkpoint: LogCheckpoint;
  /** Inclusion proofs for the published trees (log-proofs.ts). */
  readonly proofs: LogProofs;
  #accumulator: MerkleAccumulator | null = null;
  /**
   * What the latest hashing computed, kept for the tiles stored right after
   * it (storeFullTiles, publish) so they are not read back from SQLite: the
   * nodes at tile levels (tree levels 0, 8, 16, …) and the entries' bytes,
   * each from its first index. Each hashing replaces it; the tiles' storing
   * uses the one its own hashing made and drops it when done, so nothing
   * stays between requests. Empty after a hashing of more than RECENT_MAX.
   */
  #recent: Recent = emptyRecent();
  /**
   * The bytes of the entries appended since the last hashing, from index
   * `from` (at most APPENDED_MAX of them, else null): the hashing that follows
   * takes them from here instead of reading them back. An append at an index
   * below their end (the transaction that made those entries was rolled
   * back) cuts them there first.
   */
  #appended: { from: number; bytes: Uint8Array[] } | null = null;
  /** Tile storing runs one at a time: a batch's tiles wait for those of the batch before it (then not stored twice). */
  #tiling: Promise<unknown> = Promise.resolve();

  /** `retained`: entries never pruned at the log's end (log-history.ts; tests use fewer). */
  constructor(deps: { sql: SqlStorage; kv: SyncKvStorage; sealer: Sealer; origin: string; retained?: number }) {
    this.#sql = deps.sql;
    this.#kv = deps.kv;
    this.origin = deps.origin;
    this.history = new LogHistory(deps.sql, deps.kv, deps.retained);
    this.checkpoint = new LogCheckpoint(deps);
    this.proofs = new LogProofs({ sql: deps.sql, history: this.history, checkpoint: this.checkpoint });
  }

  /** Appends an entry; call inside the transaction that makes the change. */
  append(entry: LogEntry): void {
    this.appendMany([entry]);
  }

  /**
   * Appends entries in order, a run of entries per statement (json-rows.ts;
   * the bytes travel as hex); call inside the transaction that makes the
   * change (no await in between, so no other append can take their indices).
   * `encode` makes each entry's bytes (encodeEntry, which validates it; see
   * encodeValidatedTargetEntry).
   */
  appendMany<E extends LogEntry>(
    entries: readonly E[],
    encode: (entry: E) => Uint8Array<ArrayBuffer> = encodeEntry,
  ): void {
    const first = this.size();
    const encoded = entries.map(encode);
    const rows = encoded.map((bytes, i) => [first + i, toHex(bytes)] as const);
    for (const run of jsonRuns(rows, (row) => row)) {
      if (run.rows)
        this.#sql.exec(
          `INSERT INTO log_entries (idx, entry)
           SELECT value ->> 0, unhex(value ->> 1) FROM json_each(?) WHERE true ORDER BY key`,
          jsonArray(run.rows),
        );
      else
        for (const [idx, hex] of run.items)
          this.#sql.exec("INSERT INTO log_entries (idx, entry) VALUES (?, ?)", idx, fromHex(hex).buffer);
    }
    // An entry about a path is found by it in the history, which outlives the entry's row (log-history.ts).
    this.history.record(
      entries.flatMap((entry, i) =>
        "path" in entry ? [{ index: first + i, path: entry.path, type: entry.type }] : [],
      ),
    );
    this.#keepAppended(first, encoded);
  }

  /**
   * Keeps appended entries for the hashing that follows, up to APPENDED_MAX
   * from the oldest not hashed yet: an append right after those kept (or
   * below their end: the transaction that appended the rest was rolled back,
   * so they are cut there first) adds what fits; one past a gap (entries that
   * did not fit) leaves them as they are, since they are hashed next.
   */
  #keepAppended(first: number, bytes: Uint8Array[]): void {
    const kept = this.#appended;
    if (kept && first > kept.from + kept.bytes.length) return;
    if (kept && first >= kept.from) {
      kept.bytes.length = first - kept.from;
      for (const entry of bytes.slice(0, APPENDED_MAX - kept.bytes.length)) kept.bytes.push(entry);
    } else this.#appended = { from: first, bytes: bytes.slice(0, APPENDED_MAX) };
  }

  /** Drops the kept entries below `size`, hashed now. */
  #dropHashed(size: number): void {
    const kept = this.#appended;
    if (!kept || size <= kept.from) return;
    if (size >= kept.from + kept.bytes.length) this.#appended = null;
    else this.#appended = { from: size, bytes: kept.bytes.slice(size - kept.from) };
  }

  /** Entries appended but not hashed into the tree yet. */
  unhashed(): number {
    return this.size() - this.#loadAccumulator().size;
  }

  size(): number {
    return this.#sql
      .exec<{ n: number }>("SELECT IFNULL(MAX(idx) + 1, ?) AS n FROM log_entries", this.history.prunedBelow())
      .one().n;
  }

  /**
   * Hashes the entries appended since the last call into the tree; returns
   * the head. The hashing is synchronous (one block of work, no other call
   * in between): called right after the transaction that appended the
   * entries, its nodes are committed with them.
   */
  async sync(): Promise<LogHead> {
    return this.hashPending();
  }

  /** sync(), synchronously; with `keep`, what it hashes is kept for the tiles stored next (#tiles). */
  hashPending(keep = false): LogHead {
    return this.#hash(keep, this.size());
  }

  /**
   * Hashes at most `limit` of the entries appended since the last hashing,
   * and none past `upTo` (a size seen earlier); returns how many of those
   * remain. A round hashes its log this way, a bounded slice per turn
   * (publisher.ts), so the checkpoint's own hashing (publish) has little left
   * and no single block of work grows with the entries of a round.
   */
  hashSome(limit: number, upTo: number = this.size()): number {
    const from = this.#loadAccumulator().size;
    const head = this.#hash(false, Math.min(upTo, from + limit));
    return Math.max(0, upTo - head.size);
  }

  /**
   * Hashes the entries appended up to `upTo`, HASH_SLICE of them at a time,
   * waiting for the object's next turn (`next`, turns.ts) between two slices.
   */
  async hashInTurns(next: () => Promise<void>, upTo: number = this.size()): Promise<void> {
    while (this.hashSome(HASH_SLICE, upTo) > 0) await next();
  }

  #hash(keep: boolean, target: number): LogHead {
    const accumulator = this.#loadAccumulator();
    this.#recent = { nodes: new Map(), entries: { from: accumulator.size, bytes: [] } };
    keep &&= target - accumulator.size <= RECENT_MAX;
    try {
      const appended = this.#appended;
      // What this hashing does not reach stays kept for the next one.
      this.#dropHashed(target);
      while (accumulator.size < target) {
        const start = accumulator.size;
        const end = Math.min(target, start + HASH_READ_ROWS);
        const entries =
          (appended && kept(appended.from, appended.bytes, start, end)) ??
          this.#sql
            .exec<{ entry: ArrayBuffer }>(
              `SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx ${sqlLimit(HASH_READ_ROWS)}`,
              start,
              end,
            )
            .toArray()
            .map((row) => new Uint8Array(row.entry));
        // Entries below the hashed size may be pruned, never those above it: a gap is corrupt storage. Fail
        // (the alarm retries, the status shows it) rather than hash the wrong tree or loop without progress.
        if (entries.length !== end - start)
          throw new Error(`log entries from index ${start} are missing; cannot hash up to ${target}`);
        const nodes: Array<[level: number, index: number, hex: string]> = [];
        for (const entry of entries) {
          if (keep) this.#recent.entries.bytes.push(entry);
          for (const node of accumulator.appendSync(leafHashSync(entry))) {
            nodes.push([node.level, node.index, toHex(node.hash)]);
            if (keep && node.level % TILE_HEIGHT === 0) this.#keepNode(node.level, node.index, node.hash);
          }
        }
        for (const run of jsonRuns(nodes, (node) => node)) {
          this.#sql.exec(
            `INSERT OR REPLACE INTO log_nodes (level, idx, hash)
             SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each(?) WHERE true ORDER BY key`,
            jsonArray(run.rows ?? []),
          );
        }
        this.#kv.put(HASHED, accumulator.size);
      }
    } catch (error) {
      // Resume from what is stored (HASHED), not from a half-advanced accumulator.
      this.#accumulator = null;
      this.#recent = emptyRecent();
      throw error;
    }
    return { origin: this.origin, size: accumulator.size, rootHash: toHex(accumulator.rootSync()) };
  }

  #keepNode(level: number, index: number, hash: Uint8Array): void {
    const kept = this.#recent.nodes.get(level);
    if (!kept) this.#recent.nodes.set(level, { from: index, hashes: [hash] });
    else if (kept.from + kept.hashes.length === index) kept.hashes.push(hash);
  }

  /**
   * Brings the served log up to date: the tiles and entry bundles the tree
   * gained, then the signed checkpoint. Returns the head the checkpoint signs.
   */
  async publish(bucket: RepositoryBucket): Promise<LogHead> {
    const head = this.hashPending(true);
    const from = this.checkpoint.publishedSize();
    if (from === head.size && head.size > 0) {
      this.#recent = emptyRecent();
      return head;
    }
    await this.#tiles(async (recent) => {
      // Full tiles stored ahead (storeFullTiles) are not stored again; partial ones always are.
      const ahead = this.#kv.get<number>(FULL_TILES) ?? 0;
      await this.#storeTiles(
        bucket,
        newTiles(from, head.size).filter(
          (t) => t.width < TILE_WIDTH || tileWidth(t.level, t.index, ahead) < TILE_WIDTH,
        ),
        recent,
      );
    });
    await this.checkpoint.sign(bucket, head.size, head.rootHash);
    return head;
  }

  /**
   * Hashes the entries appended since the last call (up to tree size `upTo`)
   * into the tree and stores the full tiles (and entry bundles) they
   * complete, ahead of the checkpoint that will cover them: a full tile never
   * changes, and no checkpoint points at it yet. A deferred import batch
   * (import-hold.ts) calls this, and a publish round a budget's worth per
   * step (aheadWithin, publisher.ts), so the round's checkpoint has only its
   * partial tiles left to store, within one invocation's budget.
   */
  async storeFullTiles(bucket: RepositoryBucket, upTo: number = this.size()): Promise<void> {
    const size = Math.min(upTo, this.#hash(true, upTo).size);
    await this.#tiles(async (recent) => {
      const from = this.#aheadFrom();
      if (size <= from) return;
      await this.#storeTiles(bucket, fullTiles(from, size), recent);
      // Only after every tile below it is stored; never lowered by a slower, smaller call.
      this.#kv.put(FULL_TILES, Math.max(this.#kv.get<number>(FULL_TILES) ?? 0, size));
      this.prune();
    });
  }

  /**
   * Prunes (log-history.ts) the oldest entries whose level-0 tiles and entry
   * bundles are all in R2, at most PRUNE_ENTRIES: after full tiles are stored
   * ahead, after a round's timestamp is out (publisher.ts, so no timestamp
   * waits for it), and on each refresh (the cron's tick). Returns how many
   * it pruned.
   */
  prune(): number {
    return this.history.prune(this.#aheadFrom(), this.size());
  }

  /**
   * How far storeFullTiles may go in at most `writes` R2 writes, from the
   * full tiles stored so far to the entries appended (fullTilesWithin in
   * src/log/tiles.ts: at least one tile, so a caller always progresses).
   */
  aheadWithin(writes: number): ReturnType<typeof fullTilesWithin> {
    return fullTilesWithin(this.#aheadFrom(), this.size(), writes);
  }

  /** The tree size from which full tiles are not yet stored: those stored ahead, or the checkpoint's. */
  #aheadFrom(): number {
    return Math.max(this.#kv.get<number>(FULL_TILES) ?? 0, this.checkpoint.publishedSize());
  }

  /**
   * Runs `store` after the tile storing before it, with what the hashing
   * just before this call kept (recent), and drops that afterwards.
   */
  async #tiles(store: (recent: Recent) => Promise<void>): Promise<void> {
    const recent = this.#recent;
    const run = this.#tiling.then(() => store(recent));
    this.#tiling = run.catch(() => undefined);
    try {
      await run;
    } finally {
      if (this.#recent === recent) this.#recent = emptyRecent();
    }
  }

  /** Stores tiles, and the entry bundle of each level-0 tile, several at once (independent files). */
  async #storeTiles(bucket: RepositoryBucket, tiles: readonly Tile[], recent: Recent): Promise<void> {
    await withWriteWindow(TILE_WRITES_IN_FLIGHT, async (writes) => {
      for (const tile of tiles) {
        await writes.add(async () => {
          const data = await tileData(tile, (level, start, end) =>
            this.#nodes(recent, level * TILE_HEIGHT, start, end),
          );
          await bucket.putLog(tilePath(tile), data, tile.width === TILE_WIDTH);
        });
        if (tile.level === 0) {
          const { start, end } = tileNodes(tile);
          const entries =
            kept(recent.entries.from, recent.entries.bytes, start, end) ??
            this.#sql
              .exec<{ entry: ArrayBuffer }>(
                "SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                start,
                end,
              )
              .toArray()
              .map((r) => new Uint8Array(r.entry));
          await writes.add(() =>
            bucket.putLog(entriesPath(tile.index, tile.width), encodeEntryBundle(entries), tile.width === TILE_WIDTH),
          );
        }
      }
    });
  }

  /** The stored nodes [start, end) at tree level `level`: from the latest hashing if it kept them, else from SQLite. */
  #nodes(recent: Recent, level: number, start: number, end: number): Uint8Array[] {
    const atLevel = recent.nodes.get(level);
    const inMemory = atLevel && kept(atLevel.from, atLevel.hashes, start, end);
    if (inMemory) return inMemory;
    return this.#sql
      .exec<{ hash: ArrayBuffer }>(
        "SELECT hash FROM log_nodes WHERE level = +? AND idx >= ? AND idx < ? ORDER BY idx",
        level,
        start,
        end,
      )
      .toArray()
      .map((r) => new Uint8Array(r.hash));
  }

  /**
   * The tree's right edge: kept in memory, or read from the stored subtrees
   * of the hashed size, also when that size is not the one kept (a
   * transaction that hashed was rolled back, or another reader of the same
   * storage hashed: the tests' logs beside the object's).
   */
  #loadAccumulator(): MerkleAccumulator {
    const size = this.#kv.get<number>(HASHED) ?? 0;
    if (this.#accumulator?.size !== size) {
      const source = storedSubtrees(this.#sql);
      const peaks =
        size === 0 ? [] : subtreesOfRange(0, size).map((id) => source.subtree(id.level, id.index) as Uint8Array);
      this.#accumulator = new MerkleAccumulator(size, peaks);
    }
    return this.#accumulator;
  }
}

/** Nodes at tile levels and entries' bytes that one hashing computed (TransparencyLog's recent). */
interface Recent {
  nodes: Map<number, { from: number; hashes: Uint8Array[] }>;
  entries: { from: number; bytes: Uint8Array[] };
}

const emptyRecent = (): Recent => ({ nodes: new Map(), entries: { from: 0, bytes: [] } });

/** items[start - from … end - from), if `items` (from index `from`) hold all of [start, end); else null. */
function kept<T>(from: number, items: readonly T[], start: number, end: number): T[] | null {
  return start >= from && end <= from + items.length ? items.slice(start - from, end - from) : null;
}
