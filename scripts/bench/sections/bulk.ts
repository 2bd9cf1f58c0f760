/**
 * (j) Bulk work at full scale (issue 17): the operations that touch every
 * role or many targets at once, each continued across alarms within the
 * per-invocation budget (durable-objects/invocation-budget.ts).
 *
 *   1. bootstrap of `--bins` bins (16,384; quick 1,024): signs targets,
 *      snapshot and timestamp, and the one empty bin that is every bin's
 *      version 1;
 *   2. full online re-sign: an online-key rotation (root v2 names a new online
 *      key; once signed, every online role is re-signed with it), timed from
 *      the final root signature until that call answers (it waits for the
 *      publish);
 *   3. `tuf-edge import` (the CLI, run as a child process) of `--import`
 *      targets (1,000,000; quick 50,000) into that repository, in two runs:
 *      the first tenth, then the rest; the V8 heap of the Worker's isolate
 *      (after a full GC, through wrangler's inspector) is read after each;
 *   4. the largest single publish invocation (R2 operations, roles, wall time)
 *      from /metrics.
 *
 * With `--baseline REV` the same steps run against REV first, in the same
 * run; its import size is `--baseline-import` (default: the same as
 * `--import`), for a baseline too slow at full size; then this code starts
 * on the baseline's state, as a deployment over the baseline's repository
 * would: its first request to the repository runs this code's migrations
 * in the object's constructor (schema.ts), timed against the request after
 * it. With `--profile`, the object's CPU profile of each step is printed
 * (heaviest functions).
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { bootstrapRepository, signDraft } from "../../lib/admin-client.ts";
import { Ed25519Signer } from "../../../src/tuf/signer.ts";
import { type BenchInstance, startBenchInstance } from "../instance.ts";
import { type HotFunction, hotFunctions, connectInspector } from "../inspector.ts";
import { profileWindow } from "../profile-windows.ts";
import { timeUpgrade, type Upgrade, upgradeTable } from "../upgrade.ts";
import { type TotalTime, totalTimes } from "../profile-totals.ts";
import { InstanceMonitor } from "../monitor.ts";
import { counterTotal, largestInvocation } from "../metrics-reader.ts";
import { SIDE_BY_SIDE_COLUMNS, sideBySide } from "../side-by-side.ts";
import { startReadProbe } from "../read-probe.ts";
import { percentile } from "../stats.ts";
import { MiB } from "../table.ts";
import type { ProjectCopy } from "../snapshot.ts";
import type { BenchContext, Section, SectionResult, Table } from "../types.ts";

const REPO = "bench-bulk";

interface Step {
  seconds: number;
  /** CPU seconds of both workerd processes during the step. */
  cpuSeconds: number;
  /** The object's heaviest functions during the step (--profile). */
  profile: HotFunction[] | null;
  /** The object's heaviest functions during the step by total time, callees included (--profile). */
  totals: TotalTime[] | null;
  /** An import: until every batch was stored, the CLI's CPU, and the profile of each part (--profile). */
  run?: ImportRun & { profileStore: HotFunction[] | null; profilePublish: HotFunction[] | null };
}

interface Figures {
  code: string;
  bins: number;
  imported: number;
  bootstrap: Step;
  resign: Step & { roles: number };
  importFirst: Step & { targets: number };
  importRest: Step & { targets: number };
  /** Metadata files published and rounds, during both import runs (from /metrics; null if the code has no counter). */
  importFiles: number | null;
  importRounds: number | null;
  heapFirst: { usedMiB: number; totalMiB: number } | null;
  heapAll: { usedMiB: number; totalMiB: number } | null;
  /**
   * How long GET /{repo}/admin/status took, each, while both import runs went
   * on (a read that reaches the object: it waits for whatever the object
   * does, a batch's transaction and what follows it), and how many failed.
   */
  statusWhileImporting: { ms: number[]; failed: number };
  /** The object's SQLite (tuf_edge_storage_bytes) once the import is published, and the log's entries then; null without the gauges. */
  storageBytes: number | null;
  logEntries: number | null;
  largest: Record<string, number> | null;
}

