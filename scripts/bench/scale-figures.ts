/**
 * The registry scale section's figures (sections/scale.ts): what one run of
 * one code measured, and the parts of it read from the object's metrics and
 * from the CPU profile.
 */
import { type CpuProfile, type HotFunction, hotFunctions } from "./inspector.ts";
import type { BusyRuns } from "./busy-runs.ts";
import type { GcPauses } from "./gc-pauses.ts";
import type { ProcessCollections } from "./gc-trace.ts";
import type { Stretch } from "./js-stretches.ts";
import { profileWindows, type Window, type WindowUse, windowUse } from "./profile-windows.ts";
import { type ChangeTimes, type RoundTimes, slowestChanges } from "./round-times.ts";
import { counterTotals } from "./metrics-reader.ts";
import type { PushLoad } from "./push-load.ts";
import type { summarize } from "./stats.ts";
import type { Front } from "./scale-host.ts";

/** A run of the isolate's work this long or longer (--profile) holds a read for half the acknowledgement goal (100 ms) or more. */
export const LONG_RUN_MS = 50;
/** How long the bench waits for the pages' documents to follow the import before pushing anyway. */
export const PAGES_LIMIT_MS = 600_000;

/** Targets whose pages the bench reads to see their documents written (site-sample.ts). */
export const PAGES_SAMPLE = 64;

export interface PagesFigures {
  /** Log entries whose documents were not sent when the reading began (tuf_edge_site_documents_behind). */
  behind: number;
  /** Seconds until none was behind (null: still behind at the limit). */
  seconds: number | null;
  /** The longest the gauge stood still between two readings that differed, s. */
  longestPauseSeconds: number;
  /**
   * Seconds from the same start until the pages of PAGES_SAMPLE of the
   * targets showed their documents (null: not at the limit, or not read);
   * absent in figures recorded before the documents went through a queue.
   */
  writtenSeconds?: number | null;
}

const ROUND_COUNTERS = [
  "tuf_edge_publish_round_duration_seconds_count",
  "tuf_edge_publish_round_duration_seconds_sum",
  "tuf_edge_metadata_files_published_total",
] as const;

/** The publish rounds' counters (rounds ended, their seconds, the files they published), read at once. */
export const roundCounters = (base: string, repo: string, token: string) =>
  counterTotals(base, repo, token, ROUND_COUNTERS);

/** What the rounds that ended between two reads of roundCounters() did, or null for a code without those metrics. */
export function roundsDuring(
  before: Awaited<ReturnType<typeof roundCounters>>,
  after: Awaited<ReturnType<typeof roundCounters>>,
): Figures["rounds"] {
  const delta = (name: (typeof ROUND_COUNTERS)[number]) => {
    const [a, b] = [after[name], before[name]];
    return a === null || b === null ? null : a - b;
  };
  const count = delta("tuf_edge_publish_round_duration_seconds_count");
  if (count === null) return null;
  const seconds = delta("tuf_edge_publish_round_duration_seconds_sum");
  const files = delta("tuf_edge_metadata_files_published_total");
  return {
    count,
    meanMs: count > 0 && seconds !== null ? (seconds * 1000) / count : null,
    filesPerRound: count > 0 && files !== null ? files / count : null,
  };
}

