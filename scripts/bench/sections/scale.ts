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
 *      beside it a second client reading `GET /openapi.json`, an answer that
 *      touches no binding (no object, no R2, no cache): the control, whose
 *      time is the runtime's alone.
 *
 * With `--baseline REV`, the same steps run first against commit REV, in the
 * same run, and the table shows both side by side.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootstrapRepository } from "../../lib/admin-client.ts";
import { defined } from "../../lib/defined.ts";
import { PROJECT_ROOT } from "../../lib/local-instance.ts";
import { RegistryClient } from "../../lib/registry-client.ts";
import { Ed25519Signer } from "../../../src/tuf/signer.ts";
import { type CpuProfile, type HotFunction, hotFunctions, ownCpuMs } from "../inspector.ts";
import { type BusyRuns, busyRuns } from "../busy-runs.ts";
import { longestStretches, type Stretch } from "../js-stretches.ts";
import { mainScriptId, workerCpuMs } from "../profile-sides.ts";
import { profileWindows, type Window, type WindowUse, windowUse } from "../profile-windows.ts";
import { type ChangeTimes, type RoundTimes, slowestChanges } from "../round-times.ts";
import { counterTotal, counterTotals, largestInvocation, untilZero } from "../metrics-reader.ts";
import { addTargetsAndWait } from "../loaded-repository.ts";
import type { InstanceMonitor } from "../monitor.ts";
import { makePoolFetch } from "../pool-fetch.ts";
import { readFor, startReadProbe } from "../read-probe.ts";
import { EVENTS_PER_PUSH, POLL_MS, type PushLoad, runPushLoad } from "../push-load.ts";
import { summarize } from "../stats.ts";
import { REPEATED_COLUMNS, SIDE_BY_SIDE_COLUMNS, sideBySide, sideBySideRuns } from "../side-by-side.ts";
import { type Front, type ScaleHost, topologyHost, wranglerHost } from "../scale-host.ts";
import { MiB } from "../table.ts";
import type { ProjectCopy } from "../snapshot.ts";
import type { BenchContext, Section, SectionResult, Table } from "../types.ts";

const REPO = "bench-scale";
/** A run of the isolate's work this long or longer (--profile) holds a read for half the acknowledgement goal (100 ms) or more. */
const LONG_RUN_MS = 50;
/** How long the bench waits for the pages' documents to follow the import before pushing anyway. */
const PAGES_LIMIT_MS = 600_000;

/** Where --profile writes the whole CPU profile of the pushing phase (this code; the baseline's beside it). */
const profileFile = (label: string) =>
  join(PROJECT_ROOT, `bench-results/scale-profile${label === "this" ? "" : `-${label}`}.cpuprofile`);

/** The table's first note under --split. */
/** The side-by-side columns' headers with --split (this code split, the baseline column in one workerd). */
const SPLIT_HEADERS = ["figure", "split: three workerd", "one workerd", "better ×", "split: range", "one: range"];

const SPLIT_NOTE = `--split: "one workerd" runs the bundle as wrangler dev does, every isolate and the local R2 and cache simulators on one thread; "split: three workerd" gives the Worker, the repository's Durable Object and R2 a process (a thread) each, as the platform does (scripts/bench/topology.ts), on the same machine, so they still share its cores with the load. The Worker reaches the object through a gateway entrypoint in the object's process (a service binding whose getByName hands back the repository's stub: one local hop the platform does not have; before e987aa2 a forwarding object in the Worker's process made a second), and R2 through Miniflare's shared storage. Both run with wrangler.toml's settings (SHORT_CACHE_SECONDS 10). Pushes and the read probes go to the Worker; in the split the object's purge of timestamp.json cannot reach the Worker's cache or its isolate's copy (as on the platform it reaches no other isolate or location), so the watcher that times "ack → published" reads timestamp.json from the object's process, the writer's location, where it does (a Worker isolate there on the platform keeps a copy of a mutable file at most 1 s). Heap and --profile: the inspector of the process that runs the repository's object, its isolate alone in the split (so the profile's Worker share is only the gateway's and RPC's glue). CPU rows: each process while pushing and draining ÷ targets accepted.`;

