/**
 * A monitor that follows one repository's transparency log and checks that
 * the log stays one append-only history, and what that history says.
 *
 * Each run:
 *  1. fetches the checkpoint and verifies the log's signature (and origin);
 *  2. checks it against the last checkpoint the monitor verified:
 *     - same size: the roots must be equal;
 *     - larger: the consistency proof from the server must verify, AND the
 *       monitor recomputes the new root itself: from the compact range
 *       ("peaks") of the tree it verified last time, plus the leaf hashes of
 *       the new entries it downloads from the entry bundles. A root that only
 *       the server's proof vouches for is not enough;
 *     - smaller: a checkpoint it saw before must have the same root, and the
 *       older tree must be a prefix of the newer one (an edge cache may serve
 *       a checkpoint a few seconds old; a log may not forget entries);
 *  3. checks the served hash tiles against the entries and the root;
 *  4. decodes every new entry and reports it; remembers, per target path, the
 *     digests it was added with, and flags a path whose digest changes;
 *  5. counts the bytes it downloaded.
 *
 * The first run has nothing to be consistent with: it downloads every entry
 * and recomputes the whole tree (trust on first use of the checkpoint, but not
 * of the entries). State is a small JSON document (no entries are kept: the
 * compact range is O(log n) hashes), so a monitor's storage does not grow with
 * the log except for the per-path digests.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { decodeEntry, type LogEntry, TARGET_ENTRY_TYPES, type TargetLogEntry } from "../../src/log/entry.ts";
import { type Hash, leafHash, MerkleAccumulator, rootHash, verifyConsistency } from "../../src/log/merkle.ts";
import { encodeTile, subtreeHashesFromTiles, type Tile, tilePath, TILE_WIDTH } from "../../src/log/tiles.ts";
import { fromHex, toHex } from "../../src/lib/bytes.ts";
import type { Hashes } from "../../src/tuf/targets.ts";
import {
  type DownloadStats,
  emptyStats,
  type EntryBundle,
  type FetchLike,
  LogClient,
  LogHttpError,
  logVerifier,
  LogVerificationError,
  type VerifiedCheckpoint,
} from "./log-client.ts";

export const MONITOR_STATE_VERSION = 1;
/** Earlier verified checkpoints kept for split-view checks against a stale one. */
const HISTORY_LIMIT = 1000;

export interface CheckpointRef {
  size: number;
  /** Lower-case hex. */
  rootHash: string;
  /** The signed note, when the monitor kept it (evidence: it carries the log's signature). */
  note?: string;
}

export interface IdentifierRecord {
  /** The distinct digests target.add entries gave this path, with the index of the first entry that gave each. */
  digests: Array<{ hashes: Hashes; index: number }>;
  lastType: LogEntry["type"];
  lastIndex: number;
}

/** Two checkpoints signed by the log's key that cannot both describe one append-only log. */
export interface SplitViewEvidence {
  foundAt: string;
  reason: SplitViewReason;
  earlier: CheckpointRef;
  later: CheckpointRef;
}

export interface MonitorState {
  version: typeof MONITOR_STATE_VERSION;
  repo: string;
  origin: string;
  /** The log's verifier key, pinned on the first run. */
  verifierKey: string;
  /** The last checkpoint whose tree the monitor verified. */
  checkpoint: Required<CheckpointRef>;
  /** Hashes (hex) of the complete subtrees that make up that tree, largest first (its compact range). */
  peaks: string[];
  /** Leaf hashes (hex) of the entries of its last, partial, entry bundle: [⌊size/256⌋·256, size). */
  tail: string[];
  /** Earlier verified checkpoints, oldest first. */
  history: CheckpointRef[];
  /** Target path → what the log said about it. */
  identifiers: Record<string, IdentifierRecord>;
  /** Every split view found so far (the signed notes prove it to anyone holding the verifier key). */
  evidence: SplitViewEvidence[];
  updatedAt: string;
}

