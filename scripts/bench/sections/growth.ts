/**
 * (k) Growth: what one push costs as the repository grows (issue 17: publishing
 * scales with what changed, not with what exists). One repository of `--bins`
 * bins (16,384; quick 1,024) is filled in three steps to a hundredth, a tenth
 * and all of `--import` targets (1,000,000; quick 50,000), through
 * POST …/admin/targets batches of 10,000 published together, as
 * `tuf-edge import` sends them (deferred, then the import's end). After each
 * step:
 *
 *   1. the object's V8 heap after a full GC (wrangler's inspector) and its
 *      SQLite file's size;
 *   2. the same push load as the scale section: pushes of 10 new targets
 *      offered at `--push-rate` targets/s (default 500, below saturation, so
 *      the figures are costs and not queues) for 10 s (quick) or 20 s;
 *   3. per pushed target: workerd CPU (both processes), metadata files
 *      published (bins, snapshot, timestamp), and the mean publish round.
 *
 * The last column divides the largest size's figure by the smallest's: 1.0
 * is flat, 100 would grow with the repository.
 *
 * At the largest size, delegations change (durable-objects/delegation-reach.ts
 * says which targets each change reads): one for a namespace none of the
 * targets is in is added (its pattern's prefix, and the paths with a segment
 * starting with "."), one by hash prefix (the top-level bins under it; those
 * with its prefix move), one whose pattern starts with a wildcard (every
 * target read, none moves), and the first is removed (its rows). Each change's
 * time, and how far the Worker's workerd rose above its resident set before
 * it (VmHWM, reset first): a change that held every target in the heap at
 * once would show here.
 */
import { stat } from "node:fs/promises";
import { defined } from "../../lib/defined.ts";
import { localDurableObjectFile, queryLocalSqlite } from "../../lib/local-do-sqlite.ts";
import { RegistryClient } from "../../lib/registry-client.ts";
import { Ed25519Signer } from "../../../src/tuf/signer.ts";
import { AdminApiError, bootstrapRepository } from "../../lib/admin-client.ts";
import { loadFront, startBenchInstance } from "../instance.ts";
import { connectInspector } from "../inspector.ts";
import { counterTotal } from "../metrics-reader.ts";
import { addTargetsAndWait } from "../loaded-repository.ts";
import { InstanceMonitor } from "../monitor.ts";
import { makePoolFetch } from "../pool-fetch.ts";
import { EVENTS_PER_PUSH, POLL_MS, runPushLoad } from "../push-load.ts";
import { ratio, summarize } from "../stats.ts";
import { MiB } from "../table.ts";
import type { BenchContext, Cell, Section, SectionResult, Table } from "../types.ts";

const REPO = "bench-growth";
const DEFAULT_PUSH_RATE = 500;
/** How long one step's import may take to be published (10,000,000 targets take tens of minutes here). */
const FILL_TIMEOUT_MS = 120 * 60_000;
/** A Durable Object's SQLite storage limit on the platform (10 GB). */
const SQLITE_LIMIT_BYTES = 10e9;

/** A change of the delegations at the largest size. */
interface DelegationChange {
  what: string;
  listed: number;
  seconds: number;
  /** The service's refusal (e.g. a change that would read more than REASSIGN_MAX targets), or null. */
  refused: string | null;
  /** The Worker's workerd: its peak resident set during the change less its resident set before, MiB. */
  peakRiseMiB: number | null;
}

interface Point {
  targets: number;
  /** Targets the repository listed when its SQLite was measured (the imports plus earlier steps' pushes). */
  listed: number;
  /** Seconds to import this step's targets (until published). */
  importS: number;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  /** The largest live heap seen while the step was imported and published (sampled each second), MiB. */
  importPeakUsedMiB: number | null;
  sqliteMiB: number;
  /** Bytes of each table and index (dbstat's pages), by name. */
  sqliteTables: Record<string, number>;
  pushedTargets: number;
  publishedTargetsPerS: number;
  ackMs: ReturnType<typeof summarize>;
  ackToPublishedMs: ReturnType<typeof summarize>;
  cpuMsPerTarget: number;
  filesPerTarget: number | null;
  meanRoundMs: number | null;
  failedPushes: number;
}

