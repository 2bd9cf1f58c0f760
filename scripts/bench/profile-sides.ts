/**
 * Which side of the platform a CPU profile's samples belong to. Locally the
 * Worker and its Durable Object run in one isolate on one thread; on the
 * platform the object has a thread of its own, and the Worker's requests
 * (routing, the RPC call, the answer) run elsewhere. So the object's own
 * CPU, the part that bounds what one repository can take, is the isolate's
 * own CPU (ownCpuMs) less the samples of the Worker's request handling.
 *
 * A sample is the Worker's when the outermost frame of its stack that lies
 * in the bundle is in a Worker module (`src/routes/`, `src/http/`,
 * `src/app.ts`, `src/index.ts`, `src/repository-stub.ts`, `src/scheduled.ts`
 * or Hono), found by esbuild's `// <path>` comment that opens each module
 * in the bundle. Everything else (the object's code, what it awaits, the
 * garbage collector) is counted as the object's: an upper bound of its
 * share, since a continuation of shared code (e.g. a signature check)
 * started by a Worker request is counted for the object too.
 */

/** What of a V8 CPU profile (inspector.ts's CpuProfile) this reads; no Node module, so workerd tests import it. */
export interface SampledProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; scriptId?: string | number };
    children?: number[];
  }>;
  samples?: number[];
  timeDeltas?: number[];
}

const WORKER_MODULE =
  /(^|\/)(src\/(routes\/|http\/|app\.ts|index\.ts|repository-stub\.ts|scheduled\.ts)|node_modules\/hono\/)/;
const MODULE_COMMENT = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/;

/** The module each line of a bundle belongs to, from esbuild's comments: starts (0-based line) and paths, in order. */
export function bundleModules(source: string): { starts: number[]; paths: string[] } {
  const starts: number[] = [];
  const paths: string[] = [];
  for (const [i, line] of source.split("\n").entries()) {
    const match = MODULE_COMMENT.exec(line);
    if (match) {
      starts.push(i);
      paths.push(match[1] as string);
    }
  }
  return { starts, paths };
}

function moduleAt(modules: { starts: number[]; paths: string[] }, line: number): string | null {
  let lo = 0;
  let hi = modules.starts.length - 1;
  let found: string | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((modules.starts[mid] as number) <= line) {
      found = modules.paths[mid] as string;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The Worker's request handling in `profile`, in ms counted as ownCpuMs
 * counts them (each sample for the time since the one before, at most
 * `capMs`), given the source of the bundle the profile ran (`scriptId`).
 * Null when the bundle has no module comments (e.g. minified).
 */
export function workerCpuMs(profile: SampledProfile, scriptId: string, source: string, capMs = 1): number | null {
  const modules = bundleModules(source);
  if (modules.starts.length === 0) return null;
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const isWorker = new Map<number, boolean>();
  const workerSample = (leaf: number): boolean => {
    const known = isWorker.get(leaf);
    if (known !== undefined) return known;
    let outermost: number | null = null;
    for (let id: number | undefined = leaf; id !== undefined; id = parents.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame && String(frame.scriptId) === scriptId) outermost = frame.lineNumber;
    }
    const path = outermost === null ? null : moduleAt(modules, outermost);
    const answer = path !== null && WORKER_MODULE.test(path);
    isWorker.set(leaf, answer);
    return answer;
  };
  let ms = 0;
  for (const [i, node] of (profile.samples ?? []).entries())
    if (workerSample(node)) ms += Math.min(capMs, (profile.timeDeltas?.[i] ?? 0) / 1000);
  return ms;
}

/** The script most of the profile's frames are in (the Worker's bundle), or null. */
export function mainScriptId(profile: SampledProfile): string | null {
  const counts = new Map<string, number>();
  for (const node of profile.nodes) {
    const { scriptId, url } = node.callFrame;
    if (scriptId === undefined || !url || url.startsWith("node-internal:")) continue;
    counts.set(String(scriptId), (counts.get(String(scriptId)) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}
