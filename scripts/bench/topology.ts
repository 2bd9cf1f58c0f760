/**
 * tuf-edge as the platform lays it out, on this machine: the Worker, the
 * repository's Durable Object and R2 each in a workerd process of its own
 * (`split`), against the same bundle in one workerd (`one`, what `wrangler
 * dev` runs: every isolate and the local R2 and cache simulators on one
 * thread). Both are started through Miniflare, the library `wrangler dev`
 * drives, with the bindings `wrangler.toml` declares.
 *
 * In `split`:
 *   - the storage process owns the R2 bucket; the other two reach it through
 *     Miniflare's shared storage (the dev registry), as remote R2 would be;
 *   - the object process runs the bundle's Durable Objects, and a gateway
 *     entrypoint whose `getByName(name)` hands back the repository's stub;
 *   - the Worker process serves HTTP. Its REPOSITORY binding is the gateway
 *     (a service binding across processes): across processes the dev
 *     registry addresses an object by its id alone, and a Repository needs
 *     its name (`ctx.id.name`), which a name-addressed stub carries on the
 *     platform. The Worker's `env.REPOSITORY.getByName(repo).method(…)`
 *     then reaches the gateway, and the gateway the object in its own
 *     process: one local hop the platform does not have. (Before e987aa2 a
 *     forwarding Durable Object in the Worker's process made a second one.)
 *     The binding is the gateway's own socket, which speaks RPC (an external
 *     service; Miniflare's direct sockets take Cap'n Proto over HTTP
 *     CONNECT), so no JavaScript of Miniflare's dev registry runs in the
 *     Worker's process for each call. Until 2026-12-05 it did (a proxy
 *     Worker in front of the binding), and the gateway forwarded each call
 *     through a Proxy, which RPC over that socket does not take: the
 *     gateway now has one method per method of the object, read from the
 *     project copy's `durable-objects/repository.ts`.
 * The site-documents queue (the pages' target documents, wrangler.toml)
 * lives in the object's process: the object sends to it and the same
 * bundle's Worker there consumes it, on the object's thread. On the
 * platform the consumers run wherever the queue starts them.
 * The Worker's Cache API and its isolate's copies of hot files stay in the
 * Worker's process: the object's purge of timestamp.json cannot reach them, as
 * on the platform it reaches neither other isolates nor other locations. The
 * object's process also serves HTTP (`writerUrl`, the same bundle's Worker in
 * the object's isolate): there the purge does reach, as in the writer's own
 * location, so "acknowledged → served" is timed there.
 *
 * Requests reach tuf-edge's Worker on its own socket (Miniflare's direct
 * sockets: `baseUrl` and `writerUrl`), not through Miniflare's entry Worker,
 * a JavaScript router in front of each instance's requests that the
 * platform does not have. Until 2026-12-05 every push and read went through
 * it. It was not the Worker process's main cost: that process took 177.5
 * and 190.3 µs of CPU per target pushed in two runs through it, 168.8 and
 * 171.8 µs in two without it, of which the tuf-edge isolate's own about 31
 * µs (a profile of that process). The dev registry's proxy Worker was: with
 * the gateway's own socket instead, 73.8–117.5 µs in seven runs
 * (docs/measured.md, "Whose pauses stop the object's thread" and "The
 * gateway on its own socket").
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { workerdPids } from "./proc.ts";

/** The Miniflare (and so the workerd) that the project's wrangler itself drives. */
async function wranglersMiniflare(): Promise<typeof import("miniflare")> {
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler"));
  return import(pathToFileURL(fromWrangler.resolve("miniflare")).href);
}

export type Topology = "one" | "split";

export interface TopologyInstance {
  baseUrl: string;
  /**
   * The HTTP entry of the process that runs the repository's object (in
   * `one`, baseUrl): the writer's location, where the object's purge of
   * timestamp.json reaches the cache and the isolate's copy.
   */
  writerUrl: string;
  /** The inspector of the process that runs the repository's object ("all" in `one`, "object" in `split`), if asked for. */
  inspector: { port: number; worker: string } | null;
  /** The workerd processes by what they run ("all" in `one`). */
  pids: Partial<Record<"all" | "worker" | "object" | "storage", number>>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** The project copy whose wrangler.toml and code run. */
  projectRoot: string;
  topology: Topology;
  persistTo: string;
  secrets: Record<string, string>;
  /** Overrides of wrangler.toml's [vars]. */
  vars?: Record<string, string>;
  /** A port for the inspector of the process that runs the repository's object (profiles, heap). */
  inspectorPort?: number;
  /** Called with each structured log line of the Workers (src/structured-log.ts), parsed; other lines are dropped. */
  onLog?: (line: Record<string, unknown>) => void;
  /**
   * If given, workerd runs with V8's --trace-gc-nvp (a line per collection
   * that names V8's phases), and each line it prints is given here with the
   * process it came from (gc-trace.ts reads them).
   */
  onGcLine?: (role: keyof TopologyInstance["pids"], line: string) => void;
}

