/**
 * (i) Registry scale, the write side: one repository taken through what a
 * large registry does to it, with the figures issue 17's table asks for.
 *
 *   1. bootstrap with many bins (16,384; quick 1,024), continued by alarms;
 *   2. import many targets (100,000; quick 10,000): POST …/admin/targets
 *      batches of 10,000 with respond-async, until status shows all published;
 *   3. the object's V8 heap after a full GC, through wrangler's inspector;
 *   4. `--pushers` registry pushers (100) of 10 targets per push, each a closed
 *      loop of signed respond-async pushes for a fixed time: targets/s
 *      accepted and published, the acknowledgement's latency, and the time
 *      from acknowledgement to published (a task is "published" once the
 *      timestamp that carries it is stored and served);
 *   5. Worker CPU per published target (both workerd processes' CPU while
 *      pushing and draining ÷ targets published), and the largest single
 *      publish invocation (R2 operations, roles, wall time) from /metrics;
 *   6. a client reading `GET timestamp.json` one request at a time, before
 *      the pushes and while pushing and publishing (read-probe.ts), and
 *      beside it a second client revalidating `GET /openapi.json` (its
 *      ETag in If-None-Match), answered 304 without any binding (no object,
 *      no R2, no cache) and without a body: the control, whose time is the
 *      runtime's alone.
 *
 * With `--baseline REV`, the same steps run first against commit REV, in the
 * same run, and the table shows both side by side. What one run measures is
 * a `Figures` (scale-figures.ts); the tables are built from them in
 * scale-table.ts.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bootstrapRepository } from "../../lib/admin-client.ts";
import { defined } from "../../lib/defined.ts";
import { RegistryClient } from "../../lib/registry-client.ts";
import { Ed25519Signer } from "../../../src/tuf/signer.ts";
import { type CpuProfile, hotFunctions, type Inspector, ownCpuMs } from "../inspector.ts";
import { type HeapSnapshotJson, heaviestAllocations, summarizeHeap } from "../heap-summary.ts";
import { busyRuns } from "../busy-runs.ts";
import { gcPauses } from "../gc-pauses.ts";
import { longestStretches } from "../js-stretches.ts";
import { mainScriptId, workerCpuMs } from "../profile-sides.ts";
import { counterByLabel, counterTotal, largestInvocation, perTarget, untilZero } from "../metrics-reader.ts";
import { addTargetsAndWait } from "../loaded-repository.ts";
import { syntheticPath } from "../instance.ts";
import { spread, untilWritten } from "../site-sample.ts";
import type { InstanceMonitor } from "../monitor.ts";
import { makePoolFetch } from "../pool-fetch.ts";
import { readFor, revalidating, startReadProbe } from "../read-probe.ts";
import { EVENTS_PER_PUSH, runPushLoad } from "../push-load.ts";
import { summarize } from "../stats.ts";
import { type ScaleHost, topologyHost, wranglerHost } from "../scale-host.ts";
import { MiB } from "../table.ts";
import type { ProjectCopy } from "../snapshot.ts";
import {
  type Figures,
  LONG_RUN_MS,
  PAGES_LIMIT_MS,
  PAGES_SAMPLE,
  type PagesFigures,
  roundCounters,
  roundsDuring,
  roundWindows,
} from "../scale-figures.ts";
import { scaleTables } from "../scale-table.ts";
import type { BenchContext, Section, SectionResult } from "../types.ts";

const REPO = "bench-scale";

/** Where --profile writes the whole CPU profile of the pushing phase (this code; the baseline's beside it). */
const profileFile = (context: BenchContext, label: string) =>
  context.profilePath(`scale-profile${label === "this" ? "" : `-${label}`}`);

