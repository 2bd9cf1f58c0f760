/**
 * The Worker's V8 inspector, as `wrangler dev --inspector-port` exposes it
 * (Chrome DevTools Protocol over a WebSocket): CPU profiles of the isolate
 * that runs the Worker and its Durable Objects, and its heap usage.
 */
import { commandOf } from "./proc.ts";

interface CdpMessage {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { message: string };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; scriptId?: string | number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time per function, heaviest first: what a flame graph's bottom row shows. */
export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** A sampling heap profile (HeapProfiler.stopSampling): bytes allocated by each stack, sampled. */
export interface AllocationProfile {
  head: AllocationNode;
}

export interface AllocationNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  /** Bytes allocated by this frame itself (sampled, scaled to the whole). */
  selfSize: number;
  children: AllocationNode[];
}

export interface HeapUsage {
  usedBytes: number;
  totalBytes: number;
}

export class Inspector {
  readonly #socket: WebSocket;
  readonly #wake: () => Promise<unknown>;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Listeners of the inspector's events (messages without an id), by method. */
  readonly #listeners = new Map<string, (params: unknown) => void>();

  private constructor(socket: WebSocket, wake: () => Promise<unknown>) {
    this.#socket = socket;
    this.#wake = wake;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as CdpMessage;
      if (message.id === undefined) {
        if (message.method) this.#listeners.get(message.method)?.(message.params);
        return;
      }
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
  }