/** The object's SQLite file (with its write-ahead log), and the bytes of each table and index in it. */
async function sqliteUse(persistTo: string): Promise<{ bytes: number; tables: Record<string, number> }> {
  const file = await localDurableObjectFile(persistTo, "Repository", REPO);
  // Committed pages not yet checkpointed live in the write-ahead log.
  const wal = await stat(`${file}-wal`).then(
    (s) => s.size,
    () => 0,
  );
  const rows = queryLocalSqlite<{ name: string; bytes: number }>(
    file,
    "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name",
  );
  return { bytes: (await stat(file)).size + wal, tables: Object.fromEntries(rows.map((r) => [r.name, r.bytes])) };
}

/** Bytes per listed target of each table and index (those of at least 1 % at the largest size), and what fits in the platform's limit. */
function storageTable(points: Point[]): Table {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const last = defined(points.at(-1));
  const total = (p: Point) => Object.values(p.sqliteTables).reduce((a, b) => a + b, 0);
  const names = Object.entries(last.sqliteTables)
    .filter(([, bytes]) => bytes >= total(last) / 100)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name);
  const perTarget = (p: Point, bytes: number) => bytes / p.listed;
  return {
    title: "Growth: the object's SQLite, bytes per listed target, by table and index",
    columns: [
      { header: "table or index", align: "left" },
      ...points.map((p) => ({ header: `${fmt(p.listed)} targets`, digits: 1 })),
    ],
    rows: [
      ...names.map((name): Cell[] => [name, ...points.map((p) => perTarget(p, p.sqliteTables[name] ?? 0))]),
      ["all tables and indexes", ...points.map((p) => perTarget(p, total(p)))],
      [
        "targets that fit in 10 GB at this rate, millions",
        ...points.map((p) => SQLITE_LIMIT_BYTES / perTarget(p, total(p)) / 1e6),
      ],
    ],
    notes: [
      "SQLite's dbstat (pages in use, by table and index) of the object's local database, read after each import step, ÷ the targets the repository listed then. The transparency log appends an entry per target change and per metadata file published; the object keeps the newest 65,536 whole and, of older ones whose tiles are in R2, a history row per target change (durable-objects/log-history.ts), so log_entries and log_nodes hold a backlog while pruning catches up with an import. 10 GB is the platform's SQLite storage per Durable Object.",
    ],
  };
}

function delegationTable(changes: DelegationChange[]): Table {
  const listed = defined(changes[0]).listed;
  return {
    title: `Growth: delegations changed at ${listed.toLocaleString("en-US")} targets`,
    columns: [
      { header: "change (POST or DELETE …/admin/delegations)", align: "left" },
      { header: "until published, s", digits: 1 },
      { header: "workerd's peak resident set above before, MiB", digits: 0 },
    ],
    rows: changes.map((change) => [
      change.refused ? `${change.what}: refused, ${change.refused}` : change.what,
      change.seconds,
      change.peakRiseMiB,
    ]),
    notes: [
      `Each change through the admin API, one after the other; it reads the targets it can move (durable-objects/delegation-reach.ts), moves those another role now claims, then publishes. ${HASH_PREFIX_SHARE}. Peak: VmHWM of the workerd process that runs the object, reset just before the request, less its resident set then; – where the kernel refused the reset.`,
    ],
  };
}

/** The hash prefix the growth section's second delegation claims. */
const HASH_PREFIX = "000";
const HASH_PREFIX_SHARE = `The hash-prefix delegation claims the paths whose SHA-256 starts with ${HASH_PREFIX} (1 in 4,096 of them)`;

