/**
 * `npm run bench`: measures tuf-edge on this machine and prints a table per
 * section; the figures also go to bench-results/latest.json.
 *
 *   npm run bench                 full run (16,384 bins, 100,000 targets, 5 s load runs)
 *   npm run bench -- --quick      smaller run (1,024 bins, 10,000 targets, 2 s load runs)
 *   npm run bench -- --help       every option
 *
 * Sections live in scripts/bench/sections/ (see its index.ts); every figure
 * comes from the run that prints it, and every ratio compares with a baseline
 * measured in the same run.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "./lib/local-instance.ts";
import { closeHttpAgent } from "./bench/http.ts";
import { loaderAvailable } from "./bench/load.ts";
import { type PinMode, runPlan } from "./bench/cpu-pinning.ts";
import { descendants } from "./bench/proc.ts";
import { freezeProject } from "./bench/snapshot.ts";
import { makeStateDir } from "./bench/state-dir.ts";
import { SECTIONS } from "./bench/sections/index.ts";
import { formatTable } from "./bench/table.ts";
import type { BenchContext, BenchOptions, LoaderName, SectionResult, Table } from "./bench/types.ts";

const HELP = `usage: npm run bench -- [options]

  --quick               smaller run: 1,024 bins, 10,000 targets, 2 s load runs (about 3 min for every section)
  --only LIST           sections to run, comma-separated (${SECTIONS.map((s) => s.name).join(", ")})
  --duration S          seconds of measured load per serving run (5; quick 2)
  --warmup S            seconds of warm-up load before each serving run (2; quick 1)
  --connections N       concurrent connections of the load generator (32)
  --loaders LIST        load generators: autocannon,wrk (full: both, wrk skipped if not installed;
                        quick: wrk if installed, else autocannon)
  --no-nginx            do not compare with nginx even if installed
  --bins N              bins of the publishing repository (16384; quick 1024)
  --targets N           targets added in the publishing section (100000; quick 10000)
  --batch N             targets per POST …/admin/targets (1000)
  --baseline REV        also run the scale and bulk sections against commit REV (e.g. main or a commit id),
                        side by side with this code, in the same run (default: no baseline)
  --pushers N           concurrent registry pushers in the scale section (100)
  --push-rate N          scale section: offer pushes at N targets/s (open loop, 10 targets per push)
                        instead of --pushers closed loops, to time acknowledgements below saturation;
                        growth section: the rate of its pushes (500)
  --direct              scale and growth sections: push, read tasks and timestamp.json at the Worker's own
                        workerd port, not through wrangler's proxy (which production does not have)
  --split               scale section: run this code through Miniflare twice, in one workerd (as
                        wrangler dev does) and then split into three, the Worker, the repository's
                        Durable Object and R2 each on a thread of its own as on the platform, side by
                        side (not with --baseline); ack → published is read in the object's process,
                        the writer's location; heap and --profile are the object's process's
  --pin                 with --split --only scale: the main thread of the process that runs the
                        repository's object (its JavaScript and SQLite) on core 0 alone, and
                        everything else on the other cores: that process's other threads (V8's
                        collector and compiler, the inspector, the profiler's sampler), the Worker's
                        and storage's workerd and this bench (its pushers and probes), as the
                        platform gives the object a thread no other part of the service shares
                        and V8's helpers serve many isolates on many cores (taskset; Linux, 2 cores
                        or more)
  --pin-process         as --pin, but every thread of the object's process on core 0, its V8
                        helpers too (what --pin did before 2026-12-05; they took 5–11 % of that
                        core's time from its main thread: docs/measured.md, "V8's helpers off the
                        object's core")
  --repeat N            scale section: measure each side N times (1), taking turns to go first, and
                        give each figure's median and range (two runs of one code have differed by
                        up to 1.8× here: docs/measured.md, "The local R2 simulator's cost")
  --profile             scale section: take a CPU profile of the Worker's isolate (wrangler's
                        inspector) while pushing and draining, print its heaviest functions
                        and write it whole to bench-results/scale-profile-*.cpuprofile; bulk
                        section: print the heaviest functions of each of its steps (by self
                        time; bootstrap and re-sign also by total time, callees included) and
                        write each step's profile to bench-results/bulk-*.cpuprofile (with
                        --out FILE, beside FILE instead: FILE.scale-profile-*.cpuprofile, …)
  --heap-snapshot       scale section: after the pushes, a heap snapshot of the isolate the inspector
                        reads (the object's, split), written beside the profiles
                        (bench-results/scale-heap-*.heapsnapshot, for DevTools' Memory panel) and its
                        heaviest kinds printed: what each stop-the-world collection walks (workerd
                        runs V8 without incremental marking)
  --alloc-profile       scale section: V8's sampling heap profiler on the inspected isolate while
                        pushing and draining (every allocation sampled, collected or not: what
                        fills the heap between two collections), written beside the profiles
                        (bench-results/scale-alloc-*.heapprofile) and its heaviest stacks printed
  --trace-gc            scale section with --split: workerd runs with V8's --trace-gc-nvp, and the
                        table gives the major collections (stop-the-world pauses: workerd runs V8
                        without incremental marking) of the object's isolate, the part of them
                        outside V8's own phases (the runtime's objects swept), and those of the
                        other isolates on its thread, while pushing and draining
  --import N            targets the bulk section imports with \`tuf-edge import\` (1000000; quick 50000);
                        the heap is read at a tenth of them and at all of them
                        growth section: the repository is filled to a hundredth, a tenth and all
                        of N, and pushes are timed at each size
  --baseline-import N   targets imported into the --baseline code (default: --import), for a
                        baseline too slow at full size
  --import-batch N      targets per batch of the bulk section's imports (\`tuf-edge import --batch-size\`;
                        2500, what the CLI sends for a large import since 2026-12-03; the same for
                        --baseline, whatever its CLI's default)
  --out FILE            JSON results (bench-results/latest.json)
  --keep-state          keep the instances' state folders (printed at the end)
  --state-dir DIR       keep the instances' state under DIR (default: /dev/shm if it is a tmpfs with
                        16 GiB free, else the work folder); local workerd waits for a disk on its
                        one thread (scripts/bench/state-dir.ts)
  --code REV            run commit REV as this code instead of HEAD (with --baseline, to measure two
                        commits in either order: the baseline is measured first)
  --worktree            run the work tree as it is (uncommitted edits included), copied at the
                        start, instead of the last commit (HEAD, the default)
  --local-observability keep wrangler dev's local trace collector on (its default): it records a
                        span per request, R2 call and SQL statement in the same workerd, which
                        costs CPU, memory and disk that are not tuf-edge's; off unless this is given
  --live                run wrangler dev in the work tree itself (any edit during the run
                        then rebuilds and restarts the Worker mid-measurement)
`;

function parseOptions(): { options: BenchOptions; only: string[]; out: string; stateParent: string | null } {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      loaders: { type: "string" },
      "no-nginx": { type: "boolean", default: false },
      bins: { type: "string" },
      targets: { type: "string" },
      batch: { type: "string" },
      baseline: { type: "string" },
      code: { type: "string" },
      pushers: { type: "string" },
      "push-rate": { type: "string" },
      import: { type: "string" },
      "baseline-import": { type: "string" },
      "import-batch": { type: "string" },
      profile: { type: "boolean", default: false },
      "heap-snapshot": { type: "boolean", default: false },
      "alloc-profile": { type: "boolean", default: false },
      "trace-gc": { type: "boolean", default: false },
      direct: { type: "boolean", default: false },
      split: { type: "boolean", default: false },
      pin: { type: "boolean", default: false },
      "pin-process": { type: "boolean", default: false },
      repeat: { type: "string" },
      out: { type: "string" },
      "keep-state": { type: "boolean", default: false },
      "state-dir": { type: "string" },
      live: { type: "boolean", default: false },
      worktree: { type: "boolean", default: false },
      "local-observability": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = values.quick;
  const num = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  // Quick: one loader (wrk if installed: microsecond latencies); full: both.
  const defaultLoaders = quick ? (loaderAvailable("wrk") ? "wrk" : "autocannon") : "autocannon,wrk";
  const loaders = (values.loaders ?? defaultLoaders).split(",").map((l) => l.trim());
  for (const l of loaders) if (l !== "autocannon" && l !== "wrk") throw new Error(`unknown loader "${l}"`);
  if (values.code !== undefined && (values.worktree || values.live))
    throw new Error("--code names a commit to run: it does not go with --worktree or --live");
  if (values.repeat !== undefined && !/^[1-9][0-9]*$/.test(values.repeat))
    throw new Error("--repeat must be a whole number of runs, 1 or more");
  if (values.split && values.baseline !== undefined)
    throw new Error("--split compares two layouts of this code: it does not go with --baseline");
  if (values.pin && values["pin-process"])
    throw new Error("--pin pins the object's main thread, --pin-process all of its process: give one of them");
  const pin: PinMode | null = values.pin ? "thread" : values["pin-process"] ? "process" : null;
  if (pin && !values.split)
    throw new Error(
      "--pin and --pin-process give the object's process a core of its own: they go with --split, which starts that process",
    );
  if (values["trace-gc"] && !values.split)
    throw new Error(
      "--trace-gc reads the lines of the workerd processes the bench starts itself: it goes with --split (wrangler dev keeps them)",
    );
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : SECTIONS.map((s) => s.name);
  for (const name of only) if (!SECTIONS.some((s) => s.name === name)) throw new Error(`unknown section "${name}"`);
  // It pins this process too, for the rest of the run: no other section may run after it.
  if (pin && only.some((name) => name !== "scale"))
    throw new Error(
      "--pin and --pin-process pin the bench itself to the cores they leave over: run them with --only scale",
    );
  // The plan is read once, before this process is pinned (cpu-pinning.ts).
  if (pin) runPlan();
  return {
    only,
    out: values.out ?? join(PROJECT_ROOT, "bench-results/latest.json"),
    stateParent: values["state-dir"] ?? null,
    options: {
      quick,
      durationS: num(values.duration, quick ? 2 : 5, "duration"),
      warmupS: num(values.warmup, quick ? 1 : 2, "warmup"),
      connections: num(values.connections, 32, "connections"),
      loaders: loaders as LoaderName[],
      nginx: !values["no-nginx"],
      bins: num(values.bins, quick ? 1024 : 16_384, "bins"),
      targets: num(values.targets, quick ? 10_000 : 100_000, "targets"),
      batchSize: num(values.batch, 1000, "batch"),
      baseline: values.baseline ?? null,
      pushers: num(values.pushers, 100, "pushers"),
      pushRate: values["push-rate"] === undefined ? null : num(values["push-rate"], 0, "push-rate"),
      importTargets: num(values.import, quick ? 50_000 : 1_000_000, "import"),
      baselineImport:
        values["baseline-import"] === undefined ? null : num(values["baseline-import"], 0, "baseline-import"),
      importBatch: num(values["import-batch"], 2_500, "import-batch"),
      profile: values.profile,
      heapSnapshot: values["heap-snapshot"],
      allocationProfile: values["alloc-profile"],
      traceGc: values["trace-gc"],
      direct: values.direct,
      split: values.split,
      pin,
      repeat: num(values.repeat, 1, "repeat"),
      workDir: "",
      stateDir: "",
      keepState: values["keep-state"],
      code: values.live ? "live" : values.worktree ? "worktree" : "head",
      revision: values.code ?? "HEAD",
      localObservability: values["local-observability"],
    },
  };
}

function gitDescription(): string | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return null;
  }
}

/** On Ctrl-C or SIGTERM, end the processes this run started (wrangler, workerd, servers, loaders). */
function stopChildrenOnSignal(options: BenchOptions): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const pid of descendants(process.pid)) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      if (options.workDir && !options.keepState) rmSync(options.workDir, { recursive: true, force: true });
      if (options.stateDir && !options.keepState) rmSync(options.stateDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
}

