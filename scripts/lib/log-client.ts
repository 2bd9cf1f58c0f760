/**
 * A client for a tuf-edge repository's transparency log, as any outsider
 * (auditor, monitor, package consumer) sees it over HTTP:
 *
 *   GET /{repo}/log/checkpoint                   signed checkpoint (C2SP tlog-checkpoint)
 *   GET /{repo}/log/tile/{L}/{N}[.p/{W}]         hash tiles (C2SP tlog-tiles)
 *   GET /{repo}/log/tile/entries/{N}[.p/{W}]     entry bundles
 *   GET /{repo}/log/proof/inclusion?index=|path=[&size=]
 *   GET /{repo}/log/proof/consistency?from=&to=
 *
 * Nothing the server says is trusted: checkpoints are opened with the log's
 * verifier key (published as the TUF target "tuf-edge/log-verifier-key.txt"),
 * hashes in proofs are checked against a verified checkpoint's root, and leaf
 * hashes are recomputed from the entry bytes. Every response body is counted
 * ({@link DownloadStats}), so a monitor can say what verification cost.
 *
 * Uses only fetch and WebCrypto. A target's inclusion, and the log's key as
 * TUF delivers it, are in log-target.ts.
 */
import { openCheckpoint, type Checkpoint, type OpenedCheckpoint } from "../../src/log/checkpoint.ts";
import { type Hash, HASH_SIZE, verifyConsistency } from "../../src/log/merkle.ts";
import { Ed25519NoteVerifier, type NoteVerifier } from "../../src/log/note.ts";
import {
  decodeEntryBundle,
  decodeTile,
  entriesPath,
  type Tile,
  tilePath,
  tileWidth,
  TILE_WIDTH,
} from "../../src/log/tiles.ts";
import { fromHex, toHex, utf8 } from "../../src/lib/bytes.ts";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** What a response was, for the byte counts. */
export type LogResource = "checkpoint" | "tile" | "entries" | "proof";

export interface DownloadStats {
  requests: number;
  /** Response body bytes (HTTP headers are not counted). */
  bytes: number;
  byKind: Record<LogResource, { requests: number; bytes: number }>;
}

export function emptyStats(): DownloadStats {
  const zero = () => ({ requests: 0, bytes: 0 });
  return { requests: 0, bytes: 0, byKind: { checkpoint: zero(), tile: zero(), entries: zero(), proof: zero() } };
}

/** The TUF target that publishes a repository's log verifier key. */
export const LOG_VERIFIER_KEY_TARGET = "tuf-edge/log-verifier-key.txt";

/** The server answered with an error status (or not at all). */
export class LogHttpError extends Error {
  readonly status: number;
  readonly url: string;
  readonly detail: string | undefined;
  constructor(url: string, status: number, detail?: string) {
    super(`GET ${url}: HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.name = "LogHttpError";
    this.url = url;
    this.status = status;
    this.detail = detail;
  }
}

export type LogVerificationCode =
  /** The checkpoint is malformed, has the wrong origin, or is not signed by the log's key. */
  | "invalid_checkpoint"
  /** The log has no entry about the path (in the tree the checkpoint signs). */
  | "not_in_log"
  /** The inclusion proof does not lead to the checkpoint's root. */
  | "inclusion_proof_failed"
  /** The consistency proof does not verify. */
  | "consistency_proof_failed"
  /** The server sent something that is not what was asked for (bad JSON, an entry about another path, …). */
  | "malformed_response";

/** The log did not verify: `code` says which check failed. */
export class LogVerificationError extends Error {
  readonly code: LogVerificationCode;
  constructor(code: LogVerificationCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LogVerificationError";
    this.code = code;
  }
}

/** A checkpoint whose signature by the log's key verified. */
export interface VerifiedCheckpoint {
  origin: string;
  size: number;
  rootHash: Hash;
  /** Lower-case hex of rootHash. */
  rootHashHex: string;
  /** The signed note exactly as served (evidence, if it ever conflicts with another). */
  note: string;
  checkpoint: Checkpoint;
  opened: OpenedCheckpoint;
}

/** An inclusion proof as served, decoded (not yet verified). */
export interface InclusionProofResponse {
  index: number;
  size: number;
  /** The entry bytes. */
  entry: Uint8Array<ArrayBuffer>;
  leafHash: Hash;
  proof: Hash[];
  rootHash: Hash;
}

export interface ConsistencyProofResponse {
  from: number;
  to: number;
  proof: Hash[];
  fromRoot: Hash;
  toRoot: Hash;
}

/** One entry bundle of a tree, with the index of its first entry. */
export interface EntryBundle {
  tile: Tile;
  /** Index (in the log) of entries[0]. */
  start: number;
  entries: Uint8Array<ArrayBuffer>[];
}

export interface LogClientOptions {
  baseUrl: string;
  repo: string;
  fetch?: FetchLike;
  /** Counts into this object (shared between clients) instead of a fresh one. */
  stats?: DownloadStats;
}

/** A verifier for the log's Ed25519 note key (`<name>+<key id>+<base64>`). */
export async function logVerifier(verifierKey: string | NoteVerifier): Promise<NoteVerifier> {
  if (typeof verifierKey !== "string") return verifierKey;
  try {
    return await Ed25519NoteVerifier.fromKey(verifierKey.trim());
  } catch (cause) {
    throw new LogVerificationError("invalid_checkpoint", `not a log verifier key: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Opens a signed checkpoint: the log's signature must verify and the origin
 * must be `origin` (default: the verifier key's name, which is the origin
 * tuf-edge signs its checkpoints under).
 */
export async function openLogCheckpoint(
  note: string,
  verifierKey: string | NoteVerifier,
  origin?: string,
): Promise<VerifiedCheckpoint> {
  const verifier = await logVerifier(verifierKey);
  const expected = origin ?? verifier.name;
  let opened: OpenedCheckpoint;
  try {
    opened = await openCheckpoint(note, verifier, { origin: expected });
  } catch (cause) {
    throw new LogVerificationError(
      "invalid_checkpoint",
      `the checkpoint does not verify with ${verifier.name}'s key: ${(cause as Error).message}`,
      { cause },
    );
  }
  const { checkpoint } = opened;
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: Uint8Array.from(checkpoint.rootHash),
    rootHashHex: toHex(checkpoint.rootHash),
    note,
    checkpoint,
    opened,
  };
}

function hash(value: unknown, what: string): Hash {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) {
    throw new LogVerificationError("malformed_response", `${what} is not ${HASH_SIZE} bytes of lower-case hex`);
  }
  return fromHex(value);
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new LogVerificationError("malformed_response", `${what} is not a non-negative integer`);
  }
  return value;
}