export type SplitViewReason =
  /** Two checkpoints of the same size with different roots. */
  | "same_size_different_root"
  /** The consistency proof between the last verified checkpoint and this one does not verify. */
  | "consistency_proof_failed"
  /** A checkpoint of a size seen before with another root. */
  | "inconsistent_with_history";

export type MonitorFinding =
  | {
      /** The served checkpoint is malformed, of another origin, or not signed by the log's key. */
      type: "invalid_checkpoint";
      severity: "alert";
      detail: string;
    }
  | {
      /** Split view: the log showed two histories (or rewrote one). */
      type: "split_view";
      severity: "alert";
      reason: SplitViewReason;
      detail: string;
      earlier: CheckpointRef;
      later: CheckpointRef;
    }
  | {
      /** The entries served do not make the tree the checkpoint signs, or an entry seen before changed. */
      type: "entries_mismatch";
      severity: "alert";
      reason: "recomputed_root_differs" | "earlier_entry_changed" | "entries_unavailable";
      detail: string;
      index?: number;
    }
  | {
      /** A hash tile disagrees with the entries or with the signed root (proofs built from it would be wrong). */
      type: "tile_mismatch";
      severity: "alert";
      tile: string;
      detail: string;
    }
  | {
      /** A target path logged with a digest other than the one it was added with before. */
      type: "digest_changed";
      severity: "alert";
      path: string;
      index: number;
      entryType: LogEntry["type"];
      hashes: Hashes;
      previous: { hashes: Hashes; index: number };
      detail: string;
    }
  | {
      /** An entry that is not a valid tuf-edge log entry of this repository. */
      type: "invalid_entry";
      severity: "alert";
      index: number;
      detail: string;
    }
  | {
      /** The server did not give a consistency proof (the recomputation still checked the tree). */
      type: "proof_unavailable";
      severity: "notice";
      detail: string;
    }
  | {
      /** An older checkpoint than the last one verified, consistent with it (a cached copy, say). */
      type: "stale_checkpoint";
      severity: "notice";
      detail: string;
      size: number;
      latestSize: number;
    };

export type FindingType = MonitorFinding["type"];

export interface ReportedEntry {
  index: number;
  /** Null if the bytes are not a valid entry (see the invalid_entry finding). */
  entry: LogEntry | null;
}

export type CheckStatus = "verified" | "failed" | "unavailable" | "not_needed" | "skipped";

export interface MonitorReport {
  /** No finding of severity "alert". */
  ok: boolean;
  repo: string;
  origin: string;
  /** The last verified checkpoint before this run (null on the first run). */
  previous: { size: number; rootHash: string } | null;
  /** The checkpoint served this run, if its signature verified. */
  checkpoint: { size: number; rootHash: string } | null;
  /** Whether the state moved to the served checkpoint. */
  advanced: boolean;
  /** Entries new since the previous checkpoint, in log order. */
  entries: ReportedEntry[];
  checks: {
    /** The server's consistency proof from the previous checkpoint. */
    consistencyProof: CheckStatus;
    /** The new root recomputed from the previous compact range and the downloaded entries. */
    recomputedRoot: CheckStatus;
    /** Level-0 tiles against the entries, and the root from the tiles. */
    tiles: CheckStatus;
  };
  findings: MonitorFinding[];
  /** What this run downloaded (response bodies). */
  stats: DownloadStats;
  durationMs: number;
}

export interface MonitorOptions {
  baseUrl: string;
  repo: string;
  /** The log's verifier key; required on the first run, then pinned in the state (a different one is refused). */
  verifierKey?: string;
  /** The expected checkpoint origin (default: the pinned one, else the verifier key's name). */
  origin?: string;
  fetch?: FetchLike;
  /** Check the served hash tiles too (default true; costs ~32 bytes per new entry plus a few upper tiles). */
  checkTiles?: boolean;
  now?: () => Date;
}

export interface MonitorResult {
  report: MonitorReport;
  /** The state to keep for the next run (null only if a first run verified nothing). */
  state: MonitorState | null;
}

