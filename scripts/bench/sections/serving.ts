/**
 * (a) Serving: requests/s and latency of GET timestamp.json and of a
 * versioned bin file from tuf-edge under `wrangler dev`, beside the very
 * same bytes from baselines measured in the same run under the same load
 * generator (a separate process):
 *   - plain static file servers: node's http module, nginx if installed;
 *   - a trivial Worker in the same `wrangler dev`, answering from a constant:
 *     what the local runtime costs before tuf-edge does anything.
 * Both the wrangler dev URL (through wrangler's proxy) and the Worker's own
 * port ("direct", no proxy, closer to production) are measured. Last, tuf-edge
 * is restarted on the same state with its isolate's hot copies off
 * (HOT_COPY_BYTES=0): the baseline of that cache, measured direct in the same run.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootstrap, directWorkerUrl, instanceProcesses, startBenchInstance, syntheticTargets } from "../instance.ts";
import { loaderAvailable, loaderVersion, runLoad, type LoadResult } from "../load.ts";
import { cpuSeconds, machineBusySeconds, processTree, reapedChildrenCpuSeconds } from "../proc.ts";
import { startNginx, startNodeStatic } from "../static.ts";
import { ratio } from "../stats.ts";
import { startTrivialWorker } from "../trivial-worker.ts";
import type { BenchContext, Cell, LoaderName, Section, SectionResult, Table } from "../types.ts";
import { defined } from "../../lib/defined.ts";

const REPO = "bench";
/** The served repository: enough targets that a bin is a realistic few KiB. Added in one change. */
const SERVING_BINS = 256;
const SERVING_TARGETS = 10_000;

type Kind = "tuf-edge" | "runtime" | "static";

const HOT_DIRECT = "tuf-edge (workerd direct)";
const COLD_DIRECT = "tuf-edge without hot copies (workerd direct)";

interface Server {
  name: string;
  kind: Kind;
  baseUrl: string;
  /** Processes whose CPU time counts as the server's. */
  pids: () => number[];
}

interface Run {
  loader: LoaderName;
  file: string;
  server: string;
  kind: Kind;
  bytes: number;
  load: LoadResult;
  /** CPU during the measured run, in cores (1 = one core busy all along). */
  serverCores: number | null;
  loaderCores: number;
  /** Everything else on the machine: other users' work competes for the same cores. */
  otherCores: number | null;
}

