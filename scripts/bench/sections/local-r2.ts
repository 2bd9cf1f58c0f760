/**
 * (o) The local R2 simulator's cost: what one R2 operation costs the thread
 * of the local workerd that runs tuf-edge's Worker, its Durable Object and
 * the R2 and cache simulators. On the platform R2 is remote and a write
 * costs the object a subrequest's wait, not its thread's CPU; here it costs
 * both, so a publish round's writes set how busy the one thread is (issue 17:
 * the acknowledgement and time-to-served goals). A probe Worker of the
 * bench's own, in the same `wrangler dev` with its state where the
 * instances' state goes, makes `count` R2 calls in one request, of the sizes
 * tuf-edge's files have; the bench reads the workerd process's CPU time
 * (utime + stime in /proc) before and after each request.
 */
import { join } from "node:path";
import { defined } from "../../lib/defined.ts";
import { directWorkerUrl, instanceProcesses } from "../instance.ts";
import { cpuSeconds } from "../proc.ts";
import { startScratchWorker } from "../scratch-worker.ts";
import { percentile } from "../stats.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

/** Requests per case; each case's figure is their median. */
const REPEATS = 3;

/** Makes `count` R2 calls of one kind, `concurrency` at a time, on keys `<run>/<i>`; a body of `bytes` for puts. */
const PROBE = `export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const kind = q.get("kind");
    const count = Number(q.get("count") ?? 0);
    const concurrency = Math.max(1, Number(q.get("concurrency") ?? 1));
    const run = q.get("run") ?? "r";
    const body = new Uint8Array(Number(q.get("bytes") ?? 0));
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    // Each put carries the SHA-256 R2 checks, as tuf-edge's do (computed once: the probe's own work stays small).
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const keys = Array.from({ length: count }, (_, i) => run + "/" + i);
    if (kind === "delete") {
      for (let i = 0; i < keys.length; i += 1000) await env.BUCKET.delete(keys.slice(i, i + 1000));
    } else if (kind === "put" || kind === "get") {
      let next = 0;
      const lane = async () => {
        while (next < count) {
          const key = keys[next++];
          if (kind === "put") await env.BUCKET.put(key, body, { sha256, customMetadata: { sha256 } });
          else await (await env.BUCKET.get(key))?.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
    }
    return new Response("ok");
  },
};
`;

interface Case {
  label: string;
  kind: "put" | "get" | "delete" | "none";
  bytes: number;
  count: number;
  concurrency?: number;
  /** The keys of an earlier case to read or delete (its run name). */
  keysOf?: string;
  run: string;
}

/** tuf-edge's file sizes: a page document (69 B), a pack of one bin (454 B), a level-0 tile, an entry bundle, a snapshot at 16,384 bins. */
function cases(quick: boolean): Case[] {
  const n = (count: number) => (quick ? Math.max(5, Math.round(count / 4)) : count);
  return [
    { label: "a request that makes no R2 call", kind: "none", bytes: 0, count: n(200), run: "none" },
    { label: "put 69 B (a page document)", kind: "put", bytes: 69, count: n(200), run: "p69" },
    { label: "put 454 B (a pack of one bin)", kind: "put", bytes: 454, count: n(200), run: "p454" },
    { label: "put 454 B, 16 at a time", kind: "put", bytes: 454, count: n(200), concurrency: 16, run: "p454c" },
    { label: "put 8 KiB (a log tile)", kind: "put", bytes: 8_192, count: n(200), run: "p8k" },
    { label: "put 42 KiB (an entry bundle)", kind: "put", bytes: 42_752, count: n(100), run: "p42k" },
    { label: "put 496 KiB (a snapshot, 16,384 bins)", kind: "put", bytes: 508_271, count: n(20), run: "p496k" },
    { label: "get 454 B", kind: "get", bytes: 0, count: n(200), keysOf: "p454", run: "g454" },
    { label: "delete 1,000 keys in one call", kind: "delete", bytes: 0, count: 1_000, keysOf: "pdel", run: "d" },
  ];
}

