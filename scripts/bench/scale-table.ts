/**
 * The registry scale section's tables (sections/scale.ts): each figure of
 * issue 17's table side by side with the baseline's (or, with --repeat, the
 * medians and ranges of each side's runs), with notes that say how each is
 * measured; and, with --profile, where the object's isolate spent its time.
 */
import { coreList } from "./core-plan.ts";
import { runPlan } from "./cpu-pinning.ts";
import { POLL_MS, EVENTS_PER_PUSH } from "./push-load.ts";
import { REPEATED_COLUMNS, SIDE_BY_SIDE_COLUMNS, sideBySide, sideBySideRuns } from "./side-by-side.ts";
import { type Figures, LONG_RUN_MS, PAGES_LIMIT_MS, PAGES_SAMPLE, type ProfiledWindows } from "./scale-figures.ts";
import type { PhaseName } from "./round-times.ts";
import type { BenchContext, Table } from "./types.ts";

/** A round's phases as the table names them (durable-objects/round-phases.ts), and the rest of its time. */
const PHASE_ROWS: ReadonlyArray<readonly [string, PhaseName | "between"]> = [
  ["staging the roles", "staging"],
  ["the log's tiles ahead", "logAhead"],
  ["the log's entries hashed", "logHash"],
  ["the snapshot signed", "snapshotSign"],
  ["snapshot, roots and log stored", "stores"],
  ["the timestamp stored", "timestampStore"],
  ["the commit", "commit"],
  ["between its steps", "between"],
  ["of the phases, waits for the object's turns", "turnWaits"],
];

/**
 * A round's wall time per file it signed: what a change costs the rounds at
 * 16,384 bins, where a round signs about a bin per target it carries. While
 * that times the targets offered a second stays under 1 s, rounds stay
 * short; above it each round carries more than the one before
 * (docs/measured.md, "Where a round's time goes").
 */
function roundMsPerFile(f: Figures): number | null {
  const { meanMs, filesPerRound } = f.rounds ?? {};
  return meanMs && filesPerRound ? meanMs / filesPerRound : null;
}

/** The side-by-side columns' headers with --split (this code split, the baseline column in one workerd). */
const SPLIT_HEADERS = ["figure", "split: three workerd", "one workerd", "better ×", "split: range", "one: range"];

/** The table's first note under --split: what the two layouts are. */
const SPLIT_NOTE = `--split: "one workerd" runs the bundle as wrangler dev does, every isolate and the local R2 and cache simulators on one thread; "split: three workerd" gives the Worker, the repository's Durable Object and R2 a process (a thread) each, as the platform does (scripts/bench/topology.ts), on the same machine, so they still share its cores with the load. The Worker reaches the object through a gateway entrypoint in the object's process (a service binding to the gateway's own socket, whose getByName hands back an RPC target for the repository's stub: one local hop the platform does not have; before e987aa2 a forwarding object in the Worker's process made a second, and until 2026-12-05 a proxy Worker of Miniflare's dev registry ran in the Worker's process for each call), and R2 through Miniflare's shared storage. Both run with wrangler.toml's settings (SHORT_CACHE_SECONDS 10). Pushes and the read probes go to the Worker on its own socket (a Miniflare direct socket; before 2026-12-05 through Miniflare's entry Worker, a JavaScript router the platform does not have); in the split the object's purge of timestamp.json cannot reach the Worker's cache or its isolate's copy (as on the platform it reaches no other isolate or location), so the watcher that times "ack → published" reads timestamp.json from the object's process, the writer's location, where it does (a Worker isolate there on the platform keeps a copy of a mutable file at most 1 s). Heap and --profile: the inspector of the process that runs the repository's object, its isolate alone in the split (so the profile's Worker share is only the gateway's and RPC's glue). CPU rows: each process while pushing and draining ÷ targets accepted.`;