const ROUND_COUNTERS = [
  "tuf_edge_publish_round_duration_seconds_count",
  "tuf_edge_publish_round_duration_seconds_sum",
  "tuf_edge_metadata_files_published_total",
] as const;

/** The publish rounds' counters (rounds ended, their seconds, the files they published), read at once. */
const roundCounters = (base: string, token: string) => counterTotals(base, REPO, token, ROUND_COUNTERS);

/** What the rounds that ended between two reads of roundCounters() did, or null for a code without those metrics. */
function roundsDuring(
  before: Awaited<ReturnType<typeof roundCounters>>,
  after: Awaited<ReturnType<typeof roundCounters>>,
): Figures["rounds"] {
  const delta = (name: (typeof ROUND_COUNTERS)[number]) => {
    const [a, b] = [after[name], before[name]];
    return a === null || b === null ? null : a - b;
  };
  const count = delta("tuf_edge_publish_round_duration_seconds_count");
  if (count === null) return null;
  const seconds = delta("tuf_edge_publish_round_duration_seconds_sum");
  const files = delta("tuf_edge_metadata_files_published_total");
  return {
    count,
    meanMs: count > 0 && seconds !== null ? (seconds * 1000) / count : null,
    filesPerRound: count > 0 && files !== null ? files / count : null,
  };
}

interface Figures {
  code: string;
  bootstrapS: number;
  bootstrapCpuS: number;
  importS: number;
  importTargetsPerS: number;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  /** The object's SQLite after the import (tuf_edge_storage_bytes) ÷ targets imported, or null if the code has no such gauge. */
  storageBytesPerTarget: number | null;
  /** The object's SQLite growth from the import's end to the drain's ÷ targets accepted meanwhile, or null (no gauge). */
  storageGrowthPerTarget: number | null;
  /** Files of replaced metadata versions recorded from the import's end to the drain's (tuf_edge_superseded_files) ÷ targets accepted, or null (no gauge). */
  supersededPerTarget: number | null;
  /** The snapshot's length as the served timestamp.json names it after the drain (every round stores a snapshot). */
  snapshotBytes: number | null;
  /** The pages' target documents after the import: log entries behind when it was published, and seconds until none were (null: still behind at the limit), or null (no gauge). */
  pages: { behind: number; seconds: number | null } | null;
  /** Publish rounds that ended while pushing and draining, their mean length and the files each signed on average (null: no such metrics). */
  rounds: { count: number; meanMs: number | null; filesPerRound: number | null } | null;
  heapAfterPushesUsedMiB: number | null;
  heapAfterPushesTotalMiB: number | null;
  pushSeconds: number;
  acceptedTargets: number;
  acceptedTargetsPerS: number;
  publishedTargetsPerS: number;
  ackMs: ReturnType<typeof summarize>;
  ackToPublishedMs: ReturnType<typeof summarize>;
  /** ack → published split by the object's rounds (round-times.ts), or null (wrangler dev: no rounds' log lines). */
  waitParts: PushLoad["waitParts"];
  /** The longest round that ended while pushing and draining, from the same lines, or null. */
  longestRound: { ms: number; files: number } | null;
  cpuMsPerTarget: number;
  /** Cores in use while pushing and draining: the machine's (every process), workerd's, the bench's own, the rest. */
  cores: { machine: number; workerd: number; bench: number; others: number };
  /** The Worker's workerd process alone (no proxy), or with --split the object's (one: all of it), ÷ targets accepted. */
  workerProcessCpuMsPerTarget: number;
  /** Where pushes, polls and reads went: wrangler's proxy, the Worker's own port (--direct), or a bench-started topology (--split). */
  front: Front;
  /** Each workerd process's CPU while pushing and draining ÷ targets accepted (--split only; else empty). */
  cpuMsPerTargetByProcess: Record<string, number>;
  /**
   * The share of the time, pushing and draining, that the main thread of the
   * workerd running the object was on a core (0 to 1; monitor.ts), or null
   * when wrangler restarted that workerd meanwhile (no figure for the whole
   * phase).
   */
  objectThreadBusy: number | null;
  /** The Worker isolate's busy time in the profile (--profile), gaps included, ÷ targets accepted, or null. */
  isolateBusyMsPerTarget: number | null;
  /** The Worker isolate's own CPU in the profile (ownCpuMs: gaps capped) ÷ targets accepted, or null. */
  isolateCpuMsPerTarget: number | null;
  /** The isolate's own CPU less the Worker's request handling (profile-sides.ts) ÷ targets accepted, or null. */
  objectCpuMsPerTarget: number | null;
  failedPushes: number;
  /** GET timestamp.json, one at a time: before the pushes (nothing publishing), and while pushing and draining. */
  timestampIdleMs: ReturnType<typeof summarize>;
  timestampBusyMs: ReturnType<typeof summarize>;
  timestampReadsFailed: number;
  /** GET /openapi.json (no binding touched), read beside timestamp.json alike: the control. */
  controlIdleMs: ReturnType<typeof summarize>;
  controlBusyMs: ReturnType<typeof summarize>;
  controlReadsFailed: number;
  /** GET /{repo}/tasks/{id} requests, once per acknowledged task after draining (its first timestamp version). */
  taskPolls: number;
  /** GET timestamp.json requests of the watcher that notes when each version is first served. */
  timestampReads: number;
  /** Acknowledged tasks with no timestamp version once drained (should be 0). */
  unpublishedTasks: number;
  largestInvocation: Record<string, number> | null;
  /** The heaviest functions of the pushing and draining phase (--profile), or null. */
  profile: {
    busyMs: number;
    ownCpuMs: number;
    workerCpuMs: number | null;
    runs: BusyRuns;
    /** The longest stretches of JavaScript (js-stretches.ts): what a request that arrives meanwhile waits behind. */
    stretches: Stretch[];
    functions: HotFunction[];
    /** The isolate during the longest round (a bundle the bench started), or null. */
    longestRound: ProfiledWindows | null;
    /** The isolate while the slowest 1 % of changes waited for their rounds to start, or null. */
    beforeSlowest: ProfiledWindows | null;
  } | null;
}