  /**
   * Connects to the first Worker the inspector at `port` lists (or the one
   * whose debugger URL ends with `worker`, a Worker's name). workerd handles
   * inspector messages only when the isolate wakes up: `wake` (e.g. a GET of
   * the Worker's /health) is called while an answer is awaited.
   */
  static async connect(port: number, wake: () => Promise<unknown>, worker?: string): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{
      webSocketDebuggerUrl?: string;
    }>;
    const url = targets.find(
      (t) => t.webSocketDebuggerUrl && (worker === undefined || t.webSocketDebuggerUrl.endsWith(`:${worker}`)),
    )?.webSocketDebuggerUrl;
    if (!url) throw new Error(`the inspector on port ${port} lists no Worker${worker ? ` named ${worker}` : ""}`);
    // wrangler's inspector proxy wants an Origin it allows (as DevTools sends); Node's WebSocket takes headers.
    const socket = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
    });
    return new Inspector(socket, wake);
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    const done = new Promise<T>((resolve, reject) =>
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject }),
    );
    this.#socket.send(JSON.stringify({ id, method, params }));
    let answered = false;
    void (async () => {
      while (!answered) {
        await new Promise((r) => setTimeout(r, 50));
        if (!answered) await this.#wake().catch(() => undefined);
      }
    })();
    return done.finally(() => {
      answered = true;
    });
  }

  async startProfile(intervalUs = 500): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  async stopProfile(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>("Profiler.stop");
    return profile;
  }

  /** The source of a script the isolate runs (e.g. the Worker's bundle, for profile-sides.ts). */
  async scriptSource(scriptId: string): Promise<string> {
    await this.send("Debugger.enable");
    try {
      const { scriptSource } = await this.send<{ scriptSource: string }>("Debugger.getScriptSource", { scriptId });
      return scriptSource;
    } finally {
      await this.send("Debugger.disable").catch(() => undefined);
    }
  }

  /** The isolate's V8 heap after a full garbage collection. */
  async heapUsage(): Promise<HeapUsage> {
    await this.send("HeapProfiler.enable").catch(() => undefined);
    await this.send("HeapProfiler.collectGarbage").catch(() => undefined);
    const usage = await this.send<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage");
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  }

  /**
   * A heap snapshot of the isolate (V8's .heapsnapshot JSON, as DevTools
   * saves it), taken after a full collection: what the live heap holds.
   */
  async heapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.#listeners.set("HeapProfiler.addHeapSnapshotChunk", (params) => {
      chunks.push((params as { chunk: string }).chunk);
    });
    try {
      await this.send("HeapProfiler.enable").catch(() => undefined);
      await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false });
    } finally {
      this.#listeners.delete("HeapProfiler.addHeapSnapshotChunk");
    }
    return chunks.join("");
  }

  /**
   * Starts V8's sampling heap profiler: an allocation about every
   * `intervalBytes` is recorded with its stack, those the collector has
   * since freed included (what churns, not only what stays).
   */
  async startAllocationSampling(intervalBytes = 16_384): Promise<void> {
    await this.send("HeapProfiler.enable").catch(() => undefined);
    await this.send("HeapProfiler.startSampling", {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  /** Stops the sampling heap profiler: the sampled allocations by stack (DevTools' .heapprofile). */
  async stopAllocationSampling(): Promise<AllocationProfile> {
    const { profile } = await this.send<{ profile: AllocationProfile }>("HeapProfiler.stopSampling");
    return profile;
  }

  /**
   * Reads heapUsage() (a full collection, then the heap) every `intervalMs`
   * until stop(), which returns the largest live heap seen: what the work
   * under way keeps between its events (files in flight, caches), against
   * the platform's 128 MB per isolate. Locally V8 has no such limit and
   * collects lazily, so the heap allocated without a collection says little.
   * The inspector answers between the isolate's events: what one
   * synchronous block allocates and drops is not seen. Each reading costs
   * the isolate a full collection (milliseconds at these sizes).
   */
  sampleHeap(intervalMs = 1000): { stop: () => Promise<HeapPeak> } {
    const peak: HeapPeak = { usedBytes: 0, samples: 0 };
    let running = true;
    const loop = (async () => {
      while (running) {
        const usage = await this.heapUsage().catch(() => null);
        if (usage) {
          peak.usedBytes = Math.max(peak.usedBytes, usage.usedBytes);
          peak.samples++;
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
    return {
      // Stopping twice is stopping once: both get the same peak.
      stop: async () => {
        running = false;
        await loop;
        return peak;
      },
    };
  }

  close(): void {
    this.#socket.close();
  }
}

/** The largest live heap a sampler saw (Inspector.sampleHeap), and how many readings it took. */
export interface HeapPeak {
  usedBytes: number;
  samples: number;
}

/** The profile's self time by function, heaviest first (idle and the profiler's own nodes left out). */
export function hotFunctions(profile: CpuProfile, limit = 25): { busyMs: number; functions: HotFunction[] } {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (const [i, node] of samples.entries()) byNode.set(node, (byNode.get(node) ?? 0) + (deltas[i] ?? 0) / 1000);
  const totals = new Map<string, HotFunction>();
  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);
  let busyMs = 0;
  for (const node of profile.nodes) {
    const ms = byNode.get(node.id) ?? 0;
    const { functionName, url } = node.callFrame;
    // A native (SQL, R2, cache, crypto) is named with the script function that called it.
    let caller = node;
    while (!caller.callFrame.url && parents.has(caller.id)) caller = parents.get(caller.id) as ProfileNode;
    const lineNumber = caller.callFrame.lineNumber;
    if (functionName === "(idle)" || functionName === "(program)" || functionName === "(garbage collector)") {
      if (functionName !== "(idle)") busyMs += ms;
      if (functionName === "(idle)") continue;
    } else busyMs += ms;
    const name =
      !url && caller !== node
        ? `${functionName || "(native)"} ← ${caller.callFrame.functionName || "(anonymous)"}`
        : functionName || "(anonymous)";
    const callerUrl = caller.callFrame.url;
    const where = callerUrl ? `${callerUrl.split("/").slice(-2).join("/")}:${lineNumber + 1}` : "";
    const key = `${name} ${where}`;
    const entry = totals.get(key) ?? { name, where, selfMs: 0, share: 0 };
    entry.selfMs += ms;
    totals.set(key, entry);
  }
  const functions = [...totals.values()]
    .map((f) => ({ ...f, share: busyMs > 0 ? f.selfMs / busyMs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit);
  return { busyMs, functions };
}

/**
 * The isolate's own CPU in `profile`, in ms: each sample but idle counts for
 * the time since the sample before it, at most `capMs` (twice the 0.5 ms
 * sampling interval by default). A longer gap between two samples is time
 * the thread spent outside this isolate (the local R2 and cache simulators'
 * isolates, I/O, or waiting for a core on a loaded machine), which the busy
 * time of hotFunctions counts toward the sample after it.
 */
export function ownCpuMs(profile: CpuProfile, capMs = 1): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let ms = 0;
  for (const [i, node] of (profile.samples ?? []).entries())
    if (!idle.has(node)) ms += Math.min(capMs, (profile.timeDeltas?.[i] ?? 0) / 1000);
  return ms;
}

/** The inspector port wrangler was started with (from its command line), or null. */
export function inspectorPort(pid: number | undefined): number | null {
  const match = pid === undefined ? null : /--inspector-port\s+(\d+)/.exec(commandOf(pid));
  return match ? Number(match[1]) : null;
}

/**
 * The inspector of the Worker's isolate of the `wrangler dev` whose process is
 * `pid`, or null if it has none or will not connect (the figures it gives are
 * then left out). `baseUrl` is asked for /health to make the isolate start.
 */
export async function connectInspector(pid: number | undefined, baseUrl: string): Promise<Inspector | null> {
  const port = inspectorPort(pid);
  if (port === null) return null;
  return Inspector.connect(port, () => fetch(`${baseUrl}/health`).then((r) => r.body?.cancel())).catch(() => null);
}