function isTargetEntry(entry: LogEntry): entry is TargetLogEntry {
  return (TARGET_ENTRY_TYPES as readonly string[]).includes(entry.type);
}

const cpRef = (cp: VerifiedCheckpoint): Required<CheckpointRef> => ({
  size: cp.size,
  rootHash: cp.rootHashHex,
  note: cp.note,
});

function sameDigests(a: Hashes, b: Hashes): boolean {
  let common = 0;
  for (const algorithm of ["sha256", "sha512"] as const) {
    if (a[algorithm] === undefined || b[algorithm] === undefined) continue;
    if (a[algorithm] !== b[algorithm]) return false;
    common += 1;
  }
  return common > 0;
}

function describeHashes(h: Hashes): string {
  return Object.entries(h)
    .map(([a, v]) => `${a}:${v}`)
    .join(", ");
}

/** Runs the monitor once from `state` (null: the first run). Does not write anything. */
export async function monitorLog(state: MonitorState | null, options: MonitorOptions): Promise<MonitorResult> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  if (state) {
    if (state.version !== MONITOR_STATE_VERSION)
      throw new Error(`monitor state version ${String(state.version)} is not ${MONITOR_STATE_VERSION}`);
    if (state.repo !== options.repo)
      throw new Error(`the monitor state is for repository "${state.repo}", not "${options.repo}"`);
    if (options.verifierKey !== undefined && options.verifierKey.trim() !== state.verifierKey) {
      throw new Error(
        `the monitor state pins another log verifier key (${state.verifierKey}); a log key change needs a new state file`,
      );
    }
  }
  const verifierKey = state?.verifierKey ?? options.verifierKey?.trim();
  if (!verifierKey) throw new Error("the first run needs the log's verifier key");
  const verifier = await logVerifier(verifierKey);
  const origin = options.origin ?? state?.origin ?? verifier.name;
  const stats = emptyStats();
  const client = new LogClient({
    baseUrl: options.baseUrl,
    repo: options.repo,
    stats,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const findings: MonitorFinding[] = [];
  const entries: ReportedEntry[] = [];
  const checks: MonitorReport["checks"] = {
    consistencyProof: "not_needed",
    recomputedRoot: "not_needed",
    tiles: "not_needed",
  };
  const previous = state ? { size: state.checkpoint.size, rootHash: state.checkpoint.rootHash } : null;
  let served: VerifiedCheckpoint | null = null;
  let nextState: MonitorState | null = state;
  let advanced = false;

  const finish = (): MonitorResult => {
    const splitViews = findings.filter(
      (f): f is Extract<MonitorFinding, { type: "split_view" }> => f.type === "split_view",
    );
    if (splitViews.length > 0 && nextState) {
      const known = new Set(nextState.evidence.map((e) => `${e.earlier.rootHash}/${e.later.rootHash}`));
      const fresh = splitViews
        .filter((f) => !known.has(`${f.earlier.rootHash}/${f.later.rootHash}`))
        .map((f) => ({ foundAt: now().toISOString(), reason: f.reason, earlier: f.earlier, later: f.later }));
      if (fresh.length > 0)
        nextState = { ...nextState, evidence: [...nextState.evidence, ...fresh], updatedAt: now().toISOString() };
    }
    const report: MonitorReport = {
      ok: !findings.some((f) => f.severity === "alert"),
      repo: options.repo,
      origin,
      previous,
      checkpoint: served ? { size: served.size, rootHash: served.rootHashHex } : null,
      advanced,
      entries,
      checks,
      findings,
      stats,
      durationMs: Date.now() - started,
    };
    return { report, state: nextState };
  };

  // 1. The checkpoint, signed by the log's key.
  try {
    served = await client.checkpoint(verifier, origin);
  } catch (error) {
    if (!(error instanceof LogVerificationError)) throw error;
    findings.push({ type: "invalid_checkpoint", severity: "alert", detail: error.message });
    return finish();
  }
  const cp = served;

  // 2. Against what the monitor verified before.
  if (state) {
    const last = state.checkpoint;
    if (cp.size === last.size) {
      if (cp.rootHashHex !== last.rootHash) {
        findings.push({
          type: "split_view",
          severity: "alert",
          reason: "same_size_different_root",
          detail: `two checkpoints signed by ${origin} for ${cp.size} entries with different roots (${last.rootHash} verified earlier, ${cp.rootHashHex} now)`,
          earlier: last,
          later: cpRef(cp),
        });
      }
      return finish();
    }
    if (cp.size < last.size) {
      const seen = state.history.find((h) => h.size === cp.size);
      if (seen && seen.rootHash !== cp.rootHashHex) {
        findings.push({
          type: "split_view",
          severity: "alert",
          reason: "inconsistent_with_history",
          detail: `a checkpoint for ${cp.size} entries with root ${cp.rootHashHex}, but the monitor verified root ${seen.rootHash} for that size`,
          earlier: seen,
          later: cpRef(cp),
        });
        return finish();
      }
      try {
        // The empty tree is a prefix of every tree (and has no proof).
        const consistent =
          cp.size === 0 ||
          (await verifyConsistency(
            cp.size,
            last.size,
            (
              await client.consistencyProof(cp.size, last.size)
            ).proof,
            cp.rootHash,
            fromHex(last.rootHash),
          ));
        checks.consistencyProof = consistent ? "verified" : "failed";
      } catch (error) {
        if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
        checks.consistencyProof = "unavailable";
        findings.push({ type: "proof_unavailable", severity: "notice", detail: (error as Error).message });
      }
      if (checks.consistencyProof === "failed") {
        findings.push({
          type: "split_view",
          severity: "alert",
          reason: "consistency_proof_failed",
          detail: `the served checkpoint (${cp.size} entries, root ${cp.rootHashHex}) is not a prefix of the one verified earlier (${last.size} entries, root ${last.rootHash})`,
          earlier: cpRef(cp),
          later: last,
        });
      } else {
        findings.push({
          type: "stale_checkpoint",
          severity: "notice",
          detail: `the served checkpoint has ${cp.size} entries; ${last.size} were verified before`,
          size: cp.size,
          latestSize: last.size,
        });
      }
      return finish();
    }
    // Larger: the server's consistency proof, checked against both signed roots.
    if (last.size > 0) {
      try {
        const verified = await client.verifyConsistency({ size: last.size, rootHash: fromHex(last.rootHash) }, cp);
        checks.consistencyProof = verified ? "verified" : "failed";
      } catch (error) {
        if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
        checks.consistencyProof = "unavailable";
        findings.push({ type: "proof_unavailable", severity: "notice", detail: (error as Error).message });
      }
      if (checks.consistencyProof === "failed") {
        findings.push({
          type: "split_view",
          severity: "alert",
          reason: "consistency_proof_failed",
          detail: `the consistency proof from ${last.size} entries (root ${last.rootHash}) to ${cp.size} entries (root ${cp.rootHashHex}) does not verify: the log rewrote its history or shows different histories`,
          earlier: last,
          later: cpRef(cp),
        });
      }
    }
  }

  // 3. Recompute the new root from the verified compact range and the new entries.
  const from = state?.checkpoint.size ?? 0;
  let bundles: EntryBundle[];
  try {
    bundles = await client.entryBundles(from, cp.size, cp.size);
  } catch (error) {
    if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
    checks.recomputedRoot = "unavailable";
    findings.push({
      type: "entries_mismatch",
      severity: "alert",
      reason: "entries_unavailable",
      detail: `the entries the checkpoint (${cp.size} entries) signs cannot be downloaded: ${(error as Error).message}`,
    });
    return finish();
  }
  const leaves: Array<{ index: number; bytes: Uint8Array<ArrayBuffer>; leaf: Hash }> = [];
  for (const bundle of bundles) {
    for (const [i, bytes] of bundle.entries.entries())
      leaves.push({ index: bundle.start + i, bytes, leaf: await leafHash(bytes) });
  }
  const tailStart = Math.floor(from / TILE_WIDTH) * TILE_WIDTH;
  for (const { index, leaf } of leaves) {
    if (index >= from || !state) continue;
    const expected = state.tail[index - tailStart];
    if (expected !== toHex(leaf)) {
      findings.push({
        type: "entries_mismatch",
        severity: "alert",
        reason: "earlier_entry_changed",
        index,
        detail: `entry ${index}, verified in an earlier run, is served with other bytes now`,
      });
    }
  }
  const accumulator = new MerkleAccumulator(from, (state?.peaks ?? []).map(fromHex));
  for (const { index, leaf } of leaves) if (index >= from) await accumulator.append(leaf);
  const recomputed = toHex(await accumulator.root());
  checks.recomputedRoot = recomputed === cp.rootHashHex ? "verified" : "failed";
  if (checks.recomputedRoot === "failed") {
    findings.push({
      type: "entries_mismatch",
      severity: "alert",
      reason: "recomputed_root_differs",
      detail: `the ${from === 0 ? "" : `tree verified earlier (${from} entries) extended by the `}${cp.size - from} entries served hash${cp.size - from === 1 ? "es" : ""} to ${recomputed}, not to the signed root ${cp.rootHashHex}`,
    });
  }

  // 4. The hash tiles: level 0 against the entries, and the root from the tiles.
  if (options.checkTiles === false) checks.tiles = "skipped";
  else if (cp.size > 0) checks.tiles = await checkTiles(client, cp, bundles, leaves, findings);

  // 5. The new entries, decoded, and the digests per path.
  const identifiers: Record<string, IdentifierRecord> = structuredClone(state?.identifiers ?? {});
  for (const { index, bytes } of leaves) {
    if (index < from) continue;
    let entry: LogEntry;
    try {
      entry = decodeEntry(bytes);
    } catch (error) {
      entries.push({ index, entry: null });
      findings.push({ type: "invalid_entry", severity: "alert", index, detail: (error as Error).message });
      continue;
    }
    entries.push({ index, entry });
    if (entry.repository !== options.repo) {
      findings.push({
        type: "invalid_entry",
        severity: "alert",
        index,
        detail: `entry ${index} is about repository "${entry.repository}", not "${options.repo}"`,
      });
    }
    if (!isTargetEntry(entry)) {
      if ("path" in entry) {
        const record = identifiers[entry.path];
        if (record) Object.assign(record, { lastType: entry.type, lastIndex: index });
      }
      continue;
    }
    const record = identifiers[entry.path] ?? { digests: [], lastType: entry.type, lastIndex: index };
    identifiers[entry.path] = record;
    const conflict = record.digests.find((d) => !sameDigests(d.hashes, entry.hashes));
    if (conflict) {
      findings.push({
        type: "digest_changed",
        severity: "alert",
        path: entry.path,
        index,
        entryType: entry.type,
        hashes: entry.hashes,
        previous: conflict,
        detail: `"${entry.path}": entry ${index} (${entry.type}) has ${describeHashes(entry.hashes)}; entry ${conflict.index} added it with ${describeHashes(conflict.hashes)}`,
      });
    }
    if (entry.type === "target.add") {
      const same = record.digests.find((d) => sameDigests(d.hashes, entry.hashes));
      // The same file, perhaps with one more algorithm (a sha512 next to the sha256): remember the union.
      if (same) same.hashes = { ...same.hashes, ...entry.hashes };
      else record.digests.push({ hashes: entry.hashes, index });
    }
    record.lastType = entry.type;
    record.lastIndex = index;
  }

  // 6. Move on only to a tree the monitor itself recomputed, and that no proof contradicts.
  if (
    checks.recomputedRoot === "verified" &&
    checks.consistencyProof !== "failed" &&
    !findings.some((f) => f.type === "entries_mismatch")
  ) {
    const lastBundle = bundles.at(-1);
    const newTailStart = Math.floor(cp.size / TILE_WIDTH) * TILE_WIDTH;
    const tail =
      cp.size % TILE_WIDTH === 0 || !lastBundle
        ? []
        : leaves.filter((l) => l.index >= newTailStart).map((l) => toHex(l.leaf));
    const history = state
      ? [...state.history, { size: state.checkpoint.size, rootHash: state.checkpoint.rootHash }].slice(-HISTORY_LIMIT)
      : [];
    nextState = {
      version: MONITOR_STATE_VERSION,
      repo: options.repo,
      origin,
      verifierKey,
      checkpoint: cpRef(cp),
      peaks: accumulator.peaks().map(toHex),
      tail,
      history,
      identifiers,
      evidence: state?.evidence ?? [],
      updatedAt: now().toISOString(),
    };
    advanced = true;
  }
  return finish();
}

/** Level-0 tiles of the downloaded bundles against their entries' leaf hashes; then the signed root from the tiles. */
async function checkTiles(
  client: LogClient,
  cp: VerifiedCheckpoint,
  bundles: readonly EntryBundle[],
  leaves: ReadonlyArray<{ index: number; leaf: Hash }>,
  findings: MonitorFinding[],
): Promise<CheckStatus> {
  const fetched = new Map<string, Promise<Hash[]>>();
  const load = (tile: Tile): Promise<Hash[]> => {
    const path = tilePath(tile);
    let hashes = fetched.get(path);
    if (!hashes) {
      hashes = client.tile(tile);
      fetched.set(path, hashes);
    }
    return hashes;
  };
  const byIndex = new Map(leaves.map((l) => [l.index, l.leaf]));
  let failed = false;
  try {
    for (const bundle of bundles) {
      const hashes = await load(bundle.tile);
      const bad = hashes.findIndex((h, i) => toHex(h) !== toHex(byIndex.get(bundle.start + i) ?? new Uint8Array()));
      if (bad >= 0) {
        failed = true;
        findings.push({
          type: "tile_mismatch",
          severity: "alert",
          tile: tilePath(bundle.tile),
          detail: `hash ${bad} of ${tilePath(bundle.tile)} is not the leaf hash of entry ${bundle.start + bad}`,
        });
      }
    }
    const source = subtreeHashesFromTiles(cp.size, (tile) => load(tile).then(encodeTile));
    const fromTiles = toHex(await rootHash(source, cp.size));
    if (fromTiles !== cp.rootHashHex) {
      failed = true;
      findings.push({
        type: "tile_mismatch",
        severity: "alert",
        tile: "(root)",
        detail: `the tiles hash to ${fromTiles}, not to the signed root ${cp.rootHashHex}`,
      });
    }
  } catch (error) {
    if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
    findings.push({
      type: "tile_mismatch",
      severity: "alert",
      tile: "?",
      detail: `a tile the checkpoint needs cannot be downloaded: ${error.message}`,
    });
    return "unavailable";
  }
  return failed ? "failed" : "verified";
}

export async function loadMonitorState(file: string): Promise<MonitorState | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const state = JSON.parse(text) as MonitorState;
  if (state?.version !== MONITOR_STATE_VERSION || typeof state.checkpoint?.size !== "number") {
    throw new Error(`${file} is not a tuf-edge log monitor state (version ${MONITOR_STATE_VERSION})`);
  }
  return state;
}

/** Writes the state atomically (a temporary file renamed over the old one). */
export async function saveMonitorState(file: string, state: MonitorState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, file);
}

/** One run with the state kept in `stateFile` (created on the first run). */
export async function monitorLogFile(stateFile: string, options: MonitorOptions): Promise<MonitorResult> {
  const state = await loadMonitorState(stateFile);
  const result = await monitorLog(state, options);
  if (result.state && result.state !== state) await saveMonitorState(stateFile, result.state);
  return result;
}
