/**
 * Runs of work in a CPU profile: a run is a stretch of consecutive samples
 * none of which is idle, and it lasts from the sample before it (the last
 * time the isolate was seen idle) to its last sample. workerd reads a new
 * request, and fires a timer, only between runs of the work queued on its
 * thread, so a request that arrives during a run waits for its end: the
 * longest run bounds how long any read waits, and the share of busy time in
 * long runs says how often one does. A gap in the samples (the thread in
 * another isolate, e.g. the local R2 simulator's) counts toward the run it
 * falls in, as the busy time of inspector.ts's hotFunctions does.
 */
import type { SampledProfile } from "./profile-sides.ts";

export interface BusyRuns {
  /** The longest run, ms (0 if every sample was idle). */
  longestMs: number;
  /** Busy time in runs of at least `longMs`, ÷ all busy time (0 when there is none). */
  longShare: number;
  /**
   * Of the time in those long runs, the share outside the isolate: each
   * sample's time since the one before beyond `capMs` (the thread in another
   * isolate, e.g. the local R2 simulator's, or in I/O), as ownCpuMs in
   * inspector.ts caps it (0 when there are no long runs).
   */
  longOutside: number;
}

/** The runs of `profile` (see above); `longMs` is what counts as a long run. */
export function busyRuns(profile: SampledProfile, longMs = 50, capMs = 1): BusyRuns {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let longestMs = 0;
  let busyMs = 0;
  let longMsTotal = 0;
  let longOutsideMs = 0;
  let runMs = 0;
  let runOutsideMs = 0;
  const endRun = () => {
    longestMs = Math.max(longestMs, runMs);
    busyMs += runMs;
    if (runMs >= longMs) {
      longMsTotal += runMs;
      longOutsideMs += runOutsideMs;
    }
    runMs = 0;
    runOutsideMs = 0;
  };
  for (const [i, node] of (profile.samples ?? []).entries()) {
    if (idle.has(node)) {
      endRun();
      continue;
    }
    const ms = (profile.timeDeltas?.[i] ?? 0) / 1000;
    runMs += ms;
    runOutsideMs += Math.max(0, ms - capMs);
  }
  endRun();
  return {
    longestMs,
    longShare: busyMs > 0 ? longMsTotal / busyMs : 0,
    longOutside: longMsTotal > 0 ? longOutsideMs / longMsTotal : 0,
  };
}
