/**
 * Parts of a CPU profile by time: the samples taken within some windows
 * (e.g. an import's ingestion, then its publish round; or the longest publish
 * round of a push load, and the waits of its slowest changes), and how much
 * of those windows the isolate was busy. Windows are in ms after the
 * profile's start. Pure: no Node module, so workerd tests import it
 * (test/unit/profile-windows.test.ts).
 */
import type { SampledProfile } from "./profile-sides.ts";

export interface Window {
  from: number;
  to: number;
}

/** The windows sorted by start, overlapping or touching ones joined, empty ones dropped. */
export function mergeWindows(windows: readonly Window[]): Window[] {
  const sorted = windows.filter((w) => w.to > w.from).sort((a, b) => a.from - b.from);
  const merged: Window[] = [];
  for (const w of sorted) {
    const last = merged[merged.length - 1];
    if (last && w.from <= last.to) last.to = Math.max(last.to, w.to);
    else merged.push({ ...w });
  }
  return merged;
}

/** The profile with only the samples taken within one of `windows` (a sample's time is its end). */
export function profileWindows<P extends SampledProfile>(profile: P, windows: readonly Window[]): P {
  const merged = mergeWindows(windows);
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = 0;
  let w = 0;
  for (const [i, node] of (profile.samples ?? []).entries()) {
    const delta = profile.timeDeltas?.[i] ?? 0;
    at += delta / 1000;
    while (w < merged.length && at >= (merged[w] as Window).to) w++;
    const window = merged[w];
    if (!window || at < window.from) continue;
    samples.push(node);
    timeDeltas.push(delta);
  }
  return { ...profile, samples, timeDeltas };
}

/** The samples between `fromMs` and `toMs` after the profile's start. */
export function profileWindow<P extends SampledProfile>(profile: P, fromMs: number, toMs: number): P {
  return profileWindows(profile, [{ from: fromMs, to: toMs }]);
}

/** How the isolate spent some windows: their length, its busy time (gaps included) and its own CPU (gaps capped). */
export interface WindowUse {
  wallMs: number;
  busyMs: number;
  ownCpuMs: number;
}

/** WindowUse of `windows`; busy and own CPU are counted as inspector.ts's hotFunctions and ownCpuMs count them. */
export function windowUse(profile: SampledProfile, windows: readonly Window[], capMs = 1): WindowUse {
  const merged = mergeWindows(windows);
  const part = profileWindows(profile, merged);
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let busyMs = 0;
  let ownCpuMs = 0;
  for (const [i, node] of (part.samples ?? []).entries()) {
    if (idle.has(node)) continue;
    const ms = (part.timeDeltas?.[i] ?? 0) / 1000;
    busyMs += ms;
    ownCpuMs += Math.min(capMs, ms);
  }
  return { wallMs: merged.reduce((sum, w) => sum + (w.to - w.from), 0), busyMs, ownCpuMs };
}