export const growth: Section = {
  name: "growth",
  title: "Growth: one push's cost at a hundredth, a tenth and all of --import targets",
  async run(context: BenchContext): Promise<SectionResult> {
    const { options, log } = context;
    const fmt = (n: number) => n.toLocaleString("en-US");
    const sizes = [
      Math.round(options.importTargets / 100),
      Math.round(options.importTargets / 10),
      options.importTargets,
    ];
    const rate = options.pushRate ?? DEFAULT_PUSH_RATE;
    const seconds = options.quick ? 10 : 20;
    const bench = await startBenchInstance(context, "growth");
    const monitor = new InstanceMonitor(bench.instance.port, 200);
    const pool = makePoolFetch(64);
    const base = bench.instance.baseUrl;
    const { url: front } = await loadFront(bench, options.direct);
    const inspector = await connectInspector(bench.instance.pid, base);
    const points: Point[] = [];
    const delegations: DelegationChange[] = [];
    try {
      const client = bench.client(REPO);
      log(`growth: bootstrapping ${fmt(options.bins)} bins`);
      const { signer } = await Ed25519Signer.generate();
      await bootstrapRepository(client, { rootSigners: [signer], threshold: 1, settings: { bins: options.bins } });
      const { secret } = await client.addRegistryCredential("growth-registry", { kind: "hmac" });
      const registry = new RegistryClient({
        baseUrl: front,
        repo: REPO,
        credential: { kind: "hmac", secret: defined(secret) },
        fetch: pool.fetch,
      });
      const counter = (name: string) => counterTotal(base, REPO, bench.token, name);
      let imported = 0;
      for (const size of sizes) {
        log(`growth: importing up to ${fmt(size)} targets`);
        const importHeap = inspector?.sampleHeap();
        // The sampler stops whatever the import comes to (its timer would keep the bench running).
        const added = await addTargetsAndWait(client, {
          targets: size - imported,
          from: imported,
          batch: 10_000,
          deferred: true,
          log,
          timeoutMs: FILL_TIMEOUT_MS,
        }).finally(() => importHeap?.stop());
        imported = size;
        const importPeak = importHeap ? await importHeap.stop() : null;
        const heap = inspector ? await inspector.heapUsage() : null;
        const sqlite = await sqliteUse(bench.persistTo);
        log(`  pushes of ${EVENTS_PER_PUSH} targets at ${fmt(rate)} targets/s for ${seconds} s`);
        const files0 = await counter("tuf_edge_metadata_files_published_total");
        const roundSeconds0 = await counter("tuf_edge_publish_round_duration_seconds_sum");
        const rounds0 = await counter("tuf_edge_publish_round_duration_seconds_count");
        const mark = monitor.mark();
        let usage: ReturnType<InstanceMonitor["since"]> | undefined;
        const load = await runPushLoad({
          registry,
          admin: client,
          timestampUrl: `${front}/${REPO}/metadata/timestamp.json`,
          seconds,
          pushers: 100,
          pushRate: rate,
          label: `growth-${size}`,
          onDrained: async () => {
            usage = monitor.since(mark);
          },
        });
        if (!usage) throw new Error("the push load ended without draining");
        const delta = async (name: string, before: number | null) => {
          const after = await counter(name);
          return after === null || before === null ? null : after - before;
        };
        const files = await delta("tuf_edge_metadata_files_published_total", files0);
        const roundSeconds = await delta("tuf_edge_publish_round_duration_seconds_sum", roundSeconds0);
        const rounds = await delta("tuf_edge_publish_round_duration_seconds_count", rounds0);
        const pushed = load.acceptedTargets;
        const point: Point = {
          targets: size,
          listed: added.targetsCount,
          importS: added.loadMs / 1000,
          heapUsedMiB: heap ? heap.usedBytes / MiB : null,
          heapTotalMiB: heap ? heap.totalBytes / MiB : null,
          importPeakUsedMiB: importPeak?.samples ? importPeak.usedBytes / MiB : null,
          sqliteMiB: sqlite.bytes / MiB,
          sqliteTables: sqlite.tables,
          pushedTargets: pushed,
          publishedTargetsPerS: pushed / ((load.drained - load.start) / 1000),
          ackMs: summarize(load.ackMs),
          ackToPublishedMs: summarize(load.ackToPublishedMs),
          cpuMsPerTarget: pushed > 0 ? (usage.workerdCores * usage.seconds * 1000) / pushed : Number.NaN,
          filesPerTarget: files === null || pushed === 0 ? null : files / pushed,
          meanRoundMs: roundSeconds === null || !rounds ? null : (roundSeconds * 1000) / rounds,
          failedPushes: load.failedPushes,
        };
        points.push(point);
        log(
          `  ${fmt(size)} targets: ack p99 ${point.ackMs.p99.toFixed(0)} ms, ack→published p99 ${point.ackToPublishedMs.p99.toFixed(0)} ms, ${point.cpuMsPerTarget.toFixed(2)} ms CPU per pushed target`,
        );
      }
      const listed = defined(points.at(-1)).listed;
      const changes: Array<[string, () => Promise<unknown>]> = [
        [
          "add growth-namespace: paths growth-namespace/* (no target there)",
          () => client.addDelegation({ name: "growth-namespace", paths: ["growth-namespace/*"] }),
        ],
        [
          `add growth-hashed: path_hash_prefixes ${HASH_PREFIX}`,
          () => client.addDelegation({ name: "growth-hashed", path_hash_prefixes: [HASH_PREFIX] }),
        ],
        [
          "add growth-wild: paths */growth-wild-* (no target there)",
          () => client.addDelegation({ name: "growth-wild", paths: ["*/growth-wild-*"] }),
        ],
        ["remove growth-namespace", () => client.removeDelegation("growth-namespace")],
      ];
      for (const [what, change] of changes) {
        log(`growth: at ${fmt(listed)} targets, ${what}`);
        monitor.resetPeak();
        const before = monitor.rss;
        const started = performance.now();
        // A refusal is a figure too (the change is not made, the next ones go on); any other failure ends the section.
        const refused = await change().then(
          () => null,
          (error: unknown) => {
            if (error instanceof AdminApiError && error.status < 500) return error.message;
            throw error;
          },
        );
        const changeSeconds = (performance.now() - started) / 1000;
        monitor.sample();
        const made: DelegationChange = {
          what,
          listed,
          seconds: changeSeconds,
          refused,
          peakRiseMiB: before === null || !monitor.resettable ? null : (monitor.peakHwm - before) / MiB,
        };
        delegations.push(made);
        log(
          `  ${refused ? `refused (${refused})` : "made"} in ${changeSeconds.toFixed(1)} s; peak resident set ${made.peakRiseMiB?.toFixed(0) ?? "?"} MiB above before`,
        );
      }
    } finally {
      inspector?.close();
      monitor.stop();
      pool.close();
      await bench.stop();
    }
    const first = defined(points[0]);
    const last = defined(points.at(-1));
    const row = (label: string, get: (p: Point) => number | null): Cell[] => {
      const a = get(first);
      const b = get(last);
      return [label, ...points.map(get), a === null || b === null ? null : ratio(b, a)];
    };
    return {
      tables: [
        {
          title: `Growth: ${fmt(options.bins)} bins; pushes of ${EVENTS_PER_PUSH} targets offered at ${fmt(rate)} targets/s for ${seconds} s at each size`,
          columns: [
            { header: "figure", align: "left" },
            ...points.map((p) => ({ header: `${fmt(p.targets)} targets`, digits: 2 })),
            { header: "largest ÷ smallest", digits: 2 },
          ],
          rows: [
            row("import of this step, s", (p) => p.importS),
            row("heap after import, MiB used", (p) => p.heapUsedMiB),
            row("heap after import, MiB allocated", (p) => p.heapTotalMiB),
            row("heap while importing and publishing, largest live, MiB", (p) => p.importPeakUsedMiB),
            row("object's SQLite file, MiB", (p) => p.sqliteMiB),
            row("targets/s published (pushing + drain)", (p) => p.publishedTargetsPerS),
            row("ack p50, ms", (p) => p.ackMs.p50),
            row("ack p99, ms", (p) => p.ackMs.p99),
            row("ack → published p50, ms", (p) => p.ackToPublishedMs.p50),
            row("ack → published p99, ms", (p) => p.ackToPublishedMs.p99),
            row("workerd CPU per pushed target, ms", (p) => p.cpuMsPerTarget),
            row("metadata files published per pushed target", (p) => p.filesPerTarget),
            row("mean publish round, ms", (p) => p.meanRoundMs),
            row("failed pushes", (p) => p.failedPushes),
          ],
          notes: [
            'Each size is reached by importing the difference into the same repository as `tuf-edge import` does (POST …/admin/targets, 10,000 per batch, respond-async, "publish": "deferred"; then POST …/admin/publish), then waiting until nothing is pending: the import is published in one go, where batches published as they came would re-sign most bins after every few.',
            `Pushes, acknowledgements and ack → published as in the scale section (signed respond-async registry pushes; ack → published until the served timestamp.json carries the change, read every ${POLL_MS} ms). CPU: both workerd processes while pushing and draining ÷ targets pushed. Files and rounds: deltas of tuf_edge_metadata_files_published_total and tuf_edge_publish_round_duration_seconds in GET /{repo}/admin/metrics.`,
            "Heap: Runtime.getHeapUsage of the Worker's isolate after HeapProfiler.collectGarbage; while importing and publishing, the largest of such readings taken every second (scripts/bench/inspector.ts, sampleHeap: what the work keeps between its events; the inspector answers between them, so what one block allocates and drops is not seen; each reading costs a full collection). SQLite: the object's local database file and its write-ahead log.",
          ],
        },
        storageTable(points),
        ...(delegations.length > 0 ? [delegationTable(delegations)] : []),
      ],
      data: { bins: options.bins, rate, seconds, points, delegations },
    };
  },
};
