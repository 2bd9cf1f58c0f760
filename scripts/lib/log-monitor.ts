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
import { type Hash, leafHash, MerkleAccumulator, verifyConsistency } from "../../src/log/merkle.ts";
import { TILE_WIDTH } from "../../src/log/tiles.ts";
import { fromHex, toHex } from "../../src/lib/bytes.ts";
import {
  emptyStats,
  type EntryBundle,
  type FetchLike,
  LogClient,
  LogHttpError,
  logVerifier,
  LogVerificationError,
  type VerifiedCheckpoint,
} from "./log-client.ts";
import { followEntries } from "./log-identifiers.ts";
import {
  type CheckpointRef,
  MONITOR_STATE_VERSION,
  type MonitorFinding,
  type MonitorReport,
  type MonitorState,
  type ReportedEntry,
} from "./log-monitor-report.ts";
import { checkTiles } from "./log-monitor-tiles.ts";

/** Earlier verified checkpoints kept for split-view checks against a stale one. */
const HISTORY_LIMIT = 1000;

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

/** What a run found so far: its checks and findings (phases add to them). */
interface Run {
  checks: MonitorReport["checks"];
  findings: MonitorFinding[];
}

/** The entries the monitor downloaded, from the start of the last verified tree's partial bundle. */
type Leaf = { index: number; bytes: Uint8Array<ArrayBuffer>; leaf: Hash };

const cpRef = (cp: VerifiedCheckpoint): Required<CheckpointRef> => ({
  size: cp.size,
  rootHash: cp.rootHashHex,
  note: cp.note,
});

/** Refuses a state that is not this monitor's (its version, repository or pinned key); the verifier key to use. */
function pinnedKey(state: MonitorState | null, options: MonitorOptions): string {
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
  return verifierKey;
}

/** Runs the monitor once from `state` (null: the first run). Does not write anything. */
export async function monitorLog(state: MonitorState | null, options: MonitorOptions): Promise<MonitorResult> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const verifierKey = pinnedKey(state, options);
  const verifier = await logVerifier(verifierKey);
  const origin = options.origin ?? state?.origin ?? verifier.name;
  const stats = emptyStats();
  const client = new LogClient({
    baseUrl: options.baseUrl,
    repo: options.repo,
    stats,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const run: Run = {
    checks: { consistencyProof: "not_needed", recomputedRoot: "not_needed", tiles: "not_needed" },
    findings: [],
  };
  let served: VerifiedCheckpoint | null = null;
  let entries: ReportedEntry[] = [];
  let nextState: MonitorState | null = state;
  let advanced = false;
  const finish = (): MonitorResult => {
    nextState = withEvidence(nextState, run.findings, now);
    const report: MonitorReport = {
      ok: !run.findings.some((f) => f.severity === "alert"),
      repo: options.repo,
      origin,
      previous: state ? { size: state.checkpoint.size, rootHash: state.checkpoint.rootHash } : null,
      checkpoint: served ? { size: served.size, rootHash: served.rootHashHex } : null,
      advanced,
      entries,
      checks: run.checks,
      findings: run.findings,
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
    run.findings.push({ type: "invalid_checkpoint", severity: "alert", detail: error.message });
    return finish();
  }
  const cp = served;

  // 2. Against what the monitor verified before.
  if (state && (await againstLast(client, state, cp, origin, run)) === "stop") return finish();

  // 3. Recompute the new root from the verified compact range and the new entries.
  const from = state?.checkpoint.size ?? 0;
  const tree = await recomputed(client, state, cp, run);
  if (!tree) return finish();
  const { bundles, leaves, accumulator } = tree;

  // 4. The hash tiles: level 0 against the entries, and the root from the tiles.
  if (options.checkTiles === false) run.checks.tiles = "skipped";
  else if (cp.size > 0) run.checks.tiles = await checkTiles(client, cp, bundles, leaves, run.findings);

  // 5. The new entries, decoded, and the digests per path.
  const followed = followEntries(leaves, from, options.repo, state?.identifiers ?? {}, run.findings);
  entries = followed.entries;

  // 6. Move on only to a tree the monitor itself recomputed, and that no proof contradicts.
  if (
    run.checks.recomputedRoot === "verified" &&
    run.checks.consistencyProof !== "failed" &&
    !run.findings.some((f) => f.type === "entries_mismatch")
  ) {
    const newTailStart = Math.floor(cp.size / TILE_WIDTH) * TILE_WIDTH;
    const tail =
      cp.size % TILE_WIDTH === 0 || bundles.length === 0
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
      identifiers: followed.identifiers,
      evidence: state?.evidence ?? [],
      updatedAt: now().toISOString(),
    };
    advanced = true;
  }
  return finish();
}

/** `state` with the split views among `findings` that it does not hold yet added to its evidence. */
function withEvidence(state: MonitorState | null, findings: readonly MonitorFinding[], now: () => Date) {
  const splitViews = findings.filter(
    (f): f is Extract<MonitorFinding, { type: "split_view" }> => f.type === "split_view",
  );
  if (splitViews.length === 0 || !state) return state;
  const known = new Set(state.evidence.map((e) => `${e.earlier.rootHash}/${e.later.rootHash}`));
  const fresh = splitViews
    .filter((f) => !known.has(`${f.earlier.rootHash}/${f.later.rootHash}`))
    .map((f) => ({ foundAt: now().toISOString(), reason: f.reason, earlier: f.earlier, later: f.later }));
  if (fresh.length === 0) return state;
  return { ...state, evidence: [...state.evidence, ...fresh], updatedAt: now().toISOString() };
}

/**
 * Step 2: the served checkpoint against the last one the monitor verified.
 * "stop" when the run has nothing more to check: the same size (equal
 * roots, or a split view), or an older checkpoint (stale, or a split view).
 */
async function againstLast(
  client: LogClient,
  state: MonitorState,
  cp: VerifiedCheckpoint,
  origin: string,
  run: Run,
): Promise<"stop" | "go on"> {
  const { checks, findings } = run;
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
    return "stop";
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
      return "stop";
    }
    // The empty tree is a prefix of every tree (and has no proof).
    checks.consistencyProof = await proofStatus(run, async () =>
      cp.size === 0
        ? true
        : verifyConsistency(
            cp.size,
            last.size,
            (await client.consistencyProof(cp.size, last.size)).proof,
            cp.rootHash,
            fromHex(last.rootHash),
          ),
    );
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
    return "stop";
  }
  // Larger: the server's consistency proof, checked against both signed roots.
  if (last.size === 0) return "go on";
  checks.consistencyProof = await proofStatus(run, () =>
    client.verifyConsistency({ size: last.size, rootHash: fromHex(last.rootHash) }, cp),
  );
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
  return "go on";
}