/** Server CPU milliseconds per answered request. */
function cpuPerRequestMs(run: Run): number | null {
  return run.serverCores === null || run.load.reqPerS <= 0 ? null : (run.serverCores * 1000) / run.load.reqPerS;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function getBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { headers: { "Accept-Encoding": "identity" } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return new Uint8Array(await response.arrayBuffer());
}

export const serving: Section = {
  name: "serving",
  title: "Serving metadata: tuf-edge (wrangler dev) vs static file servers",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const notes: string[] = [];
    const stops: Array<() => Promise<void>> = [];
    try {
      const bench = await startBenchInstance(context, "serving");
      // The instance running now (replaced by one without hot copies for the last runs).
      let current = bench;
      stops.push(() => current.stop());
      const client = bench.client(REPO);

      log(
        `serving: bootstrapping "${REPO}" with ${SERVING_BINS} bins and adding ${SERVING_TARGETS.toLocaleString("en-US")} targets`,
      );
      await bootstrap(client, { bins: SERVING_BINS });
      await client.changeTargets({ add: syntheticTargets(0, SERVING_TARGETS, "") });

      // The files, as tuf-edge serves them.
      const base = bench.instance.baseUrl;
      const timestampBytes = await getBytes(`${base}/${REPO}/metadata/timestamp.json`);
      const timestamp = JSON.parse(new TextDecoder().decode(timestampBytes)) as {
        signed: { meta: Record<string, { version: number }> };
      };
      const snapshotVersion = defined(timestamp.signed.meta["snapshot.json"]).version;
      const snapshot = JSON.parse(
        new TextDecoder().decode(await getBytes(`${base}/${REPO}/metadata/${snapshotVersion}.snapshot.json`)),
      ) as {
        signed: { meta: Record<string, { version: number }> };
      };
      const binVersion = defined(snapshot.signed.meta["bins-00.json"]).version;
      const binName = `${binVersion}.bins-00.json`;
      const binBytes = await getBytes(`${base}/${REPO}/metadata/${binName}`);
      const files = [
        { label: "timestamp.json", path: `/${REPO}/metadata/timestamp.json`, bytes: timestampBytes },
        { label: `${binName} (bin)`, path: `/${REPO}/metadata/${binName}`, bytes: binBytes },
      ];

      // The same bytes, on disk for the static servers.
      const root = await mkdtemp(join(options.workDir, "static-"));
      await mkdir(join(root, REPO, "metadata"), { recursive: true });
      for (const f of files) await writeFile(join(root, f.path), f.bytes);

      const servers: Server[] = [];
      const instancePids = (pids: Array<number | null>) => () => pids.filter((p): p is number => p !== null);
      const edgePids = instancePids([bench.proxyPid, bench.workerPid]);
      servers.push({ name: "tuf-edge (wrangler dev)", kind: "tuf-edge", baseUrl: base, pids: edgePids });
      const direct = await directWorkerUrl(bench.workerPid);
      if (direct) servers.push({ name: HOT_DIRECT, kind: "tuf-edge", baseUrl: direct, pids: edgePids });
      else notes.push("tuf-edge direct: the Worker's own port was not found; only the wrangler dev URL was measured.");

      try {
        const trivial = await startTrivialWorker(
          options.workDir,
          files.map((f) => ({ path: f.path, bytes: f.bytes, contentType: "application/json" })),
          join(context.project.root, "node_modules"),
        );
        stops.push(() => trivial.instance.stop());
        const processes = instanceProcesses(trivial.instance.port);
        const trivialPids = instancePids([processes.proxyPid, processes.workerPid]);
        servers.push({
          name: "trivial Worker (wrangler dev)",
          kind: "runtime",
          baseUrl: trivial.instance.baseUrl,
          pids: trivialPids,
        });
        const trivialDirect = await directWorkerUrl(processes.workerPid, defined(files[0]).path, () => true);
        if (trivialDirect)
          servers.push({
            name: "trivial Worker (workerd direct)",
            kind: "runtime",
            baseUrl: trivialDirect,
            pids: trivialPids,
          });
      } catch (error) {
        notes.push(`trivial Worker: failed to start, skipped: ${(error as Error).message.split("\n")[0]}`);
      }

      const node = await startNodeStatic(root, defined(files[0]).path);
      stops.push(() => node.stop());
      servers.push({
        name: node.name,
        kind: "static",
        baseUrl: node.baseUrl,
        pids: () => (node.pid ? processTree(node.pid) : []),
      });
      if (options.nginx) {
        try {
          const nginx = await startNginx(root, defined(files[0]).path, options.workDir);
          if (nginx) {
            stops.push(() => nginx.stop());
            servers.push({
              name: nginx.name,
              kind: "static",
              baseUrl: nginx.baseUrl,
              pids: () => (nginx.pid ? processTree(nginx.pid) : []),
            });
          } else {
            notes.push("nginx: not installed, skipped (Debian: apt-get install -y nginx-light).");
          }
        } catch (error) {
          notes.push(`nginx: failed to start, skipped: ${(error as Error).message.split("\n")[0]}`);
        }
      } else {
        notes.push("nginx: skipped (--no-nginx).");
      }

      // Every server must give the same bytes before any is measured.
      for (const server of servers) {
        for (const f of files) {
          const got = await getBytes(server.baseUrl + f.path);
          if (sha256(got) !== sha256(f.bytes)) throw new Error(`${server.name} serves other bytes for ${f.path}`);
        }
      }

      const loaders = options.loaders.filter((l) => {
        if (loaderAvailable(l)) return true;
        notes.push(
          `${l}: not installed, skipped${l === "wrk" ? " (Debian: apt-get install -y wrk)" : " (npm install)"}.`,
        );
        return false;
      });
      if (loaders.length === 0) throw new Error("no load generator available");

      const runs: Run[] = [];
      const total = loaders.length * files.length * (servers.length + (direct ? 1 : 0));
      const measure = async (loader: LoaderName, f: (typeof files)[number], server: Server): Promise<void> => {
        const url = server.baseUrl + f.path;
        const load = { url, connections: options.connections, workDir: options.workDir };
        log(`serving [${runs.length + 1}/${total}] ${loader} ${f.label} @ ${server.name}`);
        await runLoad(loader, { ...load, durationS: options.warmupS });
        const pids = server.pids();
        const serverCpu = () => pids.reduce((s, p) => s + cpuSeconds(p), 0);
        const before = {
          server: serverCpu(),
          loader: reapedChildrenCpuSeconds(),
          machine: machineBusySeconds(),
          self: process.cpuUsage(),
        };
        const result = await runLoad(loader, { ...load, durationS: options.durationS });
        const self = process.cpuUsage(before.self);
        // A server process that went away (a restart) makes its CPU figure meaningless.
        const gone = pids.some((p) => !existsSync(`/proc/${p}`));
        const server_ = serverCpu() - before.server;
        const loader_ = reapedChildrenCpuSeconds() - before.loader;
        const machine = machineBusySeconds() - before.machine;
        const seconds = result.durationS;
        const run: Run = {
          loader,
          file: f.label,
          server: server.name,
          kind: server.kind,
          bytes: f.bytes.length,
          load: result,
          serverCores: gone ? null : server_ / seconds,
          loaderCores: loader_ / seconds,
          otherCores: gone
            ? null
            : Math.max(0, machine - server_ - loader_ - (self.user + self.system) / 1e6) / seconds,
        };
        runs.push(run);
        log(
          `  → ${result.reqPerS.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; CPU cores: server ${run.serverCores?.toFixed(2) ?? "?"}, loader ${run.loaderCores.toFixed(2)}, others ${run.otherCores?.toFixed(2) ?? "?"}; failures ${result.failures}`,
        );
        if (gone)
          notes.push(`${loader} ${f.label} @ ${server.name}: a server process went away during the run (restarted?).`);
        if (result.failures > 0)
          notes.push(
            `${loader} ${f.label} @ ${server.name}: ${result.failures} failed requests (non-2xx, errors or timeouts) of ${result.requests}.`,
          );
      };
      for (const loader of loaders) {
        for (const f of files) {
          for (const server of servers) await measure(loader, f, server);
        }
      }

      // The baseline of the isolate's hot copies, in the same run: tuf-edge restarted on the
      // very same state with HOT_COPY_BYTES=0, so every request looks up the edge cache.
      if (direct) {
        log("serving: restarting tuf-edge on the same state with hot copies off (HOT_COPY_BYTES=0)");
        await current.stop();
        current = await startBenchInstance(context, "serving", { stateOf: bench, vars: { HOT_COPY_BYTES: "0" } });
        const coldDirect = await directWorkerUrl(current.workerPid);
        if (!coldDirect) notes.push("tuf-edge without hot copies: the Worker's own port was not found; not measured.");
        else {
          const cold: Server = {
            name: COLD_DIRECT,
            kind: "tuf-edge",
            baseUrl: coldDirect,
            pids: instancePids([current.proxyPid, current.workerPid]),
          };
          for (const f of files) {
            if (sha256(await getBytes(cold.baseUrl + f.path)) !== sha256(f.bytes))
              throw new Error(`${cold.name} serves other bytes for ${f.path}`);
          }
          servers.push(cold);
          for (const loader of loaders) {
            for (const f of files) await measure(loader, f, cold);
          }
        }
      }
      const busiest = Math.max(...runs.map((r) => r.otherCores ?? 0));
      if (busiest > 0.25) {
        notes.push(
          `Other processes on this machine used up to ${busiest.toFixed(2)} cores during some runs (column "others"): those figures are depressed; compare rows measured under similar load.`,
        );
      }

      const results: Table = {
        title: `Serving: ${options.durationS} s per run after ${options.warmupS} s warm-up, ${options.connections} connections, load generator in its own process`,
        columns: [
          { header: "loader", align: "left" },
          { header: "file", align: "left" },
          { header: "server", align: "left" },
          { header: "bytes" },
          { header: "req/s", digits: 0 },
          { header: "p50 ms", digits: 2 },
          { header: "p99 ms", digits: 2 },
          { header: "CPU server", digits: 2 },
          { header: "server CPU ms/req", digits: 3 },
          { header: "CPU loader", digits: 2 },
          { header: "CPU others", digits: 2 },
          { header: "failed" },
        ],
        rows: runs.map((r) => [
          r.loader,
          r.file,
          r.server,
          r.bytes,
          r.load.reqPerS,
          r.load.p50Ms,
          r.load.p99Ms,
          r.serverCores,
          cpuPerRequestMs(r),
          r.loaderCores,
          r.otherCores,
          r.load.failures,
        ]),
        notes: [
          `Loaders: ${loaders.map(loaderVersion).join(", ")}${loaders.includes("autocannon") ? " (autocannon records latency in whole milliseconds)" : ""}.`,
          `Served repository: ${SERVING_BINS} bins, ${SERVING_TARGETS.toLocaleString("en-US")} targets; every server serves the bytes copied from tuf-edge (checked by SHA-256).`,
          "wrangler dev: through wrangler's proxy workerd to the Worker's workerd; workerd direct: the Worker's own port, no proxy (closer to production). CPU server counts both workerd processes.",
          "trivial Worker: a Worker in the same wrangler dev answering with the same bytes from a constant (the local runtime's own cost).",
          "tuf-edge without hot copies: the same Worker and state restarted with HOT_COPY_BYTES=0, so every request looks up the edge cache (the baseline of the isolate's copies).",
          `CPU columns: cores used during the measured run (1.00 = one core busy) by the server, the load generator, and every other process on the ${context.machineCores}-core machine.`,
          "server CPU ms/req: the server's CPU time per answered request; unlike req/s it hardly moves when other processes compete for the cores.",
          "nginx runs one worker process, node:http one process.",
        ],
      };
      const ratioRows: Cell[][] = [];
      for (const loader of loaders) {
        for (const f of files) {
          const of = (name: string) => runs.find((r) => r.loader === loader && r.file === f.label && r.server === name);
          for (const edge of servers.filter((s) => s.kind === "tuf-edge")) {
            const sameRoute = edge.name.includes("direct") ? "direct" : "wrangler dev";
            const baselines = servers.filter(
              (s) =>
                s.kind === "static" ||
                (s.kind === "runtime" && s.name.includes(sameRoute)) ||
                (edge.name === HOT_DIRECT && s.name === COLD_DIRECT),
            );
            for (const baseline of baselines) {
              const a = of(edge.name);
              const b = of(baseline.name);
              if (!a || !b) continue;
              ratioRows.push([
                loader,
                f.label,
                edge.name,
                baseline.name,
                ratio(a.load.reqPerS, b.load.reqPerS),
                ratio(a.load.p99Ms, b.load.p99Ms),
                ratio(cpuPerRequestMs(a) ?? Number.NaN, cpuPerRequestMs(b) ?? Number.NaN),
              ]);
            }
          }
        }
      }
      const ratios: Table = {
        title: "Serving ratios: tuf-edge ÷ baseline (same run, same loader)",
        columns: [
          { header: "loader", align: "left" },
          { header: "file", align: "left" },
          { header: "tuf-edge", align: "left" },
          { header: "baseline", align: "left" },
          { header: "req/s ratio", digits: 3 },
          { header: "p99 ratio", digits: 2 },
          { header: "CPU/req ratio", digits: 1 },
        ],
        rows: ratioRows,
        notes: [
          "req/s ratio < 1: tuf-edge serves fewer requests per second; p99 ratio > 1: its slowest 1% are slower; CPU/req ratio: how many times the server CPU per request tuf-edge spends.",
        ],
      };
      return {
        tables: [results, ratios],
        notes,
        data: {
          repository: { bins: SERVING_BINS, targets: SERVING_TARGETS },
          files: files.map((f) => ({ label: f.label, path: f.path, bytes: f.bytes.length, sha256: sha256(f.bytes) })),
          servers: servers.map((s) => ({ name: s.name, kind: s.kind })),
          loaders: loaders.map((l) => ({ name: l, version: loaderVersion(l) })),
          runs: runs.map((r) => ({
            loader: r.loader,
            file: r.file,
            server: r.server,
            kind: r.kind,
            bytes: r.bytes,
            reqPerS: r.load.reqPerS,
            p50Ms: r.load.p50Ms,
            p99Ms: r.load.p99Ms,
            meanMs: r.load.meanMs,
            requests: r.load.requests,
            failures: r.load.failures,
            cpuCores: { server: r.serverCores, loader: r.loaderCores, others: r.otherCores },
            serverCpuMsPerRequest: cpuPerRequestMs(r),
            durationS: r.load.durationS,
            raw: r.load.raw,
          })),
          ratios: ratioRows.map(([loader, file, edge, baseline, rps, p99, cpu]) => ({
            loader,
            file,
            tufEdge: edge,
            baseline,
            reqPerSRatio: rps,
            p99Ratio: p99,
            cpuPerRequestRatio: cpu,
          })),
        },
      };
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    }
  },
};