async function main(): Promise<number> {
  const { options, only, out, stateParent } = parseOptions();
  // Every wrangler dev started from here inherits this environment.
  process.env.X_LOCAL_OBSERVABILITY = options.localObservability ? "true" : "false";
  options.workDir = await mkdtemp(join(tmpdir(), "tuf-edge-bench-"));
  const state = await makeStateDir(stateParent, options.workDir);
  options.stateDir = state.path;
  // SQLite's temporary files (a transaction's sub-journal, spilled once past 64 KiB) go with the state, not
  // to /var/tmp: on a disk they were about 4 % of the object's process at 2,000 targets/s (state-dir.ts).
  process.env.SQLITE_TMPDIR = state.path;
  stopChildrenOnSignal(options);
  const log = (message: string) =>
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  const started = new Date();
  const git = gitDescription();
  const project = await freezeProject(options.workDir, options.code, options.revision);
  const baseline = options.baseline ? await freezeProject(options.workDir, "head", options.baseline, "baseline") : null;
  const defaultOut = join(PROJECT_ROOT, "bench-results/latest.json");
  const profilePath = (name: string) =>
    resolve(out) === defaultOut
      ? join(PROJECT_ROOT, "bench-results", `${name}.cpuprofile`)
      : `${resolve(out).replace(/\.json$/, "")}.${name}.cpuprofile`;
  const context: BenchContext = { options, log, project, baseline, machineCores: cpus().length, profilePath };
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  log(`${options.quick ? "quick" : "full"} run: ${only.join(", ")}; work folder ${options.workDir}`);
  log(`instance state in ${state.description}`);
  log(`instances run ${project.description}; node_modules: ${project.nodeModules}`);
  if (baseline) log(`baseline instances run ${baseline.description}`);

  const results: Array<
    { name: string; title: string; ok: boolean; error?: string; durationS: number } & Partial<SectionResult>
  > = [];
  for (const section of SECTIONS.filter((s) => only.includes(s.name))) {
    log(`section ${section.name}: ${section.title}`);
    const t0 = performance.now();
    try {
      const result = await section.run(context);
      results.push({
        name: section.name,
        title: section.title,
        ok: true,
        durationS: (performance.now() - t0) / 1000,
        ...result,
      });
    } catch (error) {
      const message = (error as Error).stack ?? String(error);
      log(`section ${section.name} FAILED: ${message}`);
      results.push({
        name: section.name,
        title: section.title,
        ok: false,
        error: message,
        durationS: (performance.now() - t0) / 1000,
      });
    }
    log(`section ${section.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  closeHttpAgent();
  const durationS = (Date.now() - started.getTime()) / 1000;

  // The report.
  const summary: Table = {
    title: `tuf-edge benchmark (${options.quick ? "--quick" : "full"}) — ${started.toISOString()}`,
    columns: [
      { header: "section", align: "left" },
      { header: "result", align: "left" },
      { header: "time s", digits: 1 },
    ],
    rows: results.map((r) => [r.name, r.ok ? "ok" : `FAILED: ${r.error?.split("\n")[0]}`, r.durationS]),
    notes: [
      `Machine: ${machine.cpus} × ${machine.cpuModel}, ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GiB, ${machine.platform}; node ${machine.node}; tuf-edge: ${project.description}.`,
      `wrangler dev's local trace collector (X_LOCAL_OBSERVABILITY): ${options.localObservability ? "on (--local-observability)" : "off"}.`,
      `The instances' state: ${state.description}.`,
      `Total run time: ${durationS.toFixed(1)} s.`,
    ],
  };
  const blocks: string[] = [];
  for (const r of results) {
    for (const t of r.tables ?? []) blocks.push(formatTable(t));
    if (r.notes?.length) blocks.push(`Notes (${r.name}):\n${r.notes.map((n) => `- ${n}`).join("\n")}`);
  }
  blocks.push(formatTable(summary));
  process.stdout.write(`\n${blocks.join("\n\n")}\n`);

  await mkdir(dirname(out), { recursive: true });
  const report = {
    version: 1,
    mode: options.quick ? "quick" : "full",
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS,
    machine,
    git,
    code: project.description,
    options: { ...options, workDir: undefined },
    state: state.description,
    sections: results,
  };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`results written to ${relative(process.cwd(), out) || out}`);
  if (options.keepState) log(`state kept in ${options.workDir} and ${options.stateDir}`);
  else {
    await rm(options.workDir, { recursive: true, force: true });
    await rm(options.stateDir, { recursive: true, force: true });
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
