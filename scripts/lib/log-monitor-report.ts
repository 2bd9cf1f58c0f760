/**
 * What a log monitor run (log-monitor.ts) keeps and reports: the state it
 * carries from one run to the next (the last verified checkpoint, its compact
 * range, each target path's digests, the evidence of split views), and the
 * report of one run (its checks and findings). Both are JSON: the state is a
 * file the operator keeps, the report what `tuf-edge log monitor --json`
 * prints.
 */
import type { LogEntry } from "../../src/log/entry.ts";
import type { Hashes } from "../../src/tuf/targets.ts";
import type { DownloadStats } from "./log-client.ts";

export const MONITOR_STATE_VERSION = 1;
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
