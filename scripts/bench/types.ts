/** The shape every benchmark section shares: what it is given, what it returns. */
import type { PinMode } from "./cpu-pinning.ts";
import type { CodeSource, ProjectCopy } from "./snapshot.ts";
import type { Table } from "./table.ts";

export type { Cell, Column, Table } from "./table.ts";

export interface BenchOptions {
  quick: boolean;
  /** Seconds of measured load per serving run. */
  durationS: number;
  /** Seconds of unmeasured load before each serving run. */
  warmupS: number;
  connections: number;
  /** Load generators to use, in order (those not installed are skipped with a note). */
  loaders: LoaderName[];
  /** Skip nginx even if installed. */
  nginx: boolean;
  bins: number;
  targets: number;
  batchSize: number;
  /** Where temporary state goes (a fresh folder per run, removed afterwards unless keepState). */
  workDir: string;
  /** Where the instances' state goes (state-dir.ts): a fresh folder, removed afterwards unless keepState. */
  stateDir: string;
  keepState: boolean;
  /** What the instances run: the last commit (default), a copy of the work tree, or the work tree in place. */
  code: CodeSource;
  /** The commit the instances run when `code` is "head" (--code; HEAD by default). */
  revision: string;
  /** Keep wrangler dev's local trace collector (a span per request, R2 call and SQL statement) on. */
  localObservability: boolean;
  /** A commit to measure too, side by side (scale section), or null. */
  baseline: string | null;
  /** Concurrent registry pushers in the scale section. */
  pushers: number;
  /** Scale section: targets/s offered by open-loop pushes (--push-rate), or null for closed-loop pushers. */
  pushRate: number | null;
  /**
   * Scale section: pushes, task polls and timestamp reads go to the Worker's own
   * workerd port instead of through wrangler's proxy (a local-only hop with no
   * production counterpart), so the proxy's CPU is not the machine's bound.
   */
  direct: boolean;
  /**
   * Scale section: this code in one workerd, then split into three (the
   * Worker, the repository's Durable Object, R2) as the platform lays them
   * out, side by side (scale-host.ts, topology.ts).
   */
  split: boolean;
  /**
   * Scale section with --split: the object's main thread alone (--pin) or
   * its whole process (--pin-process) on a core of its own, everything else of the
   * run on the other cores (cpu-pinning.ts); null when not pinned.
   */
  pin: PinMode | null;
  /**
   * Scale section: how many times each side is measured (--repeat), the
   * sides taking turns to go first; the table gives each side's median and
   * range.
   */
  repeat: number;
  /** Targets the bulk section imports (its heap is read at a tenth and at all of them). */
  importTargets: number;
  /** Targets the bulk section imports into the --baseline code (null: as many as importTargets). */
  baselineImport: number | null;
  /** Targets per batch of the bulk section's imports (`tuf-edge import --batch-size`). */
  importBatch: number;
  /** CPU-profile the Worker's isolate (--profile): the scale section while pushing, the bulk section in each step. */
  profile: boolean;
  /**
   * Scale section: a heap snapshot of the inspected isolate after the pushes
   * (--heap-snapshot), written beside the profiles, its heaviest kinds printed.
   */
  heapSnapshot: boolean;
  /** Scale section: V8's sampling heap profiler while pushing and draining (--alloc-profile). */
  allocationProfile: boolean;
  /** Scale section, a bundle the bench starts (--split): workerd with V8's --trace-gc (--trace-gc). */
  traceGc: boolean;
}

export type LoaderName = "autocannon" | "wrk";

export interface BenchContext {
  options: BenchOptions;
  /** The copy of the project the instances run from. */
  project: ProjectCopy;
  /** The baseline commit's copy (--baseline), or null. */
  baseline: ProjectCopy | null;
  machineCores: number;
  /** Progress, to stderr. */
  log(message: string): void;
  /**
   * Where a CPU profile named `name` goes: bench-results/<name>.cpuprofile,
   * or beside --out's file (`<out>.<name>.cpuprofile`), so that runs written
   * to files of their own keep their profiles too.
   */
  profilePath(name: string): string;
}

export interface SectionResult {
  tables: Table[];
  /** Raw figures for bench-results/latest.json. */
  data: Record<string, unknown>;
  notes?: string[];
}

export interface Section {
  /** Short id, used by --only. */
  name: string;
  title: string;
  run(context: BenchContext): Promise<SectionResult>;
}