/** A JSON-lines import file of `count` metadata-only targets, numbered from `from`. */
async function writeImportFile(path: string, from: number, count: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = from; i < from + count; i++) {
    const sha256 = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    const line = `{"path":"bulk-${i}/bulk-${i}-1.0.0.tgz","length":${1000 + (i % 1_000_000)},"hashes":{"sha256":"${sha256}"}}\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/** What one `tuf-edge import` run reported: until every batch was stored, and the CLI's own CPU. */
interface ImportRun {
  /** Seconds from the CLI's start until every batch was acknowledged (its --json summary). */
  storedSeconds: number;
  /** CPU seconds the CLI process itself used (it runs on this machine too). */
  cliCpuSeconds: number;
}

/** Preloaded into the CLI: writes its CPU usage (µs) at exit to $BENCH_CPU_FILE. */
const CPU_AT_EXIT =
  'data:text/javascript,import{writeFileSync}from"node:fs";process.on("exit",()=>writeFileSync(process.env.BENCH_CPU_FILE,JSON.stringify(process.cpuUsage())))';

/** Runs `tuf-edge import FILE` of `project` against the instance; resolves when it exits 0. */
function runImport(
  project: ProjectCopy,
  file: string,
  env: Record<string, string>,
  batchSize: number,
): Promise<ImportRun> {
  const cpuFile = `${file}.cli-cpu.json`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        `--import=${CPU_AT_EXIT}`,
        join(project.root, "scripts/cli.ts"),
        "import",
        file,
        "--json",
        "--batch-size",
        String(batchSize),
      ],
      {
        cwd: project.root,
        env: { ...process.env, ...env, BENCH_CPU_FILE: cpuFile },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + String(chunk)).slice(-4000);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`tuf-edge import exited ${code}: ${stderr.trim()}`));
      void (async () => {
        const summary = JSON.parse(stdout) as { storedSeconds?: number };
        const cpu = JSON.parse(await readFile(cpuFile, "utf8")) as { user: number; system: number };
        return { storedSeconds: summary.storedSeconds ?? Number.NaN, cliCpuSeconds: (cpu.user + cpu.system) / 1e6 };
      })().then(resolve, reject);
    });
  });
}

async function upgrade(context: BenchContext, from: BenchInstance, targets: number): Promise<Upgrade> {
  context.log(`bulk: this code on the baseline's state (${targets.toLocaleString("en-US")} targets)`);
  const bench = await startBenchInstance(context, "bulk-upgrade", { project: context.project, stateOf: from });
  try {
    const upgraded = await timeUpgrade(bench.client(REPO), targets);
    context.log(
      "refused" in upgraded
        ? `  refused: ${upgraded.refused}`
        : `  first request ${upgraded.firstMs.toFixed(0)} ms, the next ${upgraded.secondMs.toFixed(0)} ms`,
    );
    return upgraded;
  } finally {
    await bench.stop();
  }
}

