/**
 * The garbage collector's pauses in a CPU profile: runs of consecutive
 * "(garbage collector)" samples. workerd runs V8 without incremental
 * marking (src/workerd/jsg/setup.c++), so a major collection marks, clears
 * and sweeps in one stop-the-world pause: an event that arrives meanwhile
 * (a push, a task poll) waits for all of it. A run is timed from the
 * samples' deltas, each counted for the time since the sample before it
 * (as js-stretches.ts counts wall time), so it is the pause as the thread
 * lived it.
 */
import type { SampledProfile } from "./profile-sides.ts";

const GC = "(garbage collector)";

export interface GcPauses {
  /** Every sample of the collector, ms. */
  totalMs: number;
  /** The longest run of them, ms. */
  longestMs: number;
  /** Runs of at least `longMs` (default 20 ms). */
  long: number;
}

export function gcPauses(profile: SampledProfile, longMs = 20): GcPauses {
  const inGc = new Set(profile.nodes.filter((n) => n.callFrame.functionName === GC).map((n) => n.id));
  const result: GcPauses = { totalMs: 0, longestMs: 0, long: 0 };
  let run = 0;
  const close = () => {
    if (run >= longMs) result.long++;
    result.longestMs = Math.max(result.longestMs, run);
    run = 0;
  };
  for (const [i, node] of (profile.samples ?? []).entries()) {
    const ms = (profile.timeDeltas?.[i] ?? 0) / 1000;
    if (!inGc.has(node)) {
      close();
      continue;
    }
    run += ms;
    result.totalMs += ms;
  }
  close();
  return result;
}