/** Some windows of the profile: how busy the isolate was in them, and its heaviest functions there. */
interface ProfiledWindows extends WindowUse {
  /** The windows asked for (one per change for the slowest 1 %), before overlapping ones are joined. */
  windows: number;
  functions: HotFunction[];
}

function profiled(raw: CpuProfile, windows: Window[]): ProfiledWindows | null {
  if (windows.length === 0) return null;
  return {
    ...windowUse(raw, windows),
    windows: windows.length,
    functions: hotFunctions(profileWindows(raw, windows), 12).functions,
  };
}

/**
 * Where the object's isolate went in the longest round, and while the slowest
 * changes waited before theirs: windows of the bench's clock moved to the
 * profile's, which starts at `profileStart` (performance.now(), to within the
 * inspector's answer to Profiler.start).
 */
function roundWindows(
  raw: CpuProfile,
  profileStart: number,
  rounds: RoundTimes,
  changes: readonly ChangeTimes[],
  span: Window,
): Pick<NonNullable<Figures["profile"]>, "longestRound" | "beforeSlowest"> {
  const onProfile = (from: number, to: number): Window => ({ from: from - profileStart, to: to - profileStart });
  const longest = rounds.longest(span.from, span.to);
  return {
    longestRound: longest && profiled(raw, [onProfile(longest.start, longest.end)]),
    beforeSlowest: profiled(
      raw,
      slowestChanges(changes).map((c) => onProfile(c.ackAt, c.round.start)),
    ),
  };
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
    const pages = await untilZero(base, REPO, token, "tuf_edge_site_documents_behind", PAGES_LIMIT_MS);
    if (pages)
      log(
        `  the pages' documents of ${fmt(pages.first)} log entries ${pages.ms === null ? `still behind after ${PAGES_LIMIT_MS / 1000} s` : `followed in ${(pages.ms / 1000).toFixed(1)} s`}`,
      );

    const roundsBefore = await roundCounters(base, token);

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
    const controlUrl = `${front}/openapi.json`;
    const [idleReads, idleControl] = await Promise.all([readFor(timestampUrl, 2), readFor(controlUrl, 2)]);
    // Both codes are profiled alike (the profiler's own cost is in both), so their isolate CPU compares.
    const profiling = options.profile && inspector !== null;
    if (profiling) await inspector.startProfile();
    const profileStart = performance.now();
    let rawProfile = null as CpuProfile | null;
    const mark = monitor.mark();
    const probe = startReadProbe(timestampUrl);
    const control = startReadProbe(controlUrl);
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
        if (!profiling) return;
        const raw = await inspector.stopProfile();
        rawProfile = raw;
        // The whole profile too, for DevTools or a flame graph viewer.
        await mkdir(join(PROJECT_ROOT, "bench-results"), { recursive: true });
        await writeFile(profileFile(label), JSON.stringify(raw));
        log(`  CPU profile written to ${profileFile(label)}`);
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
    const storageAfter = await counterTotal(base, REPO, token, "tuf_edge_storage_bytes");
    const supersededAfter = await counterTotal(base, REPO, token, "tuf_edge_superseded_files");
    const lastTimestamp = (await (await fetch(servedUrl)).json()) as {
      signed: { meta: Record<string, { length?: number }> };
    };
    const roundsAfter = await roundCounters(base, token);
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
      pages: pages && { behind: pages.first, seconds: pages.ms === null ? null : pages.ms / 1000 },
      rounds: roundsDuring(roundsBefore, roundsAfter),
      heapAfterPushesUsedMiB: heapAfter ? heapAfter.usedBytes / MiB : null,
      heapAfterPushesTotalMiB: heapAfter ? heapAfter.totalBytes / MiB : null,
      pushSeconds: (pushEnd - start) / 1000,
      acceptedTargets: accepted,
      acceptedTargetsPerS: accepted / ((pushEnd - start) / 1000),
      publishedTargetsPerS: accepted / ((drained - start) / 1000),
      ackMs: summarize(load.ackMs),
      ackToPublishedMs: summarize(load.ackToPublishedMs),
      waitParts: load.waitParts,
      longestRound: (() => {
        const round = host.rounds?.longest(start, drained) ?? null;
        return round && { ms: round.end - round.start, files: round.files };
      })(),
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
    const { options } = context;
    const fmt = (n: number) => n.toLocaleString("en-US");
    const { project, baseline } = context;
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
    // The last run's: its profile is the one written to bench-results/.
    const now = nows[nows.length - 1] as Figures;
    const before = befores[befores.length - 1] ?? null;
    const repeated = options.repeat > 1;
    const row = repeated ? sideBySideRuns(nows, befores) : sideBySide(now, before);
    const columns = repeated ? REPEATED_COLUMNS : SIDE_BY_SIDE_COLUMNS;
    const largest = (f: Figures, what: string) => f.largestInvocation?.[what] ?? null;
    const micro = (ms: number | null) => (ms === null ? null : ms * 1000);
    const share = (cores: number) => (100 * cores) / context.machineCores;
    const table: Table = {
      title: `Registry scale: ${fmt(options.bins)} bins, ${fmt(options.targets)} targets imported, ${
        options.pushRate === null
          ? `${options.pushers} pushers × ${EVENTS_PER_PUSH} targets per push`
          : `pushes of ${EVENTS_PER_PUSH} targets offered at ${fmt(options.pushRate)} targets/s (open loop)`
      }`,
      columns: options.split ? columns.map((c, i) => ({ ...c, header: SPLIT_HEADERS[i] ?? c.header })) : columns,
      rows: [
        row("bootstrap, s", (f) => f.bootstrapS, true),
        row("bootstrap, workerd CPU s", (f) => f.bootstrapCpuS, true),
        row("import, s", (f) => f.importS, true),
        row("import, targets/s", (f) => f.importTargetsPerS, false),
        row("heap after import, MiB used", (f) => f.heapUsedMiB, true),
        row("heap after import, MiB allocated", (f) => f.heapTotalMiB, true),
        row("the object's SQLite after import, bytes per target", (f) => f.storageBytesPerTarget, true),
        row(
          "the object's SQLite growth while pushing, bytes per accepted target",
          (f) => f.storageGrowthPerTarget,
          true,
        ),
        row(
          "snapshot.json, bytes (as the served timestamp.json names it after the drain)",
          (f) => f.snapshotBytes,
          true,
        ),
        row("replaced metadata files recorded while pushing, per accepted target", (f) => f.supersededPerTarget, true),
        row("the pages' documents after the import: log entries behind", (f) => f.pages?.behind ?? null, true),
        row("the pages' documents after the import: s until none behind", (f) => f.pages?.seconds ?? null, true),
        row(
          "the pages' documents after the import: log entries followed per s",
          (f) => (f.pages?.seconds ? f.pages.behind / f.pages.seconds : null),
          false,
        ),
        row("heap after pushes, MiB used", (f) => f.heapAfterPushesUsedMiB, true),
        row("publish rounds while pushing and draining", (f) => f.rounds?.count ?? null, false),
        row("publish round, mean ms", (f) => f.rounds?.meanMs ?? null, true),
        row("files signed per round, mean", (f) => f.rounds?.filesPerRound ?? null, true),
        row("the longest round, ms (--split: the object's log lines)", (f) => f.longestRound?.ms ?? null, true),
        row("the longest round's files", (f) => f.longestRound?.files ?? null, true),
        row("targets/s accepted while pushing", (f) => f.acceptedTargetsPerS, false),
        row("targets/s published (pushing + drain)", (f) => f.publishedTargetsPerS, false),
        row("ack p50, ms", (f) => f.ackMs.p50, true),
        row("ack p99, ms", (f) => f.ackMs.p99, true),
        row("ack → published p50, ms", (f) => f.ackToPublishedMs.p50, true),
        row("ack → published p99, ms", (f) => f.ackToPublishedMs.p99, true),
        ...(["all", "slowest"] as const).flatMap((which) => {
          const of = which === "all" ? "every change" : "the slowest 1 % of changes";
          return [
            row(
              `ack → published, ${of}: until its round started, mean ms`,
              (f) => f.waitParts?.[which].beforeRound ?? null,
              true,
            ),
            row(`ack → published, ${of}: in its round, mean ms`, (f) => f.waitParts?.[which].inRound ?? null, true),
            row(
              `ack → published, ${of}: round's end → served, mean ms`,
              (f) => f.waitParts?.[which].toServed ?? null,
              true,
            ),
          ];
        }),
        row("workerd CPU per published target, µs", (f) => micro(f.cpuMsPerTarget), true),
        row(
          options.split
            ? "the workerd that runs the object (one: all of it), CPU per target, µs"
            : "the Worker's workerd alone (no proxy), CPU per target, µs",
          (f) => micro(f.workerProcessCpuMsPerTarget),
          true,
        ),
        ...(options.split
          ? (["object", "worker", "storage", "all"] as const).map((p) =>
              row(
                `--split: the ${p} workerd's CPU per target, µs`,
                (f) => micro(f.cpuMsPerTargetByProcess[p] ?? null),
                true,
              ),
            )
          : []),
        row(
          options.split
            ? "the main thread of the workerd that runs the object (one: all of it) on a core, % of the time"
            : "the main thread of the Worker's workerd (its object and the simulators) on a core, % of the time",
          (f) => (f.objectThreadBusy === null ? null : f.objectThreadBusy * 100),
          true,
        ),
        row(
          `the machine's CPU in use while pushing and draining, % of its ${context.machineCores} cores`,
          (f) => share(f.cores.machine),
          true,
        ),
        row("  of which the workerd processes, %", (f) => share(f.cores.workerd), true),
        row("  of which the bench's own process (pushers, probes, watcher), %", (f) => share(f.cores.bench), true),
        row("  of which other processes, %", (f) => share(f.cores.others), true),
        row("Worker isolate CPU per accepted target, µs (--profile)", (f) => micro(f.isolateCpuMsPerTarget), true),
        row("Worker isolate busy per accepted target, gaps included, µs", (f) => micro(f.isolateBusyMsPerTarget), true),
        row("the object's CPU per accepted target, µs (--profile)", (f) => micro(f.objectCpuMsPerTarget), true),
        row(
          "targets/s one object's thread takes at that CPU",
          (f) => (f.objectCpuMsPerTarget ? 1000 / f.objectCpuMsPerTarget : null),
          false,
        ),
        row(
          "the isolate's longest run without an idle sample, ms (--profile)",
          (f) => f.profile?.runs.longestMs ?? null,
          true,
        ),
        row(
          `share of the isolate's busy time in runs of ${LONG_RUN_MS} ms or more, % (--profile)`,
          (f) => (f.profile ? f.profile.runs.longShare * 100 : null),
          true,
        ),
        row(
          "of the time in those runs, the share outside the isolate (gaps between samples), % (--profile)",
          (f) => (f.profile ? f.profile.runs.longOutside * 100 : null),
          true,
        ),
        row("largest invocation: R2 operations", (f) => largest(f, "r2_operations"), true),
        row("largest invocation: roles signed", (f) => largest(f, "roles"), true),
        row("largest invocation: log tiles and entry bundles stored ahead", (f) => largest(f, "log_writes"), true),
        row("largest invocation: wall ms", (f) => largest(f, "wall_ms"), true),
        row("GET timestamp.json before pushing, p50, ms", (f) => f.timestampIdleMs.p50, true),
        row("GET timestamp.json before pushing, p99, ms", (f) => f.timestampIdleMs.p99, true),
        row("GET timestamp.json while pushing and publishing, p50, ms", (f) => f.timestampBusyMs.p50, true),
        row("GET timestamp.json while pushing and publishing, p99, ms", (f) => f.timestampBusyMs.p99, true),
        row("control: GET /openapi.json (no binding) before pushing, p50, ms", (f) => f.controlIdleMs.p50, true),
        row("control: GET /openapi.json (no binding) before pushing, p99, ms", (f) => f.controlIdleMs.p99, true),
        row("control: GET /openapi.json while pushing and publishing, p50, ms", (f) => f.controlBusyMs.p50, true),
        row("control: GET /openapi.json while pushing and publishing, p99, ms", (f) => f.controlBusyMs.p99, true),
        row("failed pushes", (f) => f.failedPushes, true),
        row("failed timestamp.json reads", (f) => f.timestampReadsFailed, true),
        row("failed control reads", (f) => f.controlReadsFailed, true),
        row("acknowledged tasks not published", (f) => f.unpublishedTasks, true),
      ],
      notes: [
        ...(options.split ? [SPLIT_NOTE] : []),
        ...(repeated
          ? [
              `--repeat ${options.repeat}: each side measured ${options.repeat} times, taking turns to go first (the baseline first in the first run); a cell is the median of its side's runs, "better ×" the ratio of the medians, and the range columns give each side's lowest and highest. The CPU profile (--profile) is the last run's.`,
            ]
          : []),
        `this code: ${now.code}${before ? `; baseline: ${before.code}` : " (no --baseline given)"}. "better ×" is baseline ÷ this code for costs and times, this code ÷ baseline for rates.${before ? ' The baseline is measured first; at 2,000 targets/s offered and 16,384 bins two instances of one run have differed by 1.2–1.8× in acknowledgement → published p99, the same code twice included, the second the slower in three runs of four (docs/measured.md, "The local R2 simulator\'s cost"): run both orders (--code) before reading a difference.' : ""}`,
        `Pushes are signed (HMAC) POST /{repo}/webhooks/registry with Prefer: respond-async: with --pushers, each pusher a closed loop (its next push once the last is acknowledged, so the acknowledgement is about pushers ÷ the rate the object accepts them); with --push-rate, pushes fall due at that rate whatever the answers (open loop). ack: the push's round trip (through wrangler's proxy, or with --direct to the Worker's own workerd port: ${now.front}), from when it fell due. ack → published: until the served timestamp.json first carries the change (a watcher reads it every ${POLL_MS} ms, one request at a time, and notes when each version is first seen; after draining, each task's first timestamp version is read from GET /{repo}/tasks/{id}); a figure is late by at most one read.`,
        "The main thread on a core: that thread's CPU time (/proc/<pid>/task/<pid>/stat) ÷ wall time, pushing and draining. workerd runs every isolate's JavaScript on it: in one workerd the Worker's, its object's and the local R2 and cache simulators'. Near 100 %, an event waits for every one queued before it, and a CPU figure per target is that thread's time ÷ the rate, not what a target needs: rounds run back to back, so they take whatever the thread has left (docs/measured.md, \"The thread at 2,000 and 500 targets/s\").",
        `The machine's CPU in use while pushing and draining: every process's CPU time on the machine (/proc/stat) ÷ wall time ÷ its ${context.machineCores} cores; workerd: the instance's processes (their /proc/<pid>/stat); the bench's own process: this Node process, every thread of it (the pushers' HMAC and requests, the read probes, the watcher); other processes: the rest (wrangler's parent process, the machine's own). Near 100 %, every process waits for a core, and times measure the machine's saturation, not only the code.`,
        "Worker isolate CPU and busy (--profile only; both codes are profiled alike), ÷ targets accepted, pushing and draining: the isolate of the Worker and its Durable Object, sampled every 0.5 ms. Busy: every sample but idle, each counted for the time since the sample before it, so a gap (the thread in the R2 and cache simulators' isolates, in I/O, or waiting for a core) counts toward the sample after it. CPU: the same with each gap counted for at most 1 ms, the isolate's own work.",
        "Runs (--profile): a run is a stretch of the isolate's samples none of which is idle, from the last idle sample before it to its last (scripts/bench/busy-runs.ts). workerd takes a new request and fires a timer only between runs of the work queued on its thread, so a request that arrives during a run waits for its end. Outside the isolate: each sample's time since the one before beyond 1 ms (the thread in the local R2 and cache simulators' isolates, or in I/O), as the isolate's CPU row caps it.",
        "The object's CPU (--profile): the isolate's own CPU less the samples of the Worker's request handling (routing, the RPC call, the answer: scripts/bench/profile-sides.ts), which on the platform run elsewhere while the object has a thread of its own; an upper bound of the object's share. Targets/s one object's thread takes: 1 s ÷ that CPU per target, its capacity if nothing else shared its thread.",
        `The pages' documents: tuf_edge_site_documents_behind (published log entries whose targets' documents for the public pages are not rewritten yet) once the import was published, read every 250 ms until 0, at most ${PAGES_LIMIT_MS / 1000} s; the pushes start after it (a code without that gauge: at once, its documents still following).`,
        "CPU: both workerd processes (the Worker with its Durable Object and the local R2 and cache simulators, and wrangler's proxy) while pushing and draining, ÷ targets accepted. Heap: Runtime.getHeapUsage of the Worker's isolate after HeapProfiler.collectGarbage, through wrangler's inspector.",
        `GET timestamp.json: one client, one request at a time with 50 ms between, ${now.front === "proxy" ? "through wrangler's proxy" : "at the Worker's own port"}: for 2 s before the pushes, and from the first push until everything was published (rounds running). The control: a second client reading GET /openapi.json alike at the same time, an answer the Worker builds without any binding (no object, no R2, no cache), so its time is what any read waits for in this runtime: workerd takes a new request between runs of the work already queued on its one thread, and here that work includes the object's and the local R2 and cache simulators'.`,
        "SQLite after import: tuf_edge_storage_bytes (the object's SqlStorage.databaseSize) from GET /{repo}/admin/metrics ÷ targets imported; a code without that gauge shows –. Growth while pushing: the same gauge once everything pushed is published, less its value after the import, ÷ targets accepted (the pushes' rows, their log entries and those of every file their rounds published, less what pruning freed and the pushes reused).",
        "Replaced metadata files: tuf_edge_superseded_files (the files of versions a round replaced, each deleted from R2 once the repository's retainSuperseded has passed: a day by default, so none during a run) once everything pushed is published, less its value after the import, ÷ targets accepted; each round replaces a snapshot and the packs, or files, of the roles it re-signs. A code without that gauge shows –.",
        "Publish rounds: the rounds that published a timestamp between the import's end and the drain (deltas of tuf_edge_publish_round_duration_seconds and tuf_edge_metadata_files_published_total in GET /{repo}/admin/metrics), each from its start to its timestamp. A change accepted while a round runs waits for that round to end and for the next one, so with rounds back to back ack → published is between one and two rounds. Files: every file a round stored (bins, targets, snapshot, timestamp).",
        "ack → published in parts (a bundle the bench started: --split): each change's wait split at the start and the end of the round that published it, from the object's own publish.round log lines (the timestamp version, its duration, when it was logged; scripts/bench/round-times.ts); the parts of one change add up to its wait. The slowest 1 %: the changes whose wait is at or above its p99. With rounds back to back, a change acknowledged while one runs waits for it to end before its own starts.",
        "Largest invocation: the publish run (one request or alarm) that used the most R2 operations, from GET /{repo}/admin/metrics (tuf_edge_publish_invocation_largest); a code without that gauge shows –. Its wall time bounds its CPU.",
      ],
    };
    const tables = [table];
    if (now.profile)
      tables.push({
        title: `CPU profile of the Worker's isolate while pushing and draining (this code): ${now.profile.busyMs.toFixed(0)} ms busy`,
        columns: [
          { header: "function", align: "left" },
          { header: "where", align: "left" },
          { header: "self ms", digits: 0 },
          { header: "share %", digits: 1 },
        ],
        rows: now.profile.functions.map((f) => [f.name, f.where, f.selfMs, f.share * 100]),
        notes: [
          `Self time by function (a native call is named with the script function that made it), from Profiler.start/stop through ${options.split ? "the inspector of the process that runs the repository's object (with --split, the object's isolate alone)" : "wrangler's inspector"}, sampled every 0.5 ms.`,
        ],
      });
    if (now.profile?.stretches?.length)
      tables.push({
        title: "The longest stretches of JavaScript while pushing and draining (this code)",
        columns: [
          { header: "at, s", digits: 1 },
          { header: "own CPU ms", digits: 1 },
          { header: "wall ms", digits: 1 },
          { header: "heaviest path", align: "left" },
          { header: "its ms", digits: 1 },
        ],
        rows: now.profile.stretches.map((s) => [s.atMs / 1000, s.ownCpuMs, s.wallMs, s.path, s.pathMs]),
        notes: [
          "A stretch: consecutive samples of the profile above with a script on the stack (the garbage collector included), broken by an idle sample or one of the runtime's own work between two events (scripts/bench/js-stretches.ts). workerd takes a request only between two events, so one that arrives during a stretch waits for the event under way; two events back to back with no sample between them make one stretch, so each is an upper bound of one synchronous block. At: from the profile's start. Own CPU: each sample's time capped at 1 ms; wall: gaps included. Heaviest path: the outermost three frames with the most own CPU in it.",
        ],
      });
    const windowTable = (part: ProfiledWindows, title: string, note: string): Table => ({
      title: `${title}: ${part.wallMs.toFixed(0)} ms${part.windows > 1 ? ` over ${part.windows} changes' waits` : ""}, the isolate busy ${part.busyMs.toFixed(0)} ms of it (own CPU ${part.ownCpuMs.toFixed(0)} ms)`,
      columns: [
        { header: "function", align: "left" },
        { header: "where", align: "left" },
        { header: "self ms", digits: 0 },
        { header: "share %", digits: 1 },
      ],
      rows: part.functions.map((f) => [f.name, f.where, f.selfMs, f.share * 100]),
      notes: [
        `${note} Windows on the bench's clock moved to the profile's (it starts when the inspector answers Profiler.start). Busy: every sample but idle, gaps included; own CPU: each gap capped at 1 ms, as in the table above. Where busy is far below the window's length, the isolate waited: for I/O (R2, the cache) or for requests.`,
      ],
    });
    if (now.profile?.longestRound)
      tables.push(
        windowTable(
          now.profile.longestRound,
          `The longest round (${now.longestRound?.ms.toFixed(0)} ms, ${now.longestRound?.files} files)`,
          "From its start to its end, as the object's publish.round log line gives them.",
        ),
      );
    if (now.profile?.beforeSlowest)
      tables.push(
        windowTable(
          now.profile.beforeSlowest,
          "Before the slowest 1 %'s rounds",
          "For each of the slowest 1 % of changes (ack → published at or above its p99), from its acknowledgement to the start of the round that published it; overlapping windows counted once.",
        ),
      );
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