function hashList(value: unknown, what: string): Hash[] {
  if (!Array.isArray(value) || value.length > 128)
    throw new LogVerificationError("malformed_response", `${what} is not a list of hashes`);
  return value.map((h, i) => hash(h, `${what}[${i}]`));
}

export class LogClient {
  readonly logUrl: string;
  readonly stats: DownloadStats;
  readonly #fetch: FetchLike;

  constructor(options: LogClientOptions) {
    this.logUrl = `${options.baseUrl.replace(/\/+$/, "")}/${options.repo}/log`;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.stats = options.stats ?? emptyStats();
  }

  /** GETs `path` (relative to the log prefix) and counts its body. */
  async get(path: string, kind: LogResource): Promise<Uint8Array<ArrayBuffer>> {
    const url = `${this.logUrl}/${path}`;
    const response = await this.#fetch(url, { headers: { Accept: kind === "proof" ? "application/json" : "*/*" } });
    const body = new Uint8Array(await response.arrayBuffer());
    this.stats.requests += 1;
    this.stats.bytes += body.length;
    this.stats.byKind[kind].requests += 1;
    this.stats.byKind[kind].bytes += body.length;
    if (!response.ok) {
      let detail: string | undefined;
      try {
        const problem = JSON.parse(new TextDecoder().decode(body)) as { detail?: unknown };
        detail = typeof problem.detail === "string" ? problem.detail : undefined;
      } catch {
        detail = undefined;
      }
      throw new LogHttpError(url, response.status, detail);
    }
    return body;
  }

  async #json(path: string): Promise<Record<string, unknown>> {
    const body = await this.get(path, "proof");
    try {
      const value = JSON.parse(new TextDecoder().decode(body)) as unknown;
      if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new LogVerificationError("malformed_response", `${this.logUrl}/${path} is not a JSON object`);
  }

  /** The signed checkpoint as served (unverified). */
  async checkpointNote(): Promise<string> {
    return new TextDecoder("utf-8", { fatal: true }).decode(await this.get("checkpoint", "checkpoint"));
  }

  /** Fetches the checkpoint and opens it with the log's verifier key (throws `invalid_checkpoint`). */
  async checkpoint(verifierKey: string | NoteVerifier, origin?: string): Promise<VerifiedCheckpoint> {
    let note: string;
    try {
      note = await this.checkpointNote();
    } catch (cause) {
      if (cause instanceof TypeError)
        throw new LogVerificationError("invalid_checkpoint", "the checkpoint is not UTF-8", { cause });
      throw cause;
    }
    return openLogCheckpoint(note, verifierKey, origin);
  }