export interface Figures {
  code: string;
  bootstrapS: number;
  bootstrapCpuS: number;
  importS: number;
  importTargetsPerS: number;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  /** The object's SQLite after the import (tuf_edge_storage_bytes) ÷ targets imported, or null if the code has no such gauge. */
  storageBytesPerTarget: number | null;
  /** The object's SQLite growth from the import's end to the drain's ÷ targets accepted meanwhile, or null (no gauge). */
  storageGrowthPerTarget: number | null;
  /** Files of replaced metadata versions recorded from the import's end to the drain's (tuf_edge_superseded_files) ÷ targets accepted, or null (no gauge). */
  supersededPerTarget: number | null;
  /** The snapshot's length as the served timestamp.json names it after the drain (every round stores a snapshot). */
  snapshotBytes: number | null;
  /**
   * The pages' target documents after the import: log entries behind when it was published, seconds until none
   * were (null: still behind at the limit), and the longest the count stood still meanwhile; or null (no gauge).
   */
  pages: PagesFigures | null;
  /**
   * The same once the pushes were all published: the log entries their
   * documents were behind then, and seconds until none (absent in figures
   * recorded before it was measured).
   */
  pagesAfterPushes?: PagesFigures | null;
  /** Publish rounds that ended while pushing and draining, their mean length and the files each signed on average (null: no such metrics). */
  rounds: { count: number; meanMs: number | null; filesPerRound: number | null } | null;
  heapAfterPushesUsedMiB: number | null;
  heapAfterPushesTotalMiB: number | null;
  pushSeconds: number;
  acceptedTargets: number;
  acceptedTargetsPerS: number;
  publishedTargetsPerS: number;
  ackMs: ReturnType<typeof summarize>;
  /** Of each acknowledgement, the bench's own lateness in beginning the push (PushLoad.ackLateMs). */
  ackLateMs: ReturnType<typeof summarize>;
  /** Of each acknowledgement, the Worker's handling (Server-Timing "total"), or null (a code without it). */
  ackWorkerMs: ReturnType<typeof summarize> | null;
  /** Of each acknowledgement, the Worker's wait for the object (Server-Timing "repository"), or null (a code without it). */
  ackObjectMs: ReturnType<typeof summarize> | null;
  /** Of that wait, the time inside the object as it reports it (Server-Timing "object"), or null (a code without it). */
  ackInObjectMs: ReturnType<typeof summarize> | null;
  ackToPublishedMs: ReturnType<typeof summarize>;
  /** ack → published split by the object's rounds (round-times.ts), or null (wrangler dev: no rounds' log lines). */
  waitParts: PushLoad["waitParts"];
  /** The longest round that ended while pushing and draining, from the same lines, or null. */
  longestRound: { ms: number; files: number } | null;
  /** Where those rounds' time went, mean ms per phase (round-times.ts), or null (no lines, or a code without phases). */
  roundPhases: ReturnType<RoundTimes["meanPhases"]>;
  cpuMsPerTarget: number;
  /** Cores in use while pushing and draining: the machine's (every process), workerd's, the bench's own, the rest. */
  cores: { machine: number; workerd: number; bench: number; others: number };
  /** The Worker's workerd process alone (no proxy), or with --split the object's (one: all of it), ÷ targets accepted. */
  workerProcessCpuMsPerTarget: number;
  /** Where pushes, polls and reads went: wrangler's proxy, the Worker's own port (--direct), or a bench-started topology (--split). */
  front: Front;
  /** Each workerd process's CPU while pushing and draining ÷ targets accepted (--split only; else empty). */
  cpuMsPerTargetByProcess: Record<string, number>;
  /**
   * The share of the time, pushing and draining, that the main thread of the
   * workerd running the object was on a core (0 to 1; monitor.ts), or null
   * when wrangler restarted that workerd meanwhile (no figure for the whole
   * phase).
   */
  objectThreadBusy: number | null;
  /**
   * The share of the time that main thread was ready to run and waited for
   * a core (0 to 1; monitor.ts), null as above or where the kernel keeps no
   * schedstat. With --pin, what it waited for shares its core.
   */
  objectThreadWaiting: number | null;
  /**
   * The cores the other threads of the process that runs the object used
   * (V8's helpers, the inspector), pushing and draining, ÷ targets accepted,
   * in ms; null where that process has no name (wrangler dev).
   */
  objectHelperCpuMsPerTarget: number | null;
  /**
   * The process that runs the object (split: the object's; one: all of it;
   * wrangler dev: the Worker's workerd), pushing and draining: its write
   * system calls and the bytes they wrote ÷ targets accepted, and the share
   * of its CPU spent in the kernel (monitor.ts, proc.ts processIo); null
   * where /proc/<pid>/io could not be read.
   */
  /**
   * R2 operations the object made while pushing and draining, by operation
   * (tuf_edge_r2_operations_total's difference) ÷ targets accepted; null for
   * a code without that counter.
   */
  r2OperationsPerTarget: Record<string, number> | null;
  /**
   * The same by area, the part of the repository's layout the key is in
   * (packs, metadata, log, site, public, …); null for a code that does not
   * count areas, or absent in figures recorded before.
   */
  r2AreasPerTarget?: Record<string, number> | null;
  objectProcessIo: { writeBytesPerTarget: number; writeCallsPerTarget: number; kernelShare: number } | null;
  /** The Worker isolate's busy time in the profile (--profile), gaps included, ÷ targets accepted, or null. */
  isolateBusyMsPerTarget: number | null;
  /** The Worker isolate's own CPU in the profile (ownCpuMs: gaps capped) ÷ targets accepted, or null. */
  isolateCpuMsPerTarget: number | null;
  /** The isolate's own CPU less the Worker's request handling (profile-sides.ts) ÷ targets accepted, or null. */
  objectCpuMsPerTarget: number | null;
  failedPushes: number;
  /** GET timestamp.json, one at a time: before the pushes (nothing publishing), and while pushing and draining. */
  timestampIdleMs: ReturnType<typeof summarize>;
  timestampBusyMs: ReturnType<typeof summarize>;
  timestampReadsFailed: number;
  /** GET /openapi.json (no binding touched), read beside timestamp.json alike: the control. */
  controlIdleMs: ReturnType<typeof summarize>;
  controlBusyMs: ReturnType<typeof summarize>;
  controlReadsFailed: number;
  /** GET /{repo}/tasks/{id} requests, once per acknowledged task after draining (its first timestamp version). */
  taskPolls: number;
  /** GET timestamp.json requests of the watcher that notes when each version is first served. */
  timestampReads: number;
  /** Acknowledged tasks with no timestamp version once drained (should be 0). */
  unpublishedTasks: number;
  largestInvocation: Record<string, number> | null;
  /**
   * --trace-gc: the major collections of the object's process while pushing
   * and draining (gc-trace.ts), or null (absent in results of a bench before it).
   */
  collections?: ProcessCollections | null;
  /** The heaviest functions of the pushing and draining phase (--profile), or null. */
  profile: {
    busyMs: number;
    ownCpuMs: number;
    workerCpuMs: number | null;
    runs: BusyRuns;
    /** The longest stretches of JavaScript (js-stretches.ts): what a request that arrives meanwhile waits behind. */
    stretches: Stretch[];
    /** The collector's pauses (gc-pauses.ts), absent in results of a bench before it. */
    gc?: GcPauses;
    functions: HotFunction[];
    /** The isolate during the longest round (a bundle the bench started), or null. */
    longestRound: ProfiledWindows | null;
    /** The isolate while the slowest 1 % of changes waited for their rounds to start, or null. */
    beforeSlowest: ProfiledWindows | null;
  } | null;
}

