/**
 * Merkle trees of a transparency log, as RFC 6962 §2.1 and RFC 9162 §2.1
 * define them (SHA-256):
 *
 *   leafHash(d)    = SHA-256(0x00 || d)
 *   nodeHash(l, r) = SHA-256(0x01 || l || r)
 *   MTH({})        = SHA-256("")
 *   MTH(D[n])      = nodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Proofs are generated from a {@link SubtreeHashes}: anything that returns the
 * hash of a *complete* subtree (2**level leaves starting at index·2**level),
 * so that the I/O layer can serve it from stored tiles, SQLite rows or memory.
 *
 * Cost, for a tree of n leaves (log = ⌈log₂ n⌉):
 * - `inclusionProof`: at most log ranges, at most one of which is not a
 *   complete subtree, so at most 2·log `subtree` look-ups (issued in
 *   parallel) and fewer than log hashes;
 * - `consistencyProof`: likewise at most 2·log + 1 look-ups and 2·log hashes;
 * - `rootHash`: popcount(n) ≤ log look-ups and hashes;
 * - `verifyInclusion` / `verifyConsistency`: O(log) hashes, no look-ups;
 * - `MerkleAccumulator.append`: amortised 1 hash (at most log), O(log) memory.
 * For 1,000,000 entries that is at most 40 look-ups and 20–40 SHA-256 calls
 * per proof, independent of where the entry is.
 *
 * Sizes and indices are JavaScript numbers: exact up to 2**53, far beyond any
 * log this code will hold. No bitwise operators are used (they truncate to 32 bits).
 */
import { sha256 as sha256Sync } from "@noble/hashes/sha2.js";
import { sha256 } from "../lib/digest.ts";
import { bytesEqual, concatBytes } from "../lib/bytes.ts";
import { isSafeNonNegativeInteger, requireSize } from "./errors.ts";
import { LogError } from "./errors.ts";

/** SHA-256 output size. */
export const HASH_SIZE = 32;

export type Hash = Uint8Array<ArrayBuffer>;

/** MTH of the empty tree, SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** The leaf hash of an entry: SHA-256(0x00 || data) (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): Promise<Hash> {
  return sha256(concatBytes(LEAF_PREFIX, data));
}

/** An interior node: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Hash> {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/**
 * leafHash without a promise: for hashing many entries in one synchronous
 * block (MerkleAccumulator.appendSync), where a WebCrypto promise per hash
 * costs more than the hash and splits the work across turns.
 */
export function leafHashSync(data: Uint8Array): Hash {
  return sha256Sync.create().update(LEAF_PREFIX).update(data).digest() as Hash;
}

/** nodeHash without a promise (see leafHashSync). */
export function nodeHashSync(left: Uint8Array, right: Uint8Array): Hash {
  return sha256Sync.create().update(NODE_PREFIX).update(left).update(right).digest() as Hash;
}

