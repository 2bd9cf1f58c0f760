/**
 * V8's `--trace-gc-nvp` lines (and the shorter `--trace-gc` ones), as workerd
 * prints them when the bench starts it with that flag (--trace-gc; Miniflare
 * passes MINIFLARE_WORKERD_V8_FLAGS to workerd and forwards its stdout lines
 * as log messages), and what they say about one process's isolates. workerd
 * runs V8 without incremental marking (src/workerd/jsg/setup.c++ sets
 * --noincremental-marking), so each Mark-Compact is one stop-the-world pause
 * of the thread that runs every isolate of the process: in one workerd, a
 * pause of the local R2 simulator's isolate stops the repository's object
 * too; split, so does one of the gateway's (topology.ts).
 *
 *   [1234:0x7f0e3c2a8000:0]    51633 ms: GC: {"pause":92.0,"gc":"mc","mark":4.8,"clear":4.5,…}
 *   [1234:0x7f0e3c2a8000]    51633 ms: Mark-Compact 53.7 (60.1) -> 3.2 (58.0) MB, pooled: 0.0 MB, 92.0 / 0.00 ms (…)
 *
 * The first kind names V8's own phases. Their sum falls well short of the
 * pause when the runtime's objects died in numbers: workerd's C++ heap
 * (cppgc) is swept atomically, in the pause, and each dead SQL cursor,
 * Headers or WebCrypto result adds to that part and not to V8's phases
 * (`npm run bench:gc-objects`), so `pause − V8's phases` is the runtime's.
 *
 * The time is ms since that isolate was created, which the bench reads as
 * since its process started (/proc): isolates are created as the process
 * loads its config, so an event's time is late by that gap (well under a
 * second), which only matters for events at a window's very edge.
 */

export interface GcEvent {
  /** The isolate's address: one per isolate of the process. */
  isolate: string;
  /** ms since the isolate was created. */
  atMs: number;
  kind: "scavenge" | "mark-compact";
  /** The heap's objects before and after, MB. */
  beforeMb: number;
  afterMb: number;
  pauseMs: number;
  /** The sum of V8's own phases (marking, clearing, evacuation, sweeping, …): `--trace-gc-nvp` lines only. */
  v8PhasesMs?: number;
}

const LINE =
  /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+(\d+(?:\.\d+)?) ms: (Scavenge|Mark-Compact)\b[^\d]*?([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB,.*? ([\d.]+) \/ [\d.]+ ms/;
const NVP_LINE = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+(\d+(?:\.\d+)?) ms: GC: (\{.*\})$/;

/**
 * V8's top-level phases in a `--trace-gc-nvp` line (src/heap/gc-tracer.cc):
 * each is timed on its own, and their sub-phases ("mark.roots", …) inside
 * them are not added again.
 */
const V8_PHASES = [
  "heap.prologue",
  "heap.embedder_tracing_epilogue",
  "heap.epilogue",
  "heap.external.prologue",
  "heap.external.epilogue",
  "heap.external.weak_global_handles",
  "prologue",
  "mark",
  "clear",
  "evacuate",
  "sweep",
  "finish",
  "epilogue",
  "complete.sweep_array_buffers",
  "complete.sweeping",
] as const;

const MB = 1024 * 1024;

/** The event a `--trace-gc` or `--trace-gc-nvp` line reports, or null for any other line (Minor Mark-Sweep and the rest included). */
export function parseGcLine(line: string): GcEvent | null {
  const nvp = NVP_LINE.exec(line.trim());
  if (nvp) return parseNvp(nvp[1] as string, Number(nvp[2]), nvp[3] as string);
  const m = LINE.exec(line.trim());
  if (!m) return null;
  const [, isolate, at, kind, before, after, pause] = m as unknown as string[];
  return {
    isolate: isolate as string,
    atMs: Number(at),
    kind: kind === "Scavenge" ? "scavenge" : "mark-compact",
    beforeMb: Number(before),
    afterMb: Number(after),
    pauseMs: Number(pause),
  };
}

function parseNvp(isolate: string, atMs: number, json: string): GcEvent | null {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  const kind = fields.gc === "mc" ? "mark-compact" : fields.gc === "s" ? "scavenge" : null;
  const number = (key: string) => (typeof fields[key] === "number" ? (fields[key] as number) : 0);
  if (kind === null || typeof fields.pause !== "number") return null;
  const v8PhasesMs = V8_PHASES.reduce((sum, phase) => sum + number(phase), 0);
  return {
    isolate,
    atMs,
    kind,
    beforeMb: number("start_object_size") / MB,
    afterMb: number("end_object_size") / MB,
    pauseMs: fields.pause,
    v8PhasesMs,
  };
}

export interface MajorPauses {
  /** Mark-Compacts in the window. */
  count: number;
  longestMs: number;
  totalMs: number;
  /** Of `totalMs`, what is outside V8's own phases (the runtime's part); null from `--trace-gc` lines, which do not name them. */
  outsideV8Ms: number | null;
}

export interface ProcessCollections {
  /**
   * The isolate whose heap was largest after its last Mark-Compact (the
   * repository's, whose bundle and data outweigh the simulators' and the
   * gateway's), its major collections in the window; null if none.
   */
  largest: (MajorPauses & { isolate: string }) | null;
  /** Every other isolate of the process together: the thread stops for each of theirs too. */
  others: MajorPauses;
}

const none = (): MajorPauses => ({ count: 0, longestMs: 0, totalMs: 0, outsideV8Ms: 0 });

function add(p: MajorPauses, e: GcEvent): void {
  p.count++;
  p.totalMs += e.pauseMs;
  p.longestMs = Math.max(p.longestMs, e.pauseMs);
  p.outsideV8Ms =
    p.outsideV8Ms === null || e.v8PhasesMs === undefined ? null : p.outsideV8Ms + Math.max(0, e.pauseMs - e.v8PhasesMs);
}

/** The major collections of a process's isolates between `fromMs` and `toMs` (ms since its isolates were created). */
export function majorCollections(events: readonly GcEvent[], fromMs: number, toMs: number): ProcessCollections {
  const marks = events.filter((e) => e.kind === "mark-compact");
  const lastHeap = new Map<string, number>();
  for (const e of marks) lastHeap.set(e.isolate, e.afterMb);
  const heaviest = [...lastHeap].sort((a, b) => b[1] - a[1])[0]?.[0];
  const own = none();
  const others = none();
  for (const e of marks) if (e.atMs >= fromMs && e.atMs <= toMs) add(e.isolate === heaviest ? own : others, e);
  return { largest: heaviest === undefined ? null : { isolate: heaviest, ...own }, others };
}
