/**
 * V8's `--trace-gc` lines, as workerd prints them when the bench starts it
 * with that flag (--trace-gc; Miniflare passes MINIFLARE_WORKERD_V8_FLAGS to
 * workerd and forwards its stdout lines as log messages), and what they say
 * about one process's isolates. workerd runs V8 without incremental marking
 * (src/workerd/jsg/setup.c++ sets --noincremental-marking), so each
 * Mark-Compact is one stop-the-world pause of the thread that runs every
 * isolate of the process: in one workerd, a pause of the local R2
 * simulator's isolate stops the repository's object too.
 *
 *   [1234:0x7f0e3c2a8000]    51633 ms: Mark-Compact 53.7 (60.1) -> 3.2 (58.0) MB, pooled: 0.0 MB, 92.0 / 0.00 ms (…) allocation failure; …
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
}

const LINE =
  /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+(\d+(?:\.\d+)?) ms: (Scavenge|Mark-Compact)\b[^\d]*?([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB,.*? ([\d.]+) \/ [\d.]+ ms/;

/** The event a `--trace-gc` line reports, or null for any other line (Minor Mark-Sweep and the rest included). */
export function parseGcLine(line: string): GcEvent | null {
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

export interface MajorPauses {
  /** Mark-Compacts in the window. */
  count: number;
  longestMs: number;
  totalMs: number;
}

export interface ProcessCollections {
  /**
   * The isolate whose heap was largest after its last Mark-Compact (the
   * repository's, whose bundle and data outweigh the simulators' and the
   * gateway's), its major collections in the window; null if none.
   */
  largest: (MajorPauses & { isolate: string }) | null;
  /** Every isolate of the process together: the thread stops for each. */
  all: MajorPauses;
}

const none = (): MajorPauses => ({ count: 0, longestMs: 0, totalMs: 0 });

/** The major collections of a process's isolates between `fromMs` and `toMs` (ms since its isolates were created). */
export function majorCollections(events: readonly GcEvent[], fromMs: number, toMs: number): ProcessCollections {
  const lastHeap = new Map<string, number>();
  const byIsolate = new Map<string, MajorPauses>();
  const all = none();
  for (const e of events) {
    if (e.kind !== "mark-compact") continue;
    lastHeap.set(e.isolate, e.afterMb);
    if (e.atMs < fromMs || e.atMs > toMs) continue;
    const own = byIsolate.get(e.isolate) ?? none();
    for (const p of [own, all]) {
      p.count++;
      p.totalMs += e.pauseMs;
      p.longestMs = Math.max(p.longestMs, e.pauseMs);
    }
    byIsolate.set(e.isolate, own);
  }
  const heaviest = [...lastHeap].sort((a, b) => b[1] - a[1])[0];
  const largest = heaviest ? { isolate: heaviest[0], ...(byIsolate.get(heaviest[0]) ?? none()) } : null;
  return { largest, all };
}
