/**
 * Stretches of JavaScript in a CPU profile: consecutive samples with a
 * script's frame on the stack (or the garbage collector, which runs inside
 * them), broken by an idle sample or one of the runtime's own work outside
 * any script ("(program)": taking a request, firing a timer, committing).
 * workerd takes a new request only between two events on the thread, so a
 * request that arrives during a stretch waits at least until the event under
 * way ends. Two events run back to back with no sample between them count as
 * one stretch: a stretch is an upper bound of one synchronous block, and its
 * heaviest path says which code held the thread.
 */
import type { SampledProfile } from "./profile-sides.ts";

export interface Stretch {
  /** When it started, ms from the profile's start. */
  atMs: number;
  /** From its first sample's start to its last sample, gaps included. */
  wallMs: number;
  /** The same with each sample's time capped at `capMs` (the isolate's own CPU, as ownCpuMs counts it). */
  ownCpuMs: number;
  /** Its heaviest path: the outermost frames (at most three) under the root, by own CPU, joined by " > ". */
  path: string;
  /** That path's own CPU in the stretch, ms. */
  pathMs: number;
}

const OUTSIDE = new Set(["(idle)", "(program)", "(root)"]);
const PATH_FRAMES = 3;

/** The `count` longest stretches of `profile` by own CPU, longest first. */
export function longestStretches(profile: SampledProfile, count: number, capMs = 1): Stretch[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const paths = new Map<number, string | null>();
  // The outermost frames of a sample's stack, or null for a sample outside any script.
  const pathOf = (leaf: number): string | null => {
    const known = paths.get(leaf);
    if (known !== undefined) return known;
    const names: string[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parents.get(id)) {
      names.push(byId.get(id)?.callFrame.functionName || "(anonymous)");
    }
    names.reverse();
    const frames = names[0] === "(root)" ? names.slice(1) : names;
    const path =
      frames.length === 0 || OUTSIDE.has(frames[0] as string) ? null : frames.slice(0, PATH_FRAMES).join(" > ");
    paths.set(leaf, path);
    return path;
  };
  const stretches: Stretch[] = [];
  let at = 0;
  let open: { atMs: number; wallMs: number; ownCpuMs: number; byPath: Map<string, number> } | null = null;
  const close = () => {
    if (!open) return;
    const [path, pathMs] = [...open.byPath].sort((a, b) => b[1] - a[1])[0] as [string, number];
    stretches.push({ atMs: open.atMs, wallMs: open.wallMs, ownCpuMs: open.ownCpuMs, path, pathMs });
    open = null;
  };
  for (const [i, node] of (profile.samples ?? []).entries()) {
    const ms = (profile.timeDeltas?.[i] ?? 0) / 1000;
    at += ms;
    const path = pathOf(node);
    if (path === null) {
      close();
      continue;
    }
    open ??= { atMs: at - ms, wallMs: 0, ownCpuMs: 0, byPath: new Map() };
    const own = Math.min(ms, capMs);
    open.wallMs += ms;
    open.ownCpuMs += own;
    open.byPath.set(path, (open.byPath.get(path) ?? 0) + own);
  }
  close();
  return stretches.sort((a, b) => b.ownCpuMs - a.ownCpuMs).slice(0, count);
}