async function measure(
  context: BenchContext,
  project: ProjectCopy,
  label: string,
  imported: number,
): Promise<{ figures: Figures; instance: BenchInstance }> {
  const { options, log } = context;
  const fmt = (n: number) => n.toLocaleString("en-US");
  const bench = await startBenchInstance(context, `bulk-${label}`, { project });
  const monitor = new InstanceMonitor(bench.instance.port, 200);
  const base = bench.instance.baseUrl;
  const inspector = await connectInspector(bench.instance.pid, base);
  /** Runs one step, timed, with the workerd CPU it took (and the object's profile with --profile). */
  const step = async (name: string, work: () => Promise<ImportRun> | Promise<void>): Promise<Step> => {
    const profiling = options.profile && inspector !== null;
    if (profiling) await inspector.startProfile(1000);
    const mark = monitor.mark();
    const t0 = performance.now();
    const ticker = setInterval(() => log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`), 15_000);
    let run: ImportRun | undefined;
    try {
      run = (await work()) ?? undefined;
    } finally {
      clearInterval(ticker);
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = monitor.since(mark);
    const raw = profiling ? await inspector.stopProfile() : null;
    if (raw) {
      // The whole profile too, for DevTools or a flame graph viewer.
      const file = context.profilePath(`bulk-${label}-${name.replace(/[^a-z]+/g, "-")}`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(raw));
      log(`  CPU profile written to ${file}`);
    }
    const top = (p: typeof raw) => (p ? hotFunctions(p, 15).functions : null);
    const cpuSeconds = usage.workerdCores * usage.seconds;
    log(
      `  ${name}: ${seconds.toFixed(1)} s, workerd CPU ${cpuSeconds.toFixed(1)} s${run ? `; stored after ${run.storedSeconds.toFixed(1)} s, CLI CPU ${run.cliCpuSeconds.toFixed(1)} s` : ""}`,
    );
    const storedMs = run ? run.storedSeconds * 1000 : 0;
    return {
      seconds,
      cpuSeconds,
      profile: top(raw),
      totals: raw ? totalTimes(raw, 25) : null,
      ...(run && {
        run: {
          ...run,
          profileStore: top(raw && profileWindow(raw, 0, storedMs)),
          profilePublish: top(raw && profileWindow(raw, storedMs, Number.POSITIVE_INFINITY)),
        },
      }),
    };
  };
  const heap = async () => {
    const h = inspector ? await inspector.heapUsage() : null;
    return h ? { usedMiB: h.usedBytes / MiB, totalMiB: h.totalBytes / MiB } : null;
  };
  try {
    const client = bench.client(REPO);
    const { signer: rootSigner } = await Ed25519Signer.generate();

    log(`bulk (${label}): bootstrapping ${fmt(options.bins)} bins`);
    const bootstrap = await step("bootstrap", async () => {
      await bootstrapRepository(client, { rootSigners: [rootSigner], threshold: 1, settings: { bins: options.bins } });
    });

    log(`bulk (${label}): full online re-sign (online-key rotation)`);
    const ceremony = await client.openCeremony({ kind: "online-key-rotation", reason: "benchmark" });
    const signature = await signDraft(ceremony, rootSigner);
    const resign = await step("re-sign", async () => {
      const result = await client.submitSignature(ceremony.id, signature);
      if (result.ceremony.state !== "published")
        throw new Error(`the rotation is ${result.ceremony.state} after its signature`);
    });

    const first = Math.max(1, Math.round(imported / 10));
    const rest = imported - first;
    const env = { TUF_EDGE_URL: base, TUF_EDGE_REPO: REPO, TUF_EDGE_ADMIN_TOKEN: bench.token };
    const fileFirst = join(context.options.workDir, `bulk-${label}-first.jsonl`);
    const fileRest = join(context.options.workDir, `bulk-${label}-rest.jsonl`);
    await writeImportFile(fileFirst, 0, first);
    if (rest > 0) await writeImportFile(fileRest, first, rest);

    const counted = async () => ({
      files: await counterTotal(base, REPO, bench.token, "tuf_edge_metadata_files_published_total"),
      rounds: await counterTotal(base, REPO, bench.token, "tuf_edge_publish_rounds_total"),
    });
    const beforeImport = await counted();
    const statusProbe = startReadProbe(`${base}/${REPO}/admin/status`, {
      headers: { Authorization: `Bearer ${bench.token}` },
    });
    log(`bulk (${label}): tuf-edge import of ${fmt(first)} targets`);
    const importFirst = await step("import (first tenth)", () =>
      runImport(project, fileFirst, env, options.importBatch),
    );
    const heapFirst = await heap();
    log(`  heap at ${fmt(first)} targets: ${heapFirst ? heapFirst.totalMiB.toFixed(1) : "?"} MiB allocated`);
    log(`bulk (${label}): tuf-edge import of ${fmt(rest)} more targets`);
    const importRest =
      rest > 0 ? await step("import (the rest)", () => runImport(project, fileRest, env, options.importBatch)) : null;
    const statusWhileImporting = await statusProbe.stop();
    const heapAll = await heap();
    log(`  heap at ${fmt(imported)} targets: ${heapAll ? heapAll.totalMiB.toFixed(1) : "?"} MiB allocated`);
    const afterImport = await counted();
    const spent = (key: "files" | "rounds") => {
      const [a, b] = [beforeImport[key], afterImport[key]];
      return a === null || b === null ? null : b - a;
    };
    log(`  the import published ${spent("files") ?? "?"} metadata files in ${spent("rounds") ?? "?"} rounds`);
    const status = await client.status();
    if (status.targetsCount !== imported)
      throw new Error(`status lists ${status.targetsCount} targets after importing ${imported}`);

    const figures: Figures = {
      code: project.description,
      bins: options.bins,
      imported,
      bootstrap,
      resign: { ...resign, roles: options.bins + 3 },
      importFirst: { ...importFirst, targets: first },
      importRest: { ...(importRest ?? { seconds: 0, cpuSeconds: 0, profile: null, totals: null }), targets: rest },
      importFiles: spent("files"),
      importRounds: spent("rounds"),
      heapFirst,
      heapAll,
      statusWhileImporting,
      storageBytes: await counterTotal(base, REPO, bench.token, "tuf_edge_storage_bytes"),
      logEntries: await counterTotal(base, REPO, bench.token, "tuf_edge_log_entries"),
      largest: await largestInvocation(base, REPO, bench.token),
    };
    return { figures, instance: bench };
  } finally {
    inspector?.close();
    monitor.stop();
    await bench.stop();
  }
}

export const bulk: Section = {
  name: "bulk",
  title: "Bulk work: bootstrap, full re-sign, import of many targets, heap, largest invocation",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options } = context;
    const fmt = (n: number) => n.toLocaleString("en-US");
    const baselineImport = options.baselineImport ?? options.importTargets;
    const baseline = context.baseline ? await measure(context, context.baseline, "baseline", baselineImport) : null;
    const before = baseline?.figures ?? null;
    const now = (await measure(context, context.project, "this", options.importTargets)).figures;
    const upgraded = baseline ? await upgrade(context, baseline.instance, baselineImport) : null;
    const rate = (n: number, s: number) => (s > 0 ? n / s : null);
    const row = sideBySide(now, before);
    const importS = (f: Figures) => f.importFirst.seconds + f.importRest.seconds;
    const runs = (f: Figures) => [f.importFirst.run, f.importRest.run].filter((r) => r !== undefined);
    const stored = (f: Figures) => (runs(f).length > 0 ? runs(f).reduce((sum, r) => sum + r.storedSeconds, 0) : null);
    const cliCpu = (f: Figures) => (runs(f).length > 0 ? runs(f).reduce((sum, r) => sum + r.cliCpuSeconds, 0) : null);
    const waited = (f: Figures, p: number) =>
      f.statusWhileImporting.ms.length > 0 ? percentile(f.statusWhileImporting.ms, p) : null;
    const sameImport = !before || before.imported === now.imported;
    const table: Table = {
      title: `Bulk work: ${fmt(options.bins)} bins; import of ${fmt(now.imported)} targets${sameImport ? "" : ` (baseline: ${fmt(before?.imported ?? 0)})`}`,
      columns: SIDE_BY_SIDE_COLUMNS,
      rows: [
        row("bootstrap, s", (f) => f.bootstrap.seconds, true),
        row("bootstrap, workerd CPU s", (f) => f.bootstrap.cpuSeconds, true),
        row("full re-sign (rotation), s", (f) => f.resign.seconds, true),
        row("full re-sign, workerd CPU s", (f) => f.resign.cpuSeconds, true),
        row("import, s (both runs)", importS, true),
        row("import, targets/s", (f) => rate(f.imported, importS(f)), false),
        row(
          "import, workerd CPU ms per target",
          (f) => (1000 * (f.importFirst.cpuSeconds + f.importRest.cpuSeconds)) / f.imported,
          true,
        ),
        row("import: until every batch was stored, s (both runs)", (f) => stored(f), true),
        row("import: stored targets/s", (f) => rate(f.imported, stored(f) ?? 0), false),
        row("import: the CLI's own CPU s (both runs)", (f) => cliCpu(f), true),
        row("import: metadata files published (both runs)", (f) => f.importFiles, true),
        row("import: publish rounds (both runs)", (f) => f.importRounds, true),
        row("import: GET …/admin/status while importing (reaches the object), p50 ms", (f) => waited(f, 50), true),
        row("import: GET …/admin/status while importing, p99 ms", (f) => waited(f, 99), true),
        row("import: GET …/admin/status while importing, longest ms", (f) => waited(f, 100), true),
        row("import: GET …/admin/status while importing, failed", (f) => f.statusWhileImporting.failed, true),
        row("heap after the first tenth, MiB used", (f) => f.heapFirst?.usedMiB, true),
        row("heap after the first tenth, MiB allocated", (f) => f.heapFirst?.totalMiB, true),
        row("heap after all, MiB used", (f) => f.heapAll?.usedMiB, true),
        row("heap after all, MiB allocated", (f) => f.heapAll?.totalMiB, true),
        row(
          "the object's SQLite after the import, MB",
          (f) => (f.storageBytes === null ? null : f.storageBytes / 1e6),
          true,
        ),
        row(
          "the object's SQLite after the import, bytes per target",
          (f) => (f.storageBytes === null ? null : f.storageBytes / f.imported),
          true,
        ),
        row("the log's entries after the import", (f) => f.logEntries, true),
        row("largest invocation: R2 operations", (f) => f.largest?.r2_operations, true),
        row("largest invocation: roles signed", (f) => f.largest?.roles, true),
        row("largest invocation: log tiles and entry bundles stored ahead", (f) => f.largest?.log_writes, true),
        row("largest invocation: wall ms", (f) => f.largest?.wall_ms, true),
      ],
      notes: [
        `this code: ${now.code}${before ? `; baseline: ${before.code}` : " (no --baseline given)"}. "better ×" is baseline ÷ this code for times and costs, this code ÷ baseline for rates${sameImport ? "" : "; the import rows compare different sizes (--baseline-import): compare the rates"}.`,
        `Re-sign: online-key rotation, ${fmt(options.bins + 3)} roles (targets, bins, snapshot, timestamp), from the final root signature until that call answered (it waits for the publish). Import: \`tuf-edge import\` (batches of ${fmt(options.importBatch)}, respond-async, deferred to the import's end where the code has it, then waits until nothing is pending), ${fmt(now.importFirst.targets)} targets then ${fmt(now.importRest.targets)} more, in two runs; the heap is read after each.`,
        "Status while importing: GET /{repo}/admin/status, which reaches the object, one read at a time 50 ms apart (read-probe.ts), from the first import run's start to the second's end; a read waits for whatever the object is doing (a batch's transaction, its log's hashing, the rounds that publish the import).",
        "CPU: both workerd processes (the Worker and its Durable Object with the local R2 simulator, and wrangler's proxy). Heap: Runtime.getHeapUsage of the Worker's isolate after HeapProfiler.collectGarbage (wrangler's inspector). Largest invocation: the publish run (request or alarm) with the most R2 operations, from /metrics; its wall time bounds its CPU. SQLite: tuf_edge_storage_bytes (the object's SqlStorage.databaseSize) from /metrics once the import is published; entries the log pruned once their tiles were in R2 (durable-objects/log-history.ts) free their pages for the entries appended next.",
      ],
    };
    const tables = [table];
    if (upgraded) tables.push(upgradeTable(upgraded, { now: now.code, before: before?.code ?? "the baseline" }));
    for (const f of [before, now]) {
      if (!f) continue;
      const imported = f.importRest.run ? f.importRest : f.importFirst;
      for (const [name, profile, totals] of [
        ["bootstrap", f.bootstrap.profile, f.bootstrap.totals],
        ["re-sign", f.resign.profile, f.resign.totals],
        ["import, until every batch was stored", imported.run?.profileStore ?? imported.profile, null],
        ["import, from then until published", imported.run?.profilePublish ?? null, null],
      ] as const) {
        if (!profile) continue;
        // Self time says where the CPU went; total time, which step of the code spent it (profile-totals.ts).
        tables.push(
          profileTable(
            `Profile (${f.code}): ${name}, the Worker isolate's heaviest functions by self time`,
            "self ms",
            profile.map((p) => [p.name, p.where, p.selfMs, p.share]),
          ),
        );
        if (!totals) continue;
        tables.push(
          profileTable(
            `Profile (${f.code}): ${name}, the Worker isolate's heaviest functions by total time (callees included)`,
            "total ms",
            totals.map((t) => [t.name, t.where, t.totalMs, t.share]),
          ),
        );
      }
    }
    return { tables, data: { bins: options.bins, now, before, upgraded } };
  },
};

/** A table of a profile's heaviest functions: name, where, `ms` (self or total) and share of the busy time. */
function profileTable(title: string, ms: string, rows: Array<[string, string, number, number]>): Table {
  return {
    title,
    columns: [
      { header: "function", align: "left" },
      { header: "where", align: "left" },
      { header: ms, digits: 0 },
      { header: "share", digits: 3 },
    ],
    rows,
  };
}
