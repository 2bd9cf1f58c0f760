/**
 * (b) Publishing: how long bootstrapping a repository with many bins takes
 * and how much memory the Worker's workerd needs for it, then the same for
 * adding targets in batches (each batch is one POST …/admin/targets that
 * returns once its change is published).
 */
import { HashBins } from "../../../src/tuf/hash-bins.ts";
import { bootstrap, folderSize, startBenchInstance, syntheticTargets } from "../instance.ts";
import { InstanceMonitor, type Restart } from "../monitor.ts";
import { readMemory } from "../proc.ts";
import { MiB } from "../table.ts";
import { summarize } from "../stats.ts";
import type { BenchContext, Section, SectionResult, Table } from "../types.ts";

const REPO = "bench-publish";
/** Consecutive failed batches after which the section gives up. */
const MAX_CONSECUTIVE_FAILURES = 3;

const mib = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes <= 0 ? null : bytes / MiB;
const mibText = (bytes: number | null | undefined) => mib(bytes)?.toFixed(0) ?? "?";

function describeRestarts(phase: string, restarts: Restart[]): string[] {
  return restarts.map(
    (r) =>
      `${phase}: the Worker's workerd (pid ${r.oldPid}, last RSS ${mibText(r.lastRss)} MiB, peak ${mibText(r.lastHwm)} MiB) went away ${r.atS.toFixed(1)} s into the section; ${r.newPid === null ? "no new one was found" : `wrangler started pid ${r.newPid}`}. Peaks after that are the new process's.`,
  );
}

