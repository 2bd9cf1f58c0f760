/**
 * Total time per function in a CPU profile: a function's own samples and
 * those of everything it called, each sample counted once however often the
 * function is on its stack (recursion). Self time (inspector.ts's
 * hotFunctions) names where the CPU went; total time names the step that
 * spent it: `appendMany` with the encoding and the SQL under it, which self
 * time splits among canonicalize, safeParse and exec. Each sample counts for
 * the time since the sample before it, as hotFunctions and busy-runs.ts count
 * it; idle samples count for nothing. No Node module: unit tests import it.
 */
import type { SampledProfile } from "./profile-sides.ts";

export interface TotalTime {
  /** The function's name, "(anonymous)" for none. */
  name: string;
  /** Its script's last two path segments and its line (1-based); empty for a native or (root). */
  where: string;
  totalMs: number;
  /** totalMs ÷ the profile's busy time (every sample but idle ones). */
  share: number;
}

/** The `limit` functions with the most total time, heaviest first; (root) and (program) are left out. */
export function totalTimes(profile: SampledProfile, limit = 15): TotalTime[] {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const keyOf = new Map<number, string>();
  const named = new Map<string, { name: string; where: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    const where = url ? `${url.split("/").slice(-2).join("/")}:${lineNumber + 1}` : "";
    const key = `${name} ${where}`;
    keyOf.set(node.id, key);
    named.set(key, { name, where });
  }
  const totals = new Map<string, number>();
  let busyMs = 0;
  for (const [i, id] of (profile.samples ?? []).entries()) {
    if (nodes.get(id)?.callFrame.functionName === "(idle)") continue;
    const ms = (profile.timeDeltas?.[i] ?? 0) / 1000;
    busyMs += ms;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf.get(at);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + ms);
    }
  }
  const skipped = new Set(["(root)", "(program)"]);
  return [...totals]
    .flatMap(([key, totalMs]) => {
      const f = named.get(key);
      return f && !skipped.has(f.name) ? [{ ...f, totalMs, share: busyMs > 0 ? totalMs / busyMs : 0 }] : [];
    })
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, limit);
}
