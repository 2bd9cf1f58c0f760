/**
 * Inclusion proofs from the object's side of the transparency log, for trees
 * a checkpoint signed (log-checkpoint.ts): an entry still in SQLite is proved
 * from its row and the stored subtree hashes (log_nodes); a pruned one
 * (log-history.ts) from the tiles and entry bundle in R2, as the Worker
 * proves it (src/log/tile-proofs.ts).
 */
import { toHex } from "../src/lib/bytes.ts";
import { inclusionProof, leafHash, rootHash, type SubtreeHashes } from "../src/log/merkle.ts";
import { type InclusionProof, type PublishedTiles, publishedTiles } from "../src/log/tile-proofs.ts";
import { failure, type Failure } from "../src/repository-api.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { LogCheckpoint } from "./log-checkpoint.ts";
import type { LogHistory } from "./log-history.ts";

export type { InclusionProof } from "../src/log/tile-proofs.ts";

/** What entry a proof is asked for: by index, or the latest about a path; in the tree of `size` (default: the published size). */
export interface ProofQuery {
  index?: number;
  path?: string;
  size?: number;
}

/** The complete subtrees' hashes the log stored as it hashed its entries (log_nodes). */
export function storedSubtrees(sql: SqlStorage): SubtreeHashes {
  return {
    subtree: (level, index) => {
      const row = sql
        .exec<{ hash: ArrayBuffer }>("SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", level, index)
        .one();
      return new Uint8Array(row.hash);
    },
  };
}

export class LogProofs {
  readonly #sql: SqlStorage;
  readonly #history: LogHistory;
  readonly #checkpoint: LogCheckpoint;

  constructor(deps: { sql: SqlStorage; history: LogHistory; checkpoint: LogCheckpoint }) {
    this.#sql = deps.sql;
    this.#history = deps.history;
    this.#checkpoint = deps.checkpoint;
  }

  /** The proof `query` asks for, or a 404 naming what the published log does not have. */
  async prove(query: ProofQuery, bucket: RepositoryBucket): Promise<{ ok: true; proof: InclusionProof } | Failure> {
    const published = this.#checkpoint.publishedSize();
    const size = query.size ?? published;
    if (size < 1 || size > published)
      return failure(404, "not_found", `the log's published size is ${published}; no tree of size ${size}`);
    const index = query.path !== undefined ? this.#history.latestIndexFor(query.path, size) : (query.index ?? -1);
    if (index === null)
      return failure(404, "not_found", `no log entry about "${query.path}" in the first ${size} entries`);
    if (index < 0 || index >= size) return failure(404, "not_found", `no entry ${index} in a tree of size ${size}`);
    return { ok: true, proof: await this.#inclusion(index, size, bucket) };
  }

  /** Entry `index` in the tree of `size`; requires 0 <= index < size <= the published size. */
  async #inclusion(index: number, size: number, bucket: RepositoryBucket): Promise<InclusionProof> {
    if (index < this.#history.prunedBelow()) return this.#publishedTiles(bucket).inclusion(index, size);
    const row = this.#sql.exec<{ entry: ArrayBuffer }>("SELECT entry FROM log_entries WHERE idx = ?", index).one();
    const entry = new Uint8Array(row.entry);
    const source = storedSubtrees(this.#sql);
    return {
      index,
      size,
      leafHash: toHex(await leafHash(entry)),
      entry: new TextDecoder().decode(entry),
      proof: (await inclusionProof(source, index, size)).map(toHex),
      rootHash: toHex(await rootHash(source, size)),
    };
  }

  /** The log as its last checkpoint publishes it, read from R2. */
  #publishedTiles(bucket: RepositoryBucket): PublishedTiles {
    const note = this.#checkpoint.note();
    if (!note) throw new Error("the log has pruned entries but no checkpoint");
    return publishedTiles(note, async (path) => {
      const file = await bucket.getLog(path);
      return file ? new Uint8Array(await file.arrayBuffer()) : null;
    });
  }
}