/** MTH({}) = SHA-256(""). */
export function emptyRoot(): Promise<Hash> {
  return sha256(new Uint8Array(0));
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  if (!isSafeNonNegativeInteger(n) || n < 2) throw new LogError("invalid_argument", `no split point for ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** The largest power of two ≤ n (n ≥ 1). */
function largestPowerOfTwoAtMost(n: number): number {
  let k = 1;
  while (k * 2 <= n) k *= 2;
  return k;
}

/**
 * The hashes of complete subtrees of one log. `subtree(level, index)` is
 * MTH(D[index·2**level : (index+1)·2**level]); level 0 is the leaf hashes.
 * It is only asked for subtrees that lie wholly inside the tree the proof is
 * for. It may answer synchronously or with a promise, and should throw if it
 * does not have the node.
 */
export interface SubtreeHashes {
  subtree(level: number, index: number): Uint8Array | Promise<Uint8Array>;
}

/** A complete subtree: 2**level leaves starting at leaf index·2**level. */
export interface SubtreeId {
  level: number;
  index: number;
}

/** A range of leaves [start, end). */
export type LeafRange = readonly [start: number, end: number];

/**
 * The complete subtrees, left to right, whose leaves are exactly [start, end):
 * the binary decomposition of the range. The range must be one whose MTH is a
 * node of some tree over the log (as every range in a proof is): start a
 * multiple of the smallest power of two ≥ end − start. [0, n) always is.
 */
export function subtreesOfRange(start: number, end: number): SubtreeId[] {
  requireSize(start, "start");
  requireSize(end, "end");
  if (end <= start) throw new LogError("invalid_argument", `empty range [${start}, ${end})`);
  let span = 1;
  while (span < end - start) span *= 2;
  if (start % span !== 0) {
    throw new LogError("invalid_argument", `[${start}, ${end}) is not a subtree range (start not aligned to ${span})`);
  }
  const out: SubtreeId[] = [];
  let at = start;
  while (at < end) {
    const width = largestPowerOfTwoAtMost(end - at);
    out.push({ level: Math.log2(width), index: at / width });
    at += width;
  }
  return out;
}

async function lookup(source: SubtreeHashes, id: SubtreeId): Promise<Hash> {
  const hash = await source.subtree(id.level, id.index);
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw new LogError("invalid_argument", `subtree(${id.level}, ${id.index}) did not return a ${HASH_SIZE}-byte hash`);
  }
  return hash as Hash;
}

/** MTH of the complete subtrees given left to right: fold from the right (the RFC's split is always the leftmost). */
async function foldRight(hashes: readonly Hash[]): Promise<Hash> {
  let acc = hashes.at(-1);
  if (!acc) throw new LogError("invalid_argument", "no subtree hashes to fold");
  for (const hash of hashes.slice(0, -1).reverse()) acc = await nodeHash(hash, acc);
  return acc;
}

/** MTH(D[start:end]) for a subtree range (see {@link subtreesOfRange}), from the stored complete subtrees. */
export async function rangeHash(source: SubtreeHashes, start: number, end: number): Promise<Hash> {
  const ids = subtreesOfRange(start, end);
  return foldRight(await Promise.all(ids.map((id) => lookup(source, id))));
}

/** MTH(D[0:size]), the root hash of the tree of the first `size` entries. */
export async function rootHash(source: SubtreeHashes, size: number): Promise<Hash> {
  requireSize(size, "size");
  return size === 0 ? emptyRoot() : rangeHash(source, 0, size);
}

/** MTH of a list of leaf hashes, in O(n) hashes and O(log n) memory. */
export async function rootFromLeafHashes(leafHashes: Iterable<Uint8Array>): Promise<Hash> {
  const acc = new MerkleAccumulator();
  for (const hash of leafHashes) await acc.append(hash);
  return acc.root();
}

/**
 * The ranges whose MTHs make up the inclusion proof of leaf `index` in the
 * tree of `size` leaves, in proof order (leaf first). RFC 9162 §2.1.3.1:
 * PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k,
 *                 PATH(m − k, D[k:n]) : MTH(D[0:k]) otherwise.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  requireSize(index, "index");
  requireSize(size, "size");
  if (index >= size) throw new LogError("invalid_argument", `index ${index} is not in a tree of size ${size}`);
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      topDown.push([start + k, end]);
      end = start + k;
    } else {
      topDown.push([start, start + k]);
      start += k;
    }
  }
  return topDown.reverse();
}

/**
 * The ranges whose MTHs make up the consistency proof from the tree of size1
 * leaves to the tree of size2, in proof order. RFC 9162 §2.1.4.1:
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true);
 * SUBPROOF(m, D[m], true) = {}, SUBPROOF(m, D[m], false) = {MTH(D[m])};
 * for m < n: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) if m ≤ k,
 *            SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k]) otherwise.
 * The proof from size1 = size2 is empty; size1 = 0 has no proof (there is
 * nothing to be consistent with).
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  requireSize(size1, "size1");
  requireSize(size2, "size2");
  if (size1 === 0 || size1 > size2) {
    throw new LogError("invalid_argument", `no consistency proof from size ${size1} to size ${size2}`);
  }
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size2;
  let whole = true; // SUBPROOF's b: is [start, end) still a prefix of the old tree's own root?
  for (;;) {
    if (size1 === end) {
      if (!whole) topDown.push([start, end]);
      break;
    }
    const k = splitPoint(end - start);
    if (size1 <= start + k) {
      topDown.push([start + k, end]);
      end = start + k;
    } else {
      topDown.push([start, start + k]);
      start += k;
      whole = false;
    }
  }
  return topDown.reverse();
}

async function hashRanges(source: SubtreeHashes, ranges: readonly LeafRange[]): Promise<Hash[]> {
  // All look-ups are issued at once, so an I/O layer can batch or parallelise them.
  const ids = ranges.map(([start, end]) => subtreesOfRange(start, end));
  const fetched = await Promise.all(ids.map((list) => Promise.all(list.map((id) => lookup(source, id)))));
  return Promise.all(fetched.map(foldRight));
}

/** The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(source: SubtreeHashes, index: number, size: number): Promise<Hash[]> {
  return hashRanges(source, inclusionProofRanges(index, size));
}

/** The consistency proof from the tree of size1 leaves to the tree of size2 leaves (0 < size1 ≤ size2). */
export async function consistencyProof(source: SubtreeHashes, size1: number, size2: number): Promise<Hash[]> {
  return hashRanges(source, consistencyProofRanges(size1, size2));
}

function allHashes(values: readonly Uint8Array[]): boolean {
  return values.every((v) => v instanceof Uint8Array && v.length === HASH_SIZE);
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2). False for any proof that
 * does not verify, including out-of-range indices and hashes of the wrong length.
 */
export async function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  if (!isSafeNonNegativeInteger(index) || !isSafeNonNegativeInteger(size) || index >= size) return false;
  if (!allHashes([leaf, root, ...proof])) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn !== 0 && fn % 2 === 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2) between the tree of size1
 * leaves with root root1 and the tree of size2 leaves with root root2.
 * size1 = size2 verifies with an empty proof and equal roots; 0 = size1 < size2
 * never verifies (an empty tree proves nothing: take the first checkpoint on
 * trust, or check it with witnesses).
 */
export async function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): Promise<boolean> {
  if (!isSafeNonNegativeInteger(size1) || !isSafeNonNegativeInteger(size2) || size1 > size2) return false;
  if (!allHashes([root1, root2, ...proof])) return false;
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (size1 === 0 || proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  const [start] = path;
  if (!start) return false;
  let fr: Uint8Array = start;
  let sr: Uint8Array = start;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn !== 0 && fn % 2 === 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}

/** A complete subtree and its hash, as {@link MerkleAccumulator.append} reports them for storage. */
export interface StoredNode extends SubtreeId {
  hash: Hash;
}

/**
 * The right edge of a growing tree (a "compact range" over [0, size)): the
 * hashes of the complete subtrees of the binary decomposition of size, left
 * (largest) first. Appending a leaf costs amortised one hash and reports every
 * complete subtree it completes, so a store that keeps them can answer
 * {@link SubtreeHashes} look-ups directly; a store that keeps only tiles
 * keeps those of levels 0, 8, 16, … (see tiles.ts).
 */
export class MerkleAccumulator {
  #size: number;
  #peaks: Hash[];

  /** Resumes from a stored state: `peaks` are the hashes of `subtreesOfRange(0, size)`. */
  constructor(size = 0, peaks: readonly Uint8Array[] = []) {
    requireSize(size, "size");
    const expected = size === 0 ? 0 : subtreesOfRange(0, size).length;
    if (peaks.length !== expected || !allHashes(peaks)) {
      throw new LogError("invalid_argument", `a tree of size ${size} has ${expected} peaks of ${HASH_SIZE} bytes`);
    }
    this.#size = size;
    this.#peaks = peaks.map((p) => Uint8Array.from(p));
  }

  /** Resumes from the complete subtrees a store holds. */
  static async fromSubtrees(source: SubtreeHashes, size: number): Promise<MerkleAccumulator> {
    requireSize(size, "size");
    if (size === 0) return new MerkleAccumulator();
    const ids = subtreesOfRange(0, size);
    return new MerkleAccumulator(size, await Promise.all(ids.map((id) => lookup(source, id))));
  }

  get size(): number {
    return this.#size;
  }

  /** Copies of the peak hashes, left (largest subtree) first. */
  peaks(): Hash[] {
    return this.#peaks.map((p) => Uint8Array.from(p));
  }

  /**
   * Appends one leaf hash (not the entry: its leafHash). Returns the complete
   * subtrees this append completes, the leaf itself first, then each new
   * parent up the right edge.
   */
  async append(leaf: Uint8Array): Promise<StoredNode[]> {
    return this.appendSync(leaf);
  }

  /** append(), hashing synchronously (nodeHashSync): many leaves in one block of work. */
  appendSync(leaf: Uint8Array): StoredNode[] {
    if (!allHashes([leaf])) throw new LogError("invalid_argument", `a leaf hash is ${HASH_SIZE} bytes`);
    let hash: Hash = Uint8Array.from(leaf);
    let level = 0;
    let index = this.#size;
    const completed: StoredNode[] = [{ level, index, hash }];
    while (index % 2 === 1) {
      const peak = this.#peaks.pop();
      if (!peak) throw new LogError("invalid_argument", "the compact range lost a peak");
      hash = nodeHashSync(peak, hash);
      level += 1;
      index = (index - 1) / 2;
      completed.push({ level, index, hash });
    }
    this.#peaks.push(hash);
    this.#size += 1;
    return completed;
  }

  /** MTH of the tree so far. */
  async root(): Promise<Hash> {
    return this.rootSync();
  }

  /** root(), hashing synchronously (nodeHashSync). */
  rootSync(): Hash {
    let acc = this.#peaks.at(-1);
    if (!acc) return sha256Sync(new Uint8Array(0)) as Hash;
    for (let i = this.#peaks.length - 2; i >= 0; i--) acc = nodeHashSync(this.#peaks[i] as Hash, acc);
    return acc;
  }
}

/**
 * A whole tree in memory: every complete subtree hash, 2n hashes for n
 * leaves. For tests and small logs; a Durable Object keeps the same nodes in
 * SQLite or as tiles instead.
 */
export class MemoryTree implements SubtreeHashes {
  readonly #levels: Hash[][] = [];
  readonly #edge = new MerkleAccumulator();

  get size(): number {
    return this.#edge.size;
  }

  /** Appends an entry (hashing it as a leaf) and returns its index. */
  async appendEntry(data: Uint8Array): Promise<number> {
    return this.appendLeafHash(await leafHash(data));
  }

  /** Appends a leaf hash and returns its index. */
  async appendLeafHash(hash: Uint8Array): Promise<number> {
    const index = this.size;
    for (const node of await this.#edge.append(hash)) {
      const level = this.#levels[node.level] ?? [];
      this.#levels[node.level] = level;
      level[node.index] = node.hash;
    }
    return index;
  }

  subtree(level: number, index: number): Hash {
    const hash = this.#levels[level]?.[index];
    if (hash === undefined) throw new LogError("invalid_argument", `no complete subtree (${level}, ${index}) yet`);
    return hash;
  }

  async root(size = this.size): Promise<Hash> {
    this.#within(size);
    return rootHash(this, size);
  }

  async inclusionProof(index: number, size = this.size): Promise<Hash[]> {
    this.#within(size);
    return inclusionProof(this, index, size);
  }

  async consistencyProof(size1: number, size2 = this.size): Promise<Hash[]> {
    this.#within(size2);
    return consistencyProof(this, size1, size2);
  }

  #within(size: number): void {
    if (size > this.size) throw new LogError("invalid_argument", `the tree has only ${this.size} leaves, not ${size}`);
  }
}