export const localR2: Section = {
  name: "local-r2",
  title: "The local R2 simulator: workerd CPU per R2 operation, by size",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    log("local-r2: starting the probe Worker");
    const probe = await startScratchWorker(
      options.stateDir,
      {
        name: "r2-probe",
        script: PROBE,
        toml: '[[r2_buckets]]\nbinding = "BUCKET"\nbucket_name = "r2-probe"\n',
      },
      join(context.project.root, "node_modules"),
    );
    try {
      const { workerPid } = instanceProcesses(probe.instance.port);
      const pid = defined(workerPid, "probe's workerd process");
      const base = (await directWorkerUrl(pid, "/?kind=none", (body) => body === "ok")) ?? probe.instance.baseUrl;
      const call = async (query: Record<string, string | number>) => {
        const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
        const response = await fetch(`${base}/?${params}`);
        if ((await response.text()) !== "ok") throw new Error(`the probe answered ${response.status}`);
      };
      // The keys the delete case removes: 1,000 small objects, stored once (not measured).
      await call({ kind: "put", bytes: 69, count: 1_000, concurrency: 16, run: "pdel-0" });
      await call({ kind: "put", bytes: 16, count: 2, run: "warm" });

      const rows: Array<{ label: string; cpuMs: number; wallMs: number; ops: number }> = [];
      for (const c of cases(options.quick)) {
        const cpu: number[] = [];
        const wall: number[] = [];
        for (let i = 0; i < (c.kind === "delete" ? 1 : REPEATS); i++) {
          const run = c.keysOf ? `${c.keysOf}-${c.kind === "delete" ? i : 0}` : `${c.run}-${i}`;
          const requests = c.kind === "none" ? c.count : 1;
          const before = cpuSeconds(pid);
          const t0 = performance.now();
          for (let r = 0; r < requests; r++)
            await call({
              kind: c.kind,
              bytes: c.bytes,
              count: c.kind === "none" ? 0 : c.count,
              concurrency: c.concurrency ?? 1,
              run,
            });
          wall.push((performance.now() - t0) / c.count);
          cpu.push(((cpuSeconds(pid) - before) * 1000) / c.count);
        }
        rows.push({ label: c.label, cpuMs: percentile(cpu, 50), wallMs: percentile(wall, 50), ops: c.count });
        log(`  ${c.label}: ${percentile(cpu, 50).toFixed(2)} ms CPU per operation`);
      }

      // A publish round at 100 targets/s offered and 16,384 bins stores about 10 packs of one bin, 10 page
      // documents, a snapshot, and three small files (timestamp, checkpoint, status): docs/measured.md, "Replaced versions leave R2".
      const per = (label: string) => defined(rows.find((r) => r.label.startsWith(label))).cpuMs;
      const round = per("put 496 KiB") + 13 * per("put 454 B (") + 10 * per("put 69 B");
      const roundNote = `By these figures, the writes of one publish round at 100 targets/s offered and 16,384 bins (a snapshot, 10 packs of one bin and 3 small files counted at 454 B each, 10 page documents) cost the thread about ${round.toFixed(0)} ms of CPU.`;
      return {
        tables: [
          {
            title: "The local R2 simulator: the workerd thread's CPU per R2 operation",
            columns: [
              { header: "operation", align: "left" },
              { header: "operations per request", digits: 0 },
              { header: "workerd CPU per operation, ms", digits: 2 },
              { header: "wall time per operation, ms", digits: 2 },
            ],
            rows: rows.map((r) => [r.label, r.ops, r.cpuMs, r.wallMs]),
            notes: [
              `A probe Worker in its own \`wrangler dev\` (the same workerd and simulators as tuf-edge's instances; state in ${options.stateDir}) makes the operations in one request, one after the other unless stated; CPU: utime + stime of the workerd process that runs the Worker and the simulators (/proc, 10 ms ticks), ÷ operations; the median of ${REPEATS} requests (one for the delete). Each put carries its SHA-256, which R2 checks, as tuf-edge's do. The first row is per request, with no R2 call: the request itself.`,
              roundNote,
            ],
          },
        ],
        data: { operations: rows, roundWritesCpuMs: round },
      };
    } finally {
      await probe.instance.stop();
    }
  },
};