/** The tables of a scale run: `nows` this code's runs, `befores` the baseline's (or, with --split, one workerd's). */
export function scaleTables(context: BenchContext, nows: readonly Figures[], befores: readonly Figures[]): Table[] {
  const { options } = context;
  const fmt = (n: number) => n.toLocaleString("en-US");
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
      row("the object's SQLite growth while pushing, bytes per accepted target", (f) => f.storageGrowthPerTarget, true),
      row("snapshot.json, bytes (as the served timestamp.json names it after the drain)", (f) => f.snapshotBytes, true),
      row("replaced metadata files recorded while pushing, per accepted target", (f) => f.supersededPerTarget, true),
      row("the pages' documents after the import: log entries behind", (f) => f.pages?.behind ?? null, true),
      row("the pages' documents after the import: s until none behind", (f) => f.pages?.seconds ?? null, true),
      row(
        `the pages' documents after the import: s until a sample of ${PAGES_SAMPLE} was written`,
        (f) => f.pages?.writtenSeconds ?? null,
        true,
      ),
      row("the pages' documents after the import: longest pause, s", (f) => f.pages?.longestPauseSeconds ?? null, true),
      row(
        "the pages' documents after the import: log entries sent per s (until none behind)",
        (f) => (f.pages?.seconds ? f.pages.behind / f.pages.seconds : null),
        false,
      ),
      row(
        `the pages' documents of the import: written per s, from the import's start until the sample's were`,
        (f) =>
          f.pages?.writtenSeconds ? (f.importTargetsPerS * f.importS) / (f.importS + f.pages.writtenSeconds) : null,
        false,
      ),
      row("the pages' documents after the pushes: log entries behind", (f) => f.pagesAfterPushes?.behind ?? null, true),
      row(
        "the pages' documents after the pushes: s until none behind",
        (f) => f.pagesAfterPushes?.seconds ?? null,
        true,
      ),
      row(
        `the pages' documents after the pushes: s until a sample of ${PAGES_SAMPLE} was written`,
        (f) => f.pagesAfterPushes?.writtenSeconds ?? null,
        true,
      ),
      row("heap after pushes, MiB used", (f) => f.heapAfterPushesUsedMiB, true),
      row("publish rounds while pushing and draining", (f) => f.rounds?.count ?? null, false),
      row("publish round, mean ms", (f) => f.rounds?.meanMs ?? null, true),
      row("files signed per round, mean", (f) => f.rounds?.filesPerRound ?? null, true),
      row("publish round, ms per file it signed (mean round ÷ mean files)", (f) => roundMsPerFile(f), true),
      row("the longest round, ms (--split: the object's log lines)", (f) => f.longestRound?.ms ?? null, true),
      row("the longest round's files", (f) => f.longestRound?.files ?? null, true),
      ...PHASE_ROWS.map(([label, phase]) =>
        row(
          `publish round, mean ms: ${label} (--split: the object's log lines)`,
          (f) => f.roundPhases?.[phase] ?? null,
          true,
        ),
      ),
      row("targets/s accepted while pushing", (f) => f.acceptedTargetsPerS, false),
      row("targets/s published (pushing + drain)", (f) => f.publishedTargetsPerS, false),
      row("ack p50, ms", (f) => f.ackMs.p50, true),
      row("ack p99, ms", (f) => f.ackMs.p99, true),
      row("ack: the bench's lateness in beginning the push, p50, ms", (f) => f.ackLateMs?.p50 ?? null, true),
      row("ack: the bench's lateness in beginning the push, p99, ms", (f) => f.ackLateMs?.p99 ?? null, true),
      row(
        "ack: the Worker's handling of the push (Server-Timing total), p50, ms",
        (f) => f.ackWorkerMs?.p50 ?? null,
        true,
      ),
      row(
        "ack: the Worker's handling of the push (Server-Timing total), p99, ms",
        (f) => f.ackWorkerMs?.p99 ?? null,
        true,
      ),
      row("ack: the Worker's wait for the object (Server-Timing), p50, ms", (f) => f.ackObjectMs?.p50 ?? null, true),
      row("ack: the Worker's wait for the object (Server-Timing), p99, ms", (f) => f.ackObjectMs?.p99 ?? null, true),
      row("ack: of it, inside the object (its own report), p50, ms", (f) => f.ackInObjectMs?.p50 ?? null, true),
      row("ack: of it, inside the object (its own report), p99, ms", (f) => f.ackInObjectMs?.p99 ?? null, true),
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
        options.split
          ? "that main thread ready to run but waiting for a core, % of the time"
          : "the main thread of the Worker's workerd ready to run but waiting for a core, % of the time",
        (f) => (f.objectThreadWaiting === null ? null : f.objectThreadWaiting * 100),
        true,
      ),
      row(
        "the other threads of the process that runs the object (V8's helpers, the inspector), CPU per target, µs",
        (f) => micro(f.objectHelperCpuMsPerTarget),
        true,
      ),
      row(
        "R2 operations the object made per accepted target, all",
        (f) => (f.r2OperationsPerTarget ? Object.values(f.r2OperationsPerTarget).reduce((a, b) => a + b, 0) : null),
        true,
      ),
      ...(["put", "get", "head", "delete", "list"] as const).map((operation) =>
        row(
          `  of which ${operation}`,
          (f) => (f.r2OperationsPerTarget ? (f.r2OperationsPerTarget[operation] ?? 0) : null),
          true,
        ),
      ),
      ...(["packs", "metadata", "log", "site", "public", "targets"] as const).map((area) =>
        row(`  of which under ${area}/`, (f) => (f.r2AreasPerTarget ? (f.r2AreasPerTarget[area] ?? 0) : null), true),
      ),
      row(
        "the process that runs the object (one: all of it): write system calls per target",
        (f) => f.objectProcessIo?.writeCallsPerTarget ?? null,
        true,
      ),
      row(
        "the process that runs the object (one: all of it): KB written per target, files and sockets",
        (f) => (f.objectProcessIo ? f.objectProcessIo.writeBytesPerTarget / 1000 : null),
        true,
      ),
      row(
        "the process that runs the object (one: all of it): its CPU in the kernel, %",
        (f) => (f.objectProcessIo ? f.objectProcessIo.kernelShare * 100 : null),
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
        "the process that runs the object, CPU per target beyond its isolate's own, µs (--profile)",
        (f) =>
          f.isolateCpuMsPerTarget === null ? null : micro(f.workerProcessCpuMsPerTarget - f.isolateCpuMsPerTarget),
        true,
      ),
      row(
        "targets/s one object's thread takes at that CPU",
        (f) => (f.objectCpuMsPerTarget ? 1000 / f.objectCpuMsPerTarget : null),
        false,
      ),
      row(
        "the object's isolate: major collections while pushing and draining (--trace-gc)",
        (f) => f.collections?.largest?.count ?? null,
        true,
      ),
      row("  their longest pause, ms (--trace-gc)", (f) => f.collections?.largest?.longestMs ?? null, true),
      row(
        "  their pauses, ms per 1,000 targets accepted (--trace-gc)",
        (f) =>
          f.collections?.largest && f.acceptedTargets > 0
            ? (f.collections.largest.totalMs / f.acceptedTargets) * 1000
            : null,
        true,
      ),
      row(
        "  of those pauses, outside V8's own phases (the runtime's objects), ms per 1,000 targets accepted (--trace-gc)",
        (f) =>
          f.collections?.largest?.outsideV8Ms != null && f.acceptedTargets > 0
            ? (f.collections.largest.outsideV8Ms / f.acceptedTargets) * 1000
            : null,
        true,
      ),
      row(
        "the other isolates on the object's thread (split: the gateway's; one: the R2 and cache simulators'): major collections (--trace-gc)",
        (f) => f.collections?.others.count ?? null,
        true,
      ),
      row("  their longest pause, ms (--trace-gc)", (f) => f.collections?.others.longestMs ?? null, true),
      row(
        "  their pauses, ms per 1,000 targets accepted (--trace-gc)",
        (f) =>
          f.collections && f.acceptedTargets > 0 ? (f.collections.others.totalMs / f.acceptedTargets) * 1000 : null,
        true,
      ),
      row(
        "the isolate's garbage collection, ms per 1,000 targets accepted (--profile)",
        (f) => (f.profile?.gc && f.acceptedTargets > 0 ? (f.profile.gc.totalMs / f.acceptedTargets) * 1000 : null),
        true,
      ),
      row("  its longest pause, ms (--profile)", (f) => f.profile?.gc?.longestMs ?? null, true),
      row("  its pauses of 20 ms or more (--profile)", (f) => f.profile?.gc?.long ?? null, true),
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
      ...(options.pin
        ? [
            options.pin === "process"
              ? `--pin-process: in both layouts the process that runs the repository's object (in one workerd, all of it) had core ${runPlan().object} to itself, every thread of it (V8's helpers too), and every other process of the run (the Worker's and the storage's workerd, and the bench with its pushers, probes and watcher) ${coreList(runPlan().rest)} (taskset; scripts/bench/cpu-pinning.ts), so the object's thread waited for no other part of the run for a core, as on the platform; the machine's other processes were not pinned.`
              : `--pin: in both layouts the main thread of the process that runs the repository's object (in one workerd, all of its isolates and simulators) had core ${runPlan().object} to itself, and that process's other threads (V8's collector and compiler, the inspector, the profiler's sampler) and every other process of the run ${coreList(runPlan().rest)} (taskset; scripts/bench/cpu-pinning.ts), so the object's thread waited for no other part of the run for a core, as on the platform; the machine's other processes were not pinned.`,
          ]
        : []),
      ...(repeated
        ? [
            `--repeat ${options.repeat}: each side measured ${options.repeat} times, taking turns to go first (the baseline first in the first run); a cell is the median of its side's runs, "better ×" the ratio of the medians, and the range columns give each side's lowest and highest. The CPU profile (--profile) is the last run's.`,
          ]
        : []),
      `this code: ${now.code}${before ? `; baseline: ${before.code}` : " (no --baseline given)"}. "better ×" is baseline ÷ this code for costs and times, this code ÷ baseline for rates.${before ? ' The baseline is measured first; at 2,000 targets/s offered and 16,384 bins two instances of one run have differed by 1.2–1.8× in acknowledgement → published p99, the same code twice included, the second the slower in three runs of four (docs/measured.md, "The local R2 simulator\'s cost"): run both orders (--code) before reading a difference.' : ""}`,
      `Pushes are signed (HMAC) POST /{repo}/webhooks/registry with Prefer: respond-async: with --pushers, each pusher a closed loop (its next push once the last is acknowledged, so the acknowledgement is about pushers ÷ the rate the object accepts them); with --push-rate, pushes fall due at that rate whatever the answers (open loop). ack: the push's round trip (through wrangler's proxy, or with --direct to the Worker's own workerd port: ${now.front}), from when it fell due. ack → published: until the served timestamp.json first carries the change (a watcher reads it every ${POLL_MS} ms, one request at a time, and notes when each version is first seen; after draining, each task's first timestamp version is read from GET /{repo}/tasks/{id}); a figure is late by at most one read.`,
      "The Worker's wait for the object: the push answer's Server-Timing \"repository\" (src/routes/pushes.ts), the time from the Worker's call to the repository's Durable Object to its answer, as the Worker's clock sees it: the RPC, the object's turn (behind what runs on its thread), the change checked, stored and committed. The rest of the acknowledgement is the Worker's own handling and the time the request and its answer waited for the Worker's thread and the network. Inside the object: Server-Timing \"object\", the object's own count from the call's start there to its answer (its checks, its group's turn and transaction); the rest of the Worker's wait is the hop, the wait for the object's thread to take the call, and the commit its answer waits for. A code whose answers carry no Server-Timing shows –. The Worker's handling: Server-Timing \"total\", from the Worker's router taking the request to its answer, the wait for the object included. The bench's lateness: from when a push fell due until its pusher began it, on this process's clock (its event loop busy with the other pushes, the probes and, split, Miniflare's own work): a part of the acknowledgement that is the load generator's, not tuf-edge's.",
      "The main thread on a core: that thread's CPU time (/proc/<pid>/task/<pid>/stat) ÷ wall time, pushing and draining. workerd runs every isolate's JavaScript on it: in one workerd the Worker's, its object's and the local R2 and cache simulators'. Near 100 %, an event waits for every one queued before it, and a CPU figure per target is that thread's time ÷ the rate, not what a target needs: rounds run back to back, so they take whatever the thread has left (docs/measured.md, \"The thread at 2,000 and 500 targets/s\"). Waiting for a core: the time that thread was ready to run while another thread had its core (the second field of /proc/<pid>/task/<pid>/schedstat) ÷ wall time; pinned, what it waits for runs on its core (with --pin-process, its own process's other threads). Those other threads (V8's helpers, the inspector, the profiler's sampler): the process's CPU less the main thread's, ÷ targets accepted.",
      "R2 operations the object made: tuf_edge_r2_operations_total (durable-objects/metrics.ts: every call of the object's bucket binding, by method) read just before the pushes and once they are published, ÷ targets accepted; the pages' documents a round's end starts count if they ran by then. On the platform each is a subrequest of the object's invocation, and on the bill a Class A operation (put, list) or a Class B one (get, head); deletes are free.",
      "The process that runs the object, its writes: /proc/<pid>/io's syscw (write system calls) and wchar (the bytes they wrote), to files and sockets alike, ÷ targets accepted, pushing and draining: SQLite's write-ahead log and its statement journals (two calls a page each), and every R2 operation, RPC and HTTP answer the local runtime carries over its sockets (Miniflare's R2 and the split's hops are local TCP connections, which the platform does not have). Its CPU in the kernel: its stime ÷ its utime + stime, the system calls' and the network stack's share. Beyond its isolate's own (--profile): that process's CPU per target less the isolate's own CPU per target in the profile, the part no JavaScript or SQLite statement of the object accounts for (the runtime's I/O, RPC and event loop, the kernel, the profiler's sampling; in one workerd also the Worker's and the simulators' other isolates) (docs/measured.md, \"Outside the object's isolate\").",
      `The machine's CPU in use while pushing and draining: every process's CPU time on the machine (/proc/stat) ÷ wall time ÷ its ${context.machineCores} cores; workerd: the instance's processes (their /proc/<pid>/stat); the bench's own process: this Node process, every thread of it (the pushers' HMAC and requests, the read probes, the watcher); other processes: the rest (wrangler's parent process, the machine's own). Near 100 %, every process waits for a core, and times measure the machine's saturation, not only the code.`,
      "Worker isolate CPU and busy (--profile only; both codes are profiled alike), ÷ targets accepted, pushing and draining: the isolate of the Worker and its Durable Object, sampled every 0.5 ms. Busy: every sample but idle, each counted for the time since the sample before it, so a gap (the thread in the R2 and cache simulators' isolates, in I/O, or waiting for a core) counts toward the sample after it. CPU: the same with each gap counted for at most 1 ms, the isolate's own work.",
      "Major collections (--trace-gc): workerd's V8 --trace-gc-nvp lines from the process that runs the object (scripts/bench/gc-trace.ts), the Mark-Compacts between the first push and the drain; their times are ms since the isolate was created, read as since the process started (/proc), so an event within a fraction of a second of either end may be counted on the wrong side; workerd's stdout is block-buffered, so its last lines come late, and they are read once the pages' documents have followed, seconds after the drain. The object's isolate: the process's isolate with the largest heap after its last Mark-Compact. Outside V8's own phases: each pause less the phases the line names (marking, clearing, evacuation, sweeping, …), what workerd does in it: its C++ objects (SQL cursors, Headers, WebCrypto results, RPC's) are swept in the pause, and each dead one adds there (npm run bench:gc-objects). The other isolates: the rest of the process's, each pause a stop of the one thread they share; split, the gateway (a hop the platform does not have) and Miniflare's own; in one workerd, the local R2 and cache simulators'.",
      "The isolate's garbage collection (--profile): the profile's \"(garbage collector)\" samples, each counted for the time since the sample before it; a pause is a run of them (scripts/bench/gc-pauses.ts). workerd runs V8 without incremental marking, so a major collection is one stop-the-world pause that every event arriving meanwhile waits for.",
      "Runs (--profile): a run is a stretch of the isolate's samples none of which is idle, from the last idle sample before it to its last (scripts/bench/busy-runs.ts). workerd takes a new request and fires a timer only between runs of the work queued on its thread, so a request that arrives during a run waits for its end. Outside the isolate: each sample's time since the one before beyond 1 ms (the thread in the local R2 and cache simulators' isolates, or in I/O), as the isolate's CPU row caps it.",
      "The object's CPU (--profile): the isolate's own CPU less the samples of the Worker's request handling (routing, the RPC call, the answer: scripts/bench/profile-sides.ts), which on the platform run elsewhere while the object has a thread of its own; an upper bound of the object's share. Targets/s one object's thread takes: 1 s ÷ that CPU per target, its capacity if nothing else shared its thread.",
      `The pages' documents: tuf_edge_site_documents_behind (published log entries whose targets' documents for the public pages are not sent yet; before 5f657ff, not written) once the import was published, read every 250 ms until 0, at most ${PAGES_LIMIT_MS / 1000} s (since the documents go through a queue, 0 says they are all sent, not written: then the target pages of ${PAGES_SAMPLE} of the targets, evenly spread and the last included, are read every 500 ms until each shows its document, "until a sample was written", timed from the same start; scripts/bench/site-sample.ts; "written per s" is the targets imported ÷ the import's seconds and those until the sample was written); its longest pause is the longest it stood still between two readings that differed (the documents follow run after run on the object's alarm, so a long one is an alarm that did not fire: docs/measured.md, "An alarm that did not fire"); the pushes start after it (a code without that gauge: at once, its documents still following). The same is read once the pushes are all published, after every other figure of the pushes is read.`,
      "CPU: both workerd processes (the Worker with its Durable Object and the local R2 and cache simulators, and wrangler's proxy) while pushing and draining, ÷ targets accepted. Heap: Runtime.getHeapUsage of the Worker's isolate after HeapProfiler.collectGarbage, through wrangler's inspector.",
      `GET timestamp.json: one client, one request at a time with 50 ms between, ${now.front === "proxy" ? "through wrangler's proxy" : "at the Worker's own port"}: for 2 s before the pushes, and from the first push until everything was published (rounds running). The control: a second client reading GET /openapi.json alike at the same time, each read a revalidation (If-None-Match with the document's ETag, answered 304 with no body) for a code that gives it one (9d036bb on; before, the whole 87 KB, serialised and compressed per read), an answer the Worker builds without any binding (no object, no R2, no cache), so its time is what any read waits for in this runtime: workerd takes a new request between runs of the work already queued on its one thread, and here that work includes the object's and the local R2 and cache simulators'.`,
      "SQLite after import: tuf_edge_storage_bytes (the object's SqlStorage.databaseSize) from GET /{repo}/admin/metrics ÷ targets imported; a code without that gauge shows –. Growth while pushing: the same gauge once everything pushed is published, less its value after the import, ÷ targets accepted (the pushes' rows, their log entries and those of every file their rounds published, less what pruning freed and the pushes reused).",
      "Replaced metadata files: tuf_edge_superseded_files (the files of versions a round replaced, each deleted from R2 once the repository's retainSuperseded has passed: a day by default, so none during a run) once everything pushed is published, less its value after the import, ÷ targets accepted; each round replaces a snapshot and the packs, or files, of the roles it re-signs. A code without that gauge shows –.",
      "Publish rounds: the rounds that published a timestamp between the import's end and the drain (deltas of tuf_edge_publish_round_duration_seconds and tuf_edge_metadata_files_published_total in GET /{repo}/admin/metrics), each from its start to its timestamp. A change accepted while a round runs waits for that round to end and for the next one, so with rounds back to back ack → published is between one and two rounds. Files: every file a round stored (bins, targets, snapshot, timestamp).",
      "Publish round by phase (a bundle the bench started: --split): the mean over the rounds that ended while pushing and draining of each phase's wall time, from the object's publish.round lines (durable-objects/round-phases.ts; a code before them shows –): the claimed roles signed and stored, the log's full tiles stored ahead of its checkpoint, the log's new entries hashed, the snapshot joined and signed, the snapshot, new roots and the log's tiles and checkpoint stored at once, the timestamp signed and stored, the versions made current. Each includes its waits (R2, the object's turns); between its steps is the round's duration less its phases. The waits for the object's turns (turns.ts) are counted inside the phases that waited, a share of them, not a further part.",
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
  return tables;
}