/** A consistency proof's outcome; one the server does not give is "unavailable", with a notice. */
async function proofStatus(run: Run, verify: () => Promise<boolean>): Promise<"verified" | "failed" | "unavailable"> {
  try {
    return (await verify()) ? "verified" : "failed";
  } catch (error) {
    if (!(error instanceof LogHttpError || error instanceof LogVerificationError)) throw error;
    run.findings.push({ type: "proof_unavailable", severity: "notice", detail: (error as Error).message });
    return "unavailable";
  }
}

/**
 * Step 3: the entries the checkpoint adds, downloaded and hashed into the
 * compact range verified before; the entries of the last partial bundle
 * verified before must be the same bytes. Null if they cannot be downloaded.
 */
async function recomputed(
  client: LogClient,
  state: MonitorState | null,
  cp: VerifiedCheckpoint,
  run: Run,
): Promise<{ bundles: EntryBundle[]; leaves: Leaf[]; accumulator: MerkleAccumulator } | null> {
  const { checks, findings } = run;
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
    return null;
  }
  const leaves: Leaf[] = [];
  for (const bundle of bundles) {
    for (const [i, bytes] of bundle.entries.entries())
      leaves.push({ index: bundle.start + i, bytes, leaf: await leafHash(bytes) });
  }
  const tailStart = Math.floor(from / TILE_WIDTH) * TILE_WIDTH;
  for (const { index, leaf } of leaves) {
    if (index >= from || !state) continue;
    if (state.tail[index - tailStart] !== toHex(leaf)) {
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
  const root = toHex(await accumulator.root());
  checks.recomputedRoot = root === cp.rootHashHex ? "verified" : "failed";
  if (checks.recomputedRoot === "failed") {
    findings.push({
      type: "entries_mismatch",
      severity: "alert",
      reason: "recomputed_root_differs",
      detail: `the ${from === 0 ? "" : `tree verified earlier (${from} entries) extended by the `}${cp.size - from} entries served hash${cp.size - from === 1 ? "es" : ""} to ${root}, not to the signed root ${cp.rootHashHex}`,
    });
  }
  return { bundles, leaves, accumulator };
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