/** Writes `text` where --profile writes its CPU profile, as scale-`kind`….`extension`; returns the file. */
async function writeBesideProfile(
  context: BenchContext,
  label: string,
  kind: string,
  extension: string,
  text: string,
): Promise<string> {
  const file = profileFile(context, label)
    .replace("scale-profile", `scale-${kind}`)
    .replace(/\.cpuprofile$/, `.${extension}`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

/** --heap-snapshot: the inspected isolate's heap written whole, and its heaviest kinds printed. */
async function writeHeapSnapshot(context: BenchContext, label: string, inspector: Inspector): Promise<void> {
  const text = await inspector.heapSnapshot();
  const file = await writeBesideProfile(context, label, "heap", "heapsnapshot", text);
  const summary = summarizeHeap(JSON.parse(text) as HeapSnapshotJson, 15);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  context.log(
    `  heap snapshot written to ${file}: ${kib(summary.totalBytes)} in ${summary.nodes.toLocaleString("en-US")} nodes; heaviest: ${summary.kinds.map((k) => `${k.name} ${kib(k.bytes)} (${k.count.toLocaleString("en-US")})`).join(", ")}`,
  );
}

/** --alloc-profile: the sampled allocations written whole, and the heaviest stacks printed. */
async function writeAllocationProfile(context: BenchContext, label: string, inspector: Inspector): Promise<void> {
  const profile = await inspector.stopAllocationSampling();
  const file = await writeBesideProfile(context, label, "alloc", "heapprofile", JSON.stringify(profile));
  const { totalBytes, sites } = heaviestAllocations(profile.head, 15);
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  context.log(`  allocation profile written to ${file}: ${mib(totalBytes)} allocated (sampled); heaviest stacks:`);
  for (const site of sites)
    context.log(`    ${mib(site.bytes).padStart(10)}  ${site.path}${site.where ? ` (${site.where})` : ""}`);
}

/**
 * How the pages' documents follow: the object's gauge of log entries whose
 * documents are not sent, read until 0; then, for a code that sends them to
 * a queue, the pages of a sample of the targets (`paths`) until each shows
 * its document (site-sample.ts). Null for a code without the gauge.
 */
async function pagesFollow(host: ScaleHost, paths: readonly string[]): Promise<PagesFigures | null> {
  const gauge = await untilZero(host.base, REPO, host.token, "tuf_edge_site_documents_behind", PAGES_LIMIT_MS);
  if (!gauge) return null;
  const sample = gauge.ms === null ? null : await untilWritten(host.front, REPO, paths, PAGES_LIMIT_MS - gauge.ms);
  return {
    behind: gauge.first,
    seconds: gauge.ms === null ? null : gauge.ms / 1000,
    longestPauseSeconds: gauge.longestPauseMs / 1000,
    writtenSeconds: gauge.ms === null || sample?.ms == null ? null : (gauge.ms + sample.ms) / 1000,
  };
}

/** The log line's account of `pages`. */
function pagesSaid(pages: PagesFigures): string {
  const s = (seconds: number) => `${seconds.toFixed(1)} s`;
  if (pages.seconds === null) return `still not all sent after ${PAGES_LIMIT_MS / 1000} s`;
  const written =
    pages.writtenSeconds == null
      ? `a sample of ${PAGES_SAMPLE} not all written within the limit`
      : `a sample of ${PAGES_SAMPLE} written in ${s(pages.writtenSeconds)}`;
  return `sent in ${s(pages.seconds)} (longest pause ${s(pages.longestPauseSeconds)}), ${written}`;
}

async function measure(context: BenchContext, project: ProjectCopy, label: string, host: ScaleHost): Promise<Figures> {
  const { options, log } = context;
  const fmt = (n: number) => n.toLocaleString("en-US");
  const pool = makePoolFetch(Math.max(64, options.pushers * 2));
  const { base, front, served, via, monitor, inspector, token } = host;
  try {
    const client = host.client(REPO);
    log(`scale (${label}): bootstrapping ${fmt(options.bins)} bins`);
    const bootMark = monitor.mark();
    const t0 = performance.now();
    const { signer } = await Ed25519Signer.generate();
    await bootstrapRepository(client, { rootSigners: [signer], threshold: 1, settings: { bins: options.bins } });
    const bootstrapS = (performance.now() - t0) / 1000;
    const boot = monitor.since(bootMark);
    log(`  bootstrap ${bootstrapS.toFixed(1)} s`);

    const loaded = await addTargetsAndWait(client, { targets: options.targets, batch: 10_000, log });
    const heap = inspector ? await inspector.heapUsage() : null;
    const storageBytes = await counterTotal(base, REPO, token, "tuf_edge_storage_bytes");
    const supersededBefore = await counterTotal(base, REPO, token, "tuf_edge_superseded_files");
    log(`  heap after import: ${heap ? (heap.usedBytes / MiB).toFixed(1) : "?"} MiB used`);
    // The pages' target documents follow the import on their own (durable-objects/site-documents.ts); the pushes
    // start once they have, so the push figures are the pushes' own. A code without the gauge starts at once.
    const rearmedBefore = await counterTotal(base, REPO, token, "tuf_edge_alarms_rearmed_total");
    const pages = await pagesFollow(
      host,
      spread(options.targets, PAGES_SAMPLE).map((i) => syntheticPath(i, "")),
    );
    if (pages) {
      log(`  the pages' documents of ${fmt(pages.behind)} log entries ${pagesSaid(pages)}`);
      // Each of the bench's reads above is an operator's read: it sets again an alarm long past due (scheduler.ts).
      const rearmed = (await counterTotal(base, REPO, token, "tuf_edge_alarms_rearmed_total")) ?? 0;
      if (rearmedBefore !== null && rearmed > rearmedBefore)
        log(`  the object's alarm did not fire and was set again ${rearmed - rearmedBefore} time(s) meanwhile`);
    }

    const roundsBefore = await roundCounters(base, REPO, token);
    const r2Before = await counterByLabel(base, REPO, token, "tuf_edge_r2_operations_total", "operation");
    const r2AreasBefore = await counterByLabel(base, REPO, token, "tuf_edge_r2_operations_total", "area");

    const { secret } = await client.addRegistryCredential("scale-registry", { kind: "hmac" });
    const registry = new RegistryClient({
      baseUrl: front,
      repo: REPO,
      credential: { kind: "hmac", secret: defined(secret) },
      fetch: pool.fetch,
    });
    const pushSeconds = options.quick ? 10 : 30;
    log(
      options.pushRate === null
        ? `  ${options.pushers} pushers × ${EVENTS_PER_PUSH} targets per push for ${pushSeconds} s`
        : `  pushes of ${EVENTS_PER_PUSH} targets offered at ${options.pushRate} targets/s (open loop) for ${pushSeconds} s`,
    );
    const timestampUrl = `${front}/${REPO}/metadata/timestamp.json`;
    // Where a new timestamp is served at once (the object's purge reaches it): the front, or the writer's process.
    const servedUrl = `${served}/${REPO}/metadata/timestamp.json`;
    // The control reads an answer that needs no binding: what a read waits for in this runtime whatever it serves.
    // It revalidates (a 304 with no body) where the code gives the document an ETag (9d036bb on): read whole,
    // its 87 KB were serialised and compressed for each read, on the core the Worker shares.
    const controlUrl = `${front}/openapi.json`;
    const controlInit = await revalidating(controlUrl);
    const [idleReads, idleControl] = await Promise.all([readFor(timestampUrl, 2), readFor(controlUrl, 2, controlInit)]);
    // Both codes are profiled alike (the profiler's own cost is in both), so their isolate CPU compares.
    const profiling = options.profile && inspector !== null;
    if (profiling) await inspector.startProfile();
    const sampling = options.allocationProfile && inspector !== null;
    if (sampling) await inspector.startAllocationSampling();
    const profileStart = performance.now();
    let rawProfile = null as CpuProfile | null;
    const mark = monitor.mark();
    const probe = startReadProbe(timestampUrl);
    const control = startReadProbe(controlUrl, controlInit);
    // The load's measurements end once everything is published, before the bench reads each task.
    let usage: ReturnType<InstanceMonitor["since"]> | undefined;
    let busyReads: Awaited<ReturnType<typeof probe.stop>> | undefined;
    let busyControl: Awaited<ReturnType<typeof control.stop>> | undefined;
    let profile = null as Figures["profile"];
    const load = await runPushLoad({
      registry,
      admin: client,
      timestampUrl: servedUrl,
      seconds: pushSeconds,
      pushers: options.pushers,
      pushRate: options.pushRate,
      label,
      rounds: host.rounds,
      onDrained: async () => {
        usage = monitor.since(mark);
        [busyReads, busyControl] = await Promise.all([probe.stop(), control.stop()]);
        if (sampling) await writeAllocationProfile(context, label, inspector);
        if (!profiling) return;
        const raw = await inspector.stopProfile();
        rawProfile = raw;
        // The whole profile too, for DevTools or a flame graph viewer.
        const file = profileFile(context, label);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, JSON.stringify(raw));
        log(`  CPU profile written to ${file}`);
        // The bundle the profile ran, to tell the Worker's samples from the object's.
        const scriptId = mainScriptId(raw);
        const source = scriptId ? await inspector.scriptSource(scriptId).catch(() => null) : null;
        const worker = scriptId && source ? workerCpuMs(raw, scriptId, source) : null;
        profile = {
          ...hotFunctions(raw, 30),
          ownCpuMs: ownCpuMs(raw),
          workerCpuMs: worker,
          runs: busyRuns(raw, LONG_RUN_MS),
          stretches: longestStretches(raw, 12),
          gc: gcPauses(raw),
          longestRound: null,
          beforeSlowest: null,
        };
      },
    });
    if (profile && rawProfile && host.rounds)
      Object.assign(
        profile,
        roundWindows(rawProfile, profileStart, host.rounds, load.changes, { from: load.start, to: load.drained }),
      );
    if (!usage || !busyReads || !busyControl) throw new Error("the push load ended without draining");
    const { byProcess, seconds: usageSeconds } = usage;
    const { start, pushEnd, drained, acceptedTargets: accepted } = load;
    const cpuSeconds = usage.workerdCores * usage.seconds;
    const heapAfter = inspector ? await inspector.heapUsage() : null;
    if (options.heapSnapshot && inspector) await writeHeapSnapshot(context, label, inspector);
    const storageAfter = await counterTotal(base, REPO, token, "tuf_edge_storage_bytes");
    const supersededAfter = await counterTotal(base, REPO, token, "tuf_edge_superseded_files");
    const lastTimestamp = (await (await fetch(servedUrl)).json()) as {
      signed: { meta: Record<string, { length?: number }> };
    };
    const roundsAfter = await roundCounters(base, REPO, token);
    const r2After = await counterByLabel(base, REPO, token, "tuf_edge_r2_operations_total", "operation");
    const r2AreasAfter = await counterByLabel(base, REPO, token, "tuf_edge_r2_operations_total", "area");
    // The pages' documents of the pushes' targets, once every push is published: how far behind they fell, and
    // how long they take to follow (read after the figures above, so their catching up is not in them).
    const pagesAfter = await pagesFollow(
      host,
      spread(load.pushedPaths.length, PAGES_SAMPLE).map((i) => load.pushedPaths[i] as string),
    );
    if (pagesAfter)
      log(`  after the pushes, the pages' documents of ${fmt(pagesAfter.behind)} log entries ${pagesSaid(pagesAfter)}`);
    const figures: Figures = {
      code: project.description,
      bootstrapS,
      bootstrapCpuS: boot.workerdCores * boot.seconds,
      importS: loaded.loadMs / 1000,
      importTargetsPerS: options.targets / (loaded.loadMs / 1000),
      heapUsedMiB: heap ? heap.usedBytes / MiB : null,
      heapTotalMiB: heap ? heap.totalBytes / MiB : null,
      storageBytesPerTarget: storageBytes === null ? null : storageBytes / options.targets,
      storageGrowthPerTarget:
        storageBytes === null || storageAfter === null || accepted === 0
          ? null
          : (storageAfter - storageBytes) / accepted,
      snapshotBytes: lastTimestamp.signed.meta["snapshot.json"]?.length ?? null,
      supersededPerTarget:
        supersededBefore === null || supersededAfter === null || accepted === 0
          ? null
          : (supersededAfter - supersededBefore) / accepted,
      pages,
      pagesAfterPushes: pagesAfter,
      rounds: roundsDuring(roundsBefore, roundsAfter),
      heapAfterPushesUsedMiB: heapAfter ? heapAfter.usedBytes / MiB : null,
      heapAfterPushesTotalMiB: heapAfter ? heapAfter.totalBytes / MiB : null,
      pushSeconds: (pushEnd - start) / 1000,
      acceptedTargets: accepted,
      acceptedTargetsPerS: accepted / ((pushEnd - start) / 1000),
      publishedTargetsPerS: accepted / ((drained - start) / 1000),
      ackMs: summarize(load.ackMs),
      ackLateMs: summarize(load.ackLateMs),
      ackWorkerMs: load.ackWorkerMs.length > 0 ? summarize(load.ackWorkerMs) : null,
      ackObjectMs: load.ackObjectMs.length > 0 ? summarize(load.ackObjectMs) : null,
      ackInObjectMs: load.ackInObjectMs.length > 0 ? summarize(load.ackInObjectMs) : null,
      ackToPublishedMs: summarize(load.ackToPublishedMs),
      waitParts: load.waitParts,
      longestRound: (() => {
        const round = host.rounds?.longest(start, drained) ?? null;
        return round && { ms: round.end - round.start, files: round.files };
      })(),
      roundPhases: host.rounds?.meanPhases(start, drained) ?? null,
      cpuMsPerTarget: accepted > 0 ? (cpuSeconds * 1000) / accepted : Number.NaN,
      cores: {
        machine: usage.machineCores,
        workerd: usage.workerdCores,
        bench: usage.benchCores,
        others: usage.otherCores,
      },
      workerProcessCpuMsPerTarget:
        accepted > 0 ? (usage.workerProcessCores * usage.seconds * 1000) / accepted : Number.NaN,
      front: via,
      cpuMsPerTargetByProcess: Object.fromEntries(
        Object.entries(byProcess).map(([name, cores]) => [
          name,
          accepted > 0 ? (cores * usageSeconds * 1000) / accepted : Number.NaN,
        ]),
      ),
      objectThreadBusy: usage.mainThreadBusy.object ?? usage.mainThreadBusy.all ?? usage.mainThreadBusy.worker ?? null,
      objectThreadWaiting:
        usage.mainThreadWaiting.object ?? usage.mainThreadWaiting.all ?? usage.mainThreadWaiting.worker ?? null,
      objectHelperCpuMsPerTarget: (() => {
        const cores = usage.helperThreadCores.object ?? usage.helperThreadCores.all;
        return cores === undefined || accepted === 0 ? null : (cores * usageSeconds * 1000) / accepted;
      })(),
      r2OperationsPerTarget: perTarget(r2Before, r2After, accepted),
      r2AreasPerTarget: perTarget(r2AreasBefore, r2AreasAfter, accepted),
      objectProcessIo: (() => {
        const io = usage.ioByProcess.object ?? usage.ioByProcess.all ?? usage.ioByProcess.worker;
        const cpu = (usage.byProcess.object ?? usage.byProcess.all ?? usage.workerProcessCores) * usageSeconds;
        if (!io || accepted === 0) return null;
        return {
          writeBytesPerTarget: io.writeBytes / accepted,
          writeCallsPerTarget: io.writeCalls / accepted,
          kernelShare: cpu > 0 ? io.systemSeconds / cpu : Number.NaN,
        };
      })(),
      isolateBusyMsPerTarget: profile && accepted > 0 ? profile.busyMs / accepted : null,
      isolateCpuMsPerTarget: profile && accepted > 0 ? profile.ownCpuMs / accepted : null,
      objectCpuMsPerTarget:
        profile?.workerCpuMs != null && accepted > 0 ? (profile.ownCpuMs - profile.workerCpuMs) / accepted : null,
      failedPushes: load.failedPushes,
      timestampIdleMs: summarize(idleReads.ms),
      timestampBusyMs: summarize(busyReads.ms),
      timestampReadsFailed: idleReads.failed + busyReads.failed,
      controlIdleMs: summarize(idleControl.ms),
      controlBusyMs: summarize(busyControl.ms),
      controlReadsFailed: idleControl.failed + busyControl.failed,
      taskPolls: load.taskPolls,
      timestampReads: load.timestampReads,
      unpublishedTasks: load.unpublishedTasks,
      largestInvocation: await largestInvocation(base, REPO, token),
      collections: host.collections?.(performance.timeOrigin + start, performance.timeOrigin + drained) ?? null,
      profile,
    };
    log(
      `  ${fmt(accepted)} targets accepted (${figures.acceptedTargetsPerS.toFixed(0)}/s), ack p99 ${figures.ackMs.p99.toFixed(0)} ms, ack→published p99 ${figures.ackToPublishedMs.p99.toFixed(0)} ms, ${figures.cpuMsPerTarget.toFixed(2)} ms CPU per target`,
    );
    return figures;
  } finally {
    pool.close();
    await host.stop();
  }
}

export const scale: Section = {
  name: "scale",
  title: "Registry scale (write side): bootstrap, import, 100 pushers, CPU per target, heap, largest invocation",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, project, baseline } = context;
    // --split: the same code in one workerd (the baseline column), and in three.
    const measureBefore = options.split
      ? async () => measure(context, project, "one", await topologyHost(context, project, "one", REPO))
      : baseline &&
        (async () => measure(context, baseline, "baseline", await wranglerHost(context, baseline, "baseline")));
    const measureNow = options.split
      ? async () => measure(context, project, "split", await topologyHost(context, project, "split", REPO))
      : async () => measure(context, project, "this", await wranglerHost(context, project, "this"));
    // The baseline first, then this code; with --repeat, every other time the other way round, so that
    // neither side is always measured second.
    const nows: Figures[] = [];
    const befores: Figures[] = [];
    for (let i = 0; i < options.repeat; i++) {
      if (options.repeat > 1) context.log(`scale: run ${i + 1} of ${options.repeat}`);
      if (i % 2 === 1) nows.push(await measureNow());
      if (measureBefore) befores.push(await measureBefore());
      if (i % 2 === 0) nows.push(await measureNow());
    }
    const now = nows[nows.length - 1] as Figures;
    const before = befores[befores.length - 1] ?? null;
    const repeated = options.repeat > 1;
    const tables = scaleTables(context, nows, befores);
    return {
      tables,
      data: {
        bins: options.bins,
        targets: options.targets,
        pushers: options.pushers,
        pushRate: options.pushRate,
        now,
        before,
        ...(repeated ? { runs: { now: nows, before: befores } } : {}),
      },
    };
  },
};