/** Some windows of the profile: how busy the isolate was in them, and its heaviest functions there. */
export interface ProfiledWindows extends WindowUse {
  /** The windows asked for (one per change for the slowest 1 %), before overlapping ones are joined. */
  windows: number;
  functions: HotFunction[];
}

function profiled(raw: CpuProfile, windows: Window[]): ProfiledWindows | null {
  if (windows.length === 0) return null;
  return {
    ...windowUse(raw, windows),
    windows: windows.length,
    functions: hotFunctions(profileWindows(raw, windows), 12).functions,
  };
}

/**
 * Where the object's isolate went in the longest round, and while the slowest
 * changes waited before theirs: windows of the bench's clock moved to the
 * profile's, which starts at `profileStart` (performance.now(), to within the
 * inspector's answer to Profiler.start).
 */
export function roundWindows(
  raw: CpuProfile,
  profileStart: number,
  rounds: RoundTimes,
  changes: readonly ChangeTimes[],
  span: Window,
): Pick<NonNullable<Figures["profile"]>, "longestRound" | "beforeSlowest"> {
  const onProfile = (from: number, to: number): Window => ({ from: from - profileStart, to: to - profileStart });
  const longest = rounds.longest(span.from, span.to);
  return {
    longestRound: longest && profiled(raw, [onProfile(longest.start, longest.end)]),
    beforeSlowest: profiled(
      raw,
      slowestChanges(changes).map((c) => onProfile(c.ackAt, c.round.start)),
    ),
  };
}