export const publishing: Section = {
  name: "publishing",
  title: "Publishing: bootstrap and target batches",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const notes: string[] = [];
    const startedAt = Date.now();
    const bench = await startBenchInstance(context, "publishing");
    const startupS = (Date.now() - startedAt) / 1000;
    const monitor = new InstanceMonitor(bench.instance.port, 100);
    try {
      const client = bench.client(REPO);
      if (monitor.workerPid === null) notes.push("The Worker's workerd process was not found: no memory figures.");
      const idleRss = monitor.rss;

      // Bootstrap.
      log(`publishing: bootstrapping "${REPO}" with ${options.bins.toLocaleString("en-US")} bins`);
      monitor.resetPeak();
      const bootMark = monitor.mark();
      const bootStart = performance.now();
      const ticker = setInterval(() => {
        log(
          `  bootstrap running: ${((performance.now() - bootStart) / 1000).toFixed(0)} s, workerd RSS ${mibText(monitor.rss)} MiB`,
        );
      }, 10_000);
      let bootMs: number;
      try {
        await bootstrap(client, { bins: options.bins });
        bootMs = performance.now() - bootStart;
      } finally {
        clearInterval(ticker);
      }
      const boot = {
        ...monitor.since(bootMark),
        peak: monitor.peakHwm,
        sampledPeak: monitor.peakSampledRss,
        rssAfter: monitor.rss,
      };
      notes.push(...describeRestarts("bootstrap", boot.restarts));
      const status = await client.status();
      log(
        `  bootstrap done in ${(bootMs / 1000).toFixed(1)} s; peak RSS ${mibText(boot.peak)} MiB; ${status.bins} bins, pending ${status.pendingChanges}`,
      );
      if (status.bins !== options.bins)
        notes.push(`bootstrap: status reports ${status.bins} bins, expected ${options.bins}.`);

      // Target batches.
      const batches = Math.ceil(options.targets / options.batchSize);
      const batchMs: number[] = [];
      /** Distinct bins each accepted batch touched: the bins its publish re-signs. */
      const batchBins: number[] = [];
      const hashBins = new HashBins(HashBins.bitLengthFor(options.bins));
      const failures: Array<{ batch: number; ms: number; error: string }> = [];
      let consecutive = 0;
      let added = 0;
      let lastLog = Date.now();
      monitor.resetPeak();
      const addMark = monitor.mark();
      const addStart = performance.now();
      for (let b = 0; b < batches; b++) {
        const count = Math.min(options.batchSize, options.targets - b * options.batchSize);
        const add = syntheticTargets(b * options.batchSize, count, "");
        const touched = new Set(await Promise.all(add.map((t) => hashBins.indexFor(t.path)))).size;
        const t0 = performance.now();
        try {
          await client.changeTargets({ add });
          batchMs.push(performance.now() - t0);
          batchBins.push(touched);
          added += count;
          consecutive = 0;
        } catch (error) {
          const ms = performance.now() - t0;
          failures.push({ batch: b + 1, ms, error: (error as Error).message });
          log(`  batch ${b + 1} FAILED after ${ms.toFixed(0)} ms: ${(error as Error).message}`);
          if (++consecutive >= MAX_CONSECUTIVE_FAILURES) {
            notes.push(
              `add targets: stopped after ${MAX_CONSECUTIVE_FAILURES} consecutive failed batches (at batch ${b + 1} of ${batches}).`,
            );
            break;
          }
        }
        if (Date.now() - lastLog > 10_000 || b === batches - 1) {
          lastLog = Date.now();
          const last = batchMs.at(-1);
          log(
            `  targets: batch ${b + 1}/${batches}, ${added.toLocaleString("en-US")} added, last batch ${last?.toFixed(0)} ms, ${((performance.now() - addStart) / 1000).toFixed(0)} s so far, workerd RSS ${mibText(monitor.rss)} MiB`,
          );
        }
      }
      const addMs = performance.now() - addStart;
      const adding = {
        ...monitor.since(addMark),
        peak: monitor.peakHwm,
        sampledPeak: monitor.peakSampledRss,
        rssAfter: monitor.rss,
      };
      notes.push(...describeRestarts("add targets", adding.restarts));
      const finalStatus = await client.status();
      if (finalStatus.targetsCount !== added)
        notes.push(`add targets: status counts ${finalStatus.targetsCount} targets, ${added} were accepted.`);
      for (const f of failures)
        notes.push(`add targets: batch ${f.batch} failed after ${(f.ms / 1000).toFixed(1)} s: ${f.error}`);
      if (!monitor.resettable)
        notes.push("VmHWM could not be reset (clear_refs refused): peaks are since workerd started.");
      const disk = await folderSize(bench.persistTo);
      const proxy = monitor.proxyPid === null ? null : readMemory(monitor.proxyPid);

      const batchStats = summarize(batchMs);
      // Every batch is kept in the JSON; the table shows the first and last tenth too (growth over time).
      const tenth = Math.max(1, Math.floor(batchMs.length / 10));
      const first = summarize(batchMs.slice(0, tenth));
      const lastTenth = summarize(batchMs.slice(-tenth));
      const fmt = (n: number) => n.toLocaleString("en-US");
      const binsPerBatch = batchBins.reduce((a, b) => a + b, 0) / Math.max(1, batchBins.length);
      const msPerBatchBin =
        batchMs.reduce((a, b) => a + b, 0) /
        Math.max(
          1,
          batchBins.reduce((a, b) => a + b, 0),
        );

      const table: Table = {
        title: `Publishing: ${fmt(options.bins)} bins, ${fmt(options.targets)} targets in batches of ${fmt(options.batchSize)} (metadata only)`,
        columns: [
          { header: "phase", align: "left" },
          { header: "work", align: "left" },
          { header: "total s", digits: 1 },
          { header: "rate", align: "right" },
          { header: "batch p50 ms", digits: 0 },
          { header: "batch p99 ms", digits: 0 },
          { header: "batch max ms", digits: 0 },
          { header: "workerd peak RSS MiB", digits: 0 },
          { header: "RSS after MiB", digits: 0 },
          { header: "CPU workerd", digits: 2 },
          { header: "CPU others", digits: 2 },
        ],
        rows: [
          ["start", "wrangler dev, empty state", startupS, null, null, null, null, null, mib(idleRss), null, null],
          [
            "bootstrap",
            `${fmt(options.bins)} bins`,
            bootMs / 1000,
            `${(options.bins / (bootMs / 1000)).toFixed(0)} bins/s`,
            null,
            null,
            null,
            mib(boot.peak),
            mib(boot.rssAfter),
            boot.workerdCores,
            boot.otherCores,
          ],
          [
            "add targets",
            `${batchMs.length} × ${fmt(options.batchSize)}${failures.length ? ` (+${failures.length} failed)` : ""}`,
            addMs / 1000,
            `${(added / (addMs / 1000)).toFixed(0)} targets/s`,
            batchStats.p50,
            batchStats.p99,
            batchStats.max,
            mib(adding.peak),
            mib(adding.rssAfter),
            adding.workerdCores,
            adding.otherCores,
          ],
          [
            "  first tenth",
            `${Math.min(tenth, batchMs.length)} batches`,
            first.total / 1000,
            null,
            first.p50,
            first.p99,
            first.max,
            null,
            null,
            null,
            null,
          ],
          [
            "  last tenth",
            `${Math.min(tenth, batchMs.length)} batches`,
            lastTenth.total / 1000,
            null,
            lastTenth.p50,
            lastTenth.p99,
            lastTenth.max,
            null,
            null,
            null,
            null,
          ],
        ],
        notes: [
          "Each batch is one POST /{repo}/admin/targets; it returns once the change is published (bins re-signed, snapshot, timestamp).",
          `Cost per signed bin: bootstrap ${(bootMs / options.bins).toFixed(2)} ms per bin; a batch touched ${binsPerBatch.toFixed(0)} bins on average, ${msPerBatchBin.toFixed(2)} ms per touched bin (batch time ÷ bins it re-signs).`,
          `Memory: VmHWM (peak RSS) of the workerd that runs the Worker, its Durable Object and the local R2 and cache simulators, reset at the start of each phase; wrangler's proxy workerd: ${mibText(proxy?.hwm)} MiB peak (not counted). 100 ms RSS sampling saw ${mibText(boot.sampledPeak)} MiB (bootstrap) and ${mibText(adding.sampledPeak)} MiB (targets).`,
          `CPU: cores used during the phase by the two workerd processes, and by every other process on the ${context.machineCores}-core machine (others' work slows the phase down).`,
          `State on disk afterwards (Durable Object SQLite + local R2): ${(disk / MiB).toFixed(0)} MiB. Default binsPerInvocation (1,024).`,
        ],
      };
      const phaseData = (p: typeof boot) => ({
        workerdCores: p.workerdCores,
        otherCores: p.otherCores,
        peakRssBytes: p.peak || null,
        sampledPeakRssBytes: p.sampledPeak || null,
        rssAfterBytes: p.rssAfter,
        restarts: p.restarts,
      });
      return {
        tables: [table],
        notes,
        data: {
          bins: options.bins,
          targets: options.targets,
          batchSize: options.batchSize,
          startupS,
          idleRssBytes: idleRss,
          bootstrap: { ms: bootMs, msPerBin: bootMs / options.bins, ...phaseData(boot) },
          addTargets: {
            ms: addMs,
            added,
            batches: batchMs.length,
            failures,
            batchMs: { ...batchStats, firstTenth: first, lastTenth },
            batchMsAll: batchMs.map((x) => Math.round(x * 10) / 10),
            binsTouchedPerBatch: binsPerBatch,
            msPerTouchedBin: msPerBatchBin,
            ...phaseData(adding),
          },
          proxyPeakRssBytes: proxy?.hwm ?? null,
          peakResettable: monitor.resettable,
          stateBytes: disk,
        },
      };
    } finally {
      monitor.stop();
      await bench.stop();
    }
  },
};