  /** A hash tile (`tile.width` hashes: 256 for a full tile). */
  async tile(tile: Tile): Promise<Hash[]> {
    const data = await this.get(tilePath(tile), "tile");
    try {
      return decodeTile(data, tile.width);
    } catch (cause) {
      throw new LogVerificationError("malformed_response", `${tilePath(tile)}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Entry bundle `index` (the entries of level-0 tile `index`), full or partial (`width` entries). */
  async entryBundle(index: number, width: number = TILE_WIDTH): Promise<Uint8Array<ArrayBuffer>[]> {
    const path = entriesPath(index, width);
    const data = await this.get(path, "entries");
    try {
      return decodeEntryBundle(data, width);
    } catch (cause) {
      throw new LogVerificationError("malformed_response", `${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * The entry bundles of the tree of `size` entries that hold entries
   * [start, end), whole (the first may begin before `start`), in order.
   */
  async entryBundles(start: number, end: number, size: number): Promise<EntryBundle[]> {
    if (!(0 <= start && start <= end && end <= size))
      throw new RangeError(`entries [${start}, ${end}) are not in a tree of size ${size}`);
    if (start === end) return [];
    const first = Math.floor(start / TILE_WIDTH);
    const last = Math.floor((end - 1) / TILE_WIDTH);
    const tiles: Tile[] = [];
    for (let index = first; index <= last; index++) tiles.push({ level: 0, index, width: tileWidth(0, index, size) });
    // A few requests at a time: a first run over a large log downloads many bundles.
    const out: EntryBundle[] = [];
    for (let i = 0; i < tiles.length; i += 8) {
      const batch = tiles.slice(i, i + 8);
      const loaded = await Promise.all(batch.map((t) => this.entryBundle(t.index, t.width)));
      for (const [j, tile] of batch.entries()) {
        const entries = loaded[j];
        if (!entries) throw new Error(`entry bundle ${tile.index} was not loaded`);
        out.push({ tile, start: tile.index * TILE_WIDTH, entries });
      }
    }
    return out;
  }

  /** Entries [start, end) of the tree of `size` entries (bytes, undecoded). */
  async entries(start: number, end: number, size: number): Promise<Uint8Array<ArrayBuffer>[]> {
    const bundles = await this.entryBundles(start, end, size);
    return bundles
      .flatMap((b) => b.entries.map((e, i) => ({ e, i: b.start + i })))
      .filter((x) => x.i >= start && x.i < end)
      .map((x) => x.e);
  }

  /** The inclusion proof of entry `index`, or of the latest entry about `path`, in the tree of `size` (default: published) entries. */
  async inclusionProof(query: { index: number } | { path: string }, size?: number): Promise<InclusionProofResponse> {
    const params = new URLSearchParams();
    if ("index" in query) params.set("index", String(query.index));
    else params.set("path", query.path);
    if (size !== undefined) params.set("size", String(size));
    const json = await this.#json(`proof/inclusion?${params}`);
    if (typeof json.entry !== "string")
      throw new LogVerificationError("malformed_response", "the inclusion proof has no entry");
    return {
      index: count(json.index, "index"),
      size: count(json.size, "size"),
      entry: utf8(json.entry),
      leafHash: hash(json.leafHash, "leafHash"),
      proof: hashList(json.proof, "proof"),
      rootHash: hash(json.rootHash, "rootHash"),
    };
  }

  /** The consistency proof between the trees of `from` and `to` entries (0 < from ≤ to). */
  async consistencyProof(from: number, to: number): Promise<ConsistencyProofResponse> {
    const json = await this.#json(`proof/consistency?from=${from}&to=${to}`);
    const response = {
      from: count(json.from, "from"),
      to: count(json.to, "to"),
      proof: hashList(json.proof, "proof"),
      fromRoot: hash(json.fromRoot, "fromRoot"),
      toRoot: hash(json.toRoot, "toRoot"),
    };
    if (response.from !== from || response.to !== to) {
      throw new LogVerificationError(
        "malformed_response",
        `asked for a proof from ${from} to ${to}, got ${response.from} to ${response.to}`,
      );
    }
    return response;
  }

  /** Fetches and verifies the consistency proof between two verified trees; false if it does not verify. */
  async verifyConsistency(
    older: { size: number; rootHash: Uint8Array },
    newer: { size: number; rootHash: Uint8Array },
  ): Promise<boolean> {
    if (older.size === newer.size) return toHex(older.rootHash) === toHex(newer.rootHash);
    if (older.size === 0) return true; // the empty tree is a prefix of every tree
    const { proof } = await this.consistencyProof(older.size, newer.size);
    return verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
  }
}
