/**
 * What the scale section measures on: `wrangler dev` (the default, with an
 * inspector for heap figures and profiles), or the project's bundle in one
 * workerd or split into three as on the platform (--split; topology.ts).
 */
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { AdminClient } from "../lib/admin-client.ts";
import { makeHttpFetch } from "./http.ts";
import { connectInspector, Inspector } from "./inspector.ts";
import { loadFront, startBenchInstance } from "./instance.ts";
import { InstanceMonitor } from "./monitor.ts";
import type { ProjectCopy } from "./snapshot.ts";
import { RoundTimes } from "./round-times.ts";
import { pinLayout } from "./cpu-pinning.ts";
import { type GcEvent, majorCollections, parseGcLine, type ProcessCollections } from "./gc-trace.ts";
import { processStartMs } from "./proc.ts";
import { bundleWorker, startTopology, type Topology } from "./topology.ts";
import type { BenchContext } from "./types.ts";

/**
 * Where the load went: wrangler's proxy, the Worker's own port behind it
 * (--direct), or a Worker started by the bench in one workerd or split.
 */
export type Front = "proxy" | "direct" | Topology;

export interface ScaleHost {
  /** Where setup and the admin reads go. */
  base: string;
  /** Where the pushes and reads go. */
  front: string;
  /**
   * Where the watcher reads timestamp.json to time "acknowledged → served":
   * the front, or with --split the object's process, the writer's location,
   * where the object's purge reaches the cache (topology.ts).
   */
  served: string;
  via: Front;
  token: string;
  client(repo: string): AdminClient;
  monitor: InstanceMonitor;
  /** The Worker isolate's inspector (wrangler dev only), or null. */
  inspector: Inspector | null;
  /** The publish rounds, from the object's log lines (a bundle the bench started), or null (wrangler dev). */
  rounds: RoundTimes | null;
  /**
   * --trace-gc (a bundle the bench started): the major collections of the
   * object's process between two Date.now() times; else null.
   */
  collections: ((fromMs: number, toMs: number) => ProcessCollections) | null;
  stop(): Promise<void>;
}

/** A host's stop: what watches the instance first, then the instance. */
function stopping(inspector: Inspector | null, monitor: InstanceMonitor, stop: () => Promise<void>) {
  return async () => {
    inspector?.close();
    monitor.stop();
    await stop();
  };
}

export async function wranglerHost(context: BenchContext, project: ProjectCopy, label: string): Promise<ScaleHost> {
  const bench = await startBenchInstance(context, `scale-${label}`, { project });
  const monitor = new InstanceMonitor(bench.instance.port, 200);
  const inspector = await connectInspector(bench.instance.pid, bench.instance.baseUrl);
  // With --direct, the load skips wrangler's proxy; setup and status still go through it.
  const { url: front, via } = await loadFront(bench, context.options.direct);
  return {
    base: bench.instance.baseUrl,
    front,
    served: front,
    via,
    token: bench.token,
    client: (repo) => bench.client(repo),
    monitor,
    inspector,
    rounds: null,
    collections: null,
    stop: stopping(inspector, monitor, () => bench.stop()),
  };
}

/** The bundle of `project`, built once per run for both topologies. */
const bundles = new Map<string, string>();

/** `repo`: a repository whose admin reads wake the object's isolate for its inspector. */
export async function topologyHost(
  context: BenchContext,
  project: ProjectCopy,
  topology: Topology,
  repo: string,
): Promise<ScaleHost> {
  let entry = bundles.get(project.root);
  if (entry === undefined) {
    context.log(`scale (${topology}): bundling ${project.description}`);
    entry = bundleWorker(project.root, await mkdtemp(join(context.options.stateDir, "bundle-")));
    bundles.set(project.root, entry);
  }
  const secrets = project.module.randomSecrets();
  const started = Date.now();
  const rounds = new RoundTimes(performance.timeOrigin);
  const main = topology === "one" ? "all" : "object";
  const gcEvents: GcEvent[] = [];
  const instance = await startTopology(entry, {
    onLog: (line) => rounds.record(line),
    ...(context.options.traceGc
      ? {
          onGcLine: (role: string, line: string) => {
            const event = role === main ? parseGcLine(line) : null;
            if (event) gcEvents.push(event);
          },
        }
      : {}),
    projectRoot: project.root,
    topology,
    persistTo: await mkdtemp(join(context.options.stateDir, `scale-${topology}-`)),
    secrets,
    inspectorPort: await project.module.freePort(),
  });
  const { pids } = instance;
  const pinned = context.options.pin ? pinLayout(pids, context.options.pin) : null;
  if (pinned) context.log(`scale (${topology}): pinned: ${pinned.done}`);
  context.log(
    `scale (${topology}): ready on ${instance.baseUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s (workerd ${Object.entries(
      pids,
    )
      .map(([role, pid]) => `${role} ${pid}`)
      .join(", ")})`,
  );
  const monitor = new InstanceMonitor({ processes: pids as Record<string, number>, main }, 200);
  // The trace's times are ms since each isolate was created, about when its process started.
  const mainPid = pids[main];
  const startedMs = mainPid === undefined ? null : processStartMs(mainPid);
  const collections =
    context.options.traceGc && startedMs !== null
      ? (fromMs: number, toMs: number) => majorCollections(gcEvents, fromMs - startedMs, toMs - startedMs)
      : null;
  const http = makeHttpFetch();
  // The isolate that runs the repository's object: the object's own in the split.
  const wake = () =>
    fetch(`${instance.baseUrl}/${repo}/admin/metrics`, {
      headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}` },
    }).then((r) => r.body?.cancel());
  const inspector = instance.inspector
    ? await Inspector.connect(instance.inspector.port, wake, instance.inspector.worker).catch(() => null)
    : null;
  return {
    base: instance.baseUrl,
    front: instance.baseUrl,
    served: instance.writerUrl,
    via: topology,
    token: secrets.ADMIN_TOKEN,
    client: (name) =>
      new AdminClient({ baseUrl: instance.baseUrl, repo: name, token: secrets.ADMIN_TOKEN, fetch: http }),
    monitor,
    inspector,
    rounds,
    collections,
    stop: stopping(inspector, monitor, () => {
      pinned?.stop();
      return instance.stop();
    }),
  };
}