/** A structured log line's fields, or null for any other line. */
function parseLogLine(message: string): Record<string, unknown> | null {
  if (!message.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const OBJECT_SCRIPT = "tuf-edge-object";
const GATEWAY_SCRIPT = "tuf-edge-gateway";

/**
 * The names of the repository object's public methods, read from the
 * project copy's source (`durable-objects/repository.ts`): the gateway
 * forwards each by name.
 */
function repositoryMethods(projectRoot: string): string[] {
  const source = readFileSync(join(projectRoot, "durable-objects/repository.ts"), "utf8");
  const names = [...source.matchAll(/^ {2}(?:async )?([a-zA-Z]\w*)\(/gm)].map((m) => m[1] as string);
  return [...new Set(names)].filter((name) => name !== "constructor");
}

/**
 * In the object's process: `getByName(name)` answers the Worker's
 * `env.REPOSITORY.getByName(repo)` with an RPC target that calls the
 * repository's own stub, one method for each of the object's.
 */
const gateway = (methods: readonly string[]) => `import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
class Repository extends RpcTarget {
  #stub;
  constructor(stub) { super(); this.#stub = stub; }
${methods.map((m) => `  ${m}(...args) { return this.#stub.${m}(...args); }`).join("\n")}
}
export class Gateway extends WorkerEntrypoint {
  getByName(name) {
    return new Repository(this.env.REPOSITORY.getByName(name));
  }
}
export default { fetch: () => new Response(null, { status: 404 }) };`;

/** Bundles the project copy's Worker as `wrangler deploy` would (its [build] step included); returns the entry file. */
export function bundleWorker(projectRoot: string, outDir: string): string {
  execFileSync(join(projectRoot, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outDir], {
    cwd: projectRoot,
    // wrangler and the [build] command need this Node, not the system's.
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_LOG: "error",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return join(outDir, "index.js");
}

/** Starts the bundle `entry` in `options.topology`; resolves once the Worker answers. */
export async function startTopology(entry: string, options: TopologyOptions): Promise<TopologyInstance> {
  const { Miniflare, convertV4MiniflareOptions } = await wranglersMiniflare();
  // Read quietly: the secrets wrangler.toml requires are given below, not from .dev.vars or the environment.
  const logLevel = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  const { workerOptions: config } = unstable_getMiniflareWorkerOptions(join(options.projectRoot, "wrangler.toml"));
  if (logLevel === undefined) delete process.env.WRANGLER_LOG;
  else process.env.WRANGLER_LOG = logLevel;
  // The bench drives every event itself; wrangler's module rules do not apply to a finished bundle.
  const {
    cronTriggers: _crons,
    modulesRules: _rules,
    ...base
  } = config as typeof config & {
    cronTriggers?: unknown;
    modulesRules?: unknown;
  };
  const code = {
    ...base,
    scriptPath: entry,
    modules: true,
    modulesRoot: dirname(entry),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
  const bindings = { ...(base.bindings ?? {}), ...(options.vars ?? {}), ...options.secrets };
  const compatibilityDate = base.compatibilityDate;
  const shared = {
    host: "127.0.0.1",
    port: 0,
    resourcePersistencePath: options.persistTo,
    ...(options.topology === "split" ? { unsafeDevRegistryPath: join(options.persistTo, "registry") } : {}),
  };
  const started: InstanceType<typeof Miniflare>[] = [];
  const pids: TopologyInstance["pids"] = {};
  // Each Miniflare starts one workerd: it is the one that was not there before.
  const start = async (role: keyof TopologyInstance["pids"], workers: Record<string, unknown>[]) => {
    const before = new Set(workerdPids());
    const inspect = options.inspectorPort !== undefined && (role === "all" || role === "object");
    const converted = convertV4MiniflareOptions({
      ...shared,
      // The Workers' own log lines (a line per request and round) are not the bench's output; the caller may
      // read them. Miniflare hands on workerd's other stdout lines (V8's --trace-gc) as messages too.
      handleStructuredLogs: ({ message }: { message: string }) => {
        const line = options.onLog ? parseLogLine(message) : null;
        if (line) options.onLog?.(line);
        else if (options.onGcLine && message.startsWith("[")) options.onGcLine(role, message);
      },
      ...(inspect ? { inspectorPort: options.inspectorPort } : {}),
      workers,
    } as never);
    // Not carried over by the conversion: R2 of every process served by the first that owns it (the storage
    // process). What Miniflare does not share (the Durable Objects' storage, the Cache API) stays in a folder
    // per process.
    if (options.topology === "split")
      Object.assign(converted, {
        unsafeEnableSharedStorage: true,
        isolatedResourcePersistencePath: join(options.persistTo, role),
      });
    // Miniflare reads workerd's V8 flags from its environment when it writes workerd's config.
    const flags = process.env.MINIFLARE_WORKERD_V8_FLAGS;
    if (options.onGcLine) process.env.MINIFLARE_WORKERD_V8_FLAGS = [flags, "--trace-gc-nvp"].filter(Boolean).join(" ");
    const mf = new Miniflare(converted);
    started.push(mf);
    const url = await mf.ready.finally(() => {
      if (flags === undefined) delete process.env.MINIFLARE_WORKERD_V8_FLAGS;
      else process.env.MINIFLARE_WORKERD_V8_FLAGS = flags;
    });
    const pid = workerdPids().find((p) => !before.has(p));
    if (pid !== undefined) pids[role] = pid;
    // The first Worker's own socket (a direct socket): requests reach it without Miniflare's entry Worker,
    // a JavaScript router in front of every request that the platform does not have.
    const first = workers[0] as { name?: string; unsafeDirectSockets?: unknown } | undefined;
    return first?.unsafeDirectSockets ? mf.unsafeGetDirectURL(first.name) : url;
  };
  const inspectorOf = (worker: string) =>
    options.inspectorPort === undefined ? null : { port: options.inspectorPort, worker };
  const stop = async () => {
    for (const mf of started.reverse()) await mf.dispose().catch(() => undefined);
  };
  try {
    if (options.topology === "one") {
      const url = await start("all", [{ ...code, name: "tuf-edge", bindings }]);
      return { baseUrl: url.origin, writerUrl: url.origin, pids, stop, inspector: inspectorOf("tuf-edge") };
    }
    const stub = (name: string, script: string, extra: Record<string, unknown>) => ({
      name,
      modules: true,
      compatibilityDate,
      script,
      ...extra,
    });
    await start("storage", [
      stub("tuf-edge-storage", "export default { fetch: () => new Response(null) };", { r2Buckets: base.r2Buckets }),
    ]);
    const writer = await start("object", [
      { ...code, name: OBJECT_SCRIPT, bindings },
      stub(GATEWAY_SCRIPT, gateway(repositoryMethods(options.projectRoot)), {
        durableObjects: { REPOSITORY: { className: "Repository", scriptName: OBJECT_SCRIPT } },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0, entrypoint: "Gateway" }],
      }),
    ]);
    // The gateway's own socket, which speaks RPC (Cap'n Proto over HTTP CONNECT): the Worker's process calls it
    // directly, with no Miniflare proxy Worker of the dev registry in between.
    const gatewayUrl = await started.at(-1)?.unsafeGetDirectURL(GATEWAY_SCRIPT, "Gateway");
    if (!gatewayUrl) throw new Error("the gateway's socket was not found");
    const { REPOSITORY: _, ...objects } = base.durableObjects as Record<string, unknown>;
    // The site-documents queue is the object's process's own: its object sends, its Worker consumes (Miniflare's
    // queues do not cross processes), so the Worker's process consumes nothing.
    const { queueConsumers: _consumers, ...workerCode } = code as typeof code & { queueConsumers?: unknown };
    const url = await start("worker", [
      {
        ...workerCode,
        name: "tuf-edge",
        bindings,
        durableObjects: objects,
        serviceBindings: {
          ...(base.serviceBindings ?? {}),
          REPOSITORY: { external: { address: gatewayUrl.host, http: {} } },
        },
      },
    ]);
    return { baseUrl: url.origin, writerUrl: writer.origin, pids, stop, inspector: inspectorOf(OBJECT_SCRIPT) };
  } catch (error) {
    await stop();
    throw error;
  }
}
