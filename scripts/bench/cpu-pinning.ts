/**
 * --pin (scale section with --split): a core of its own for the process
 * that runs the repository's object, and the other cores for everything
 * else of the run. On the platform the object's thread shares its core with
 * nobody of this service: the Worker's requests run in other isolates on
 * other machines, and R2 and the cache are remote. Unpinned here, the
 * object's workerd, the Worker's, the storage's and the bench's own pushers
 * and probes queue for the machine's two cores (docs/measured.md, "The
 * machine's CPU at 2,000 targets/s"), and every wait for a core shows in the
 * acknowledgement. Pinned, the object's process runs on core 0 alone, and
 * the Worker's and storage's workerd and this process (its pushers, probes,
 * watcher, and Miniflare, which starts the workerd processes) share the
 * rest. In one workerd, its process takes core 0 and this process the rest.
 *
 * `taskset -a -p -c` sets the affinity of every thread a process has; a
 * thread started later inherits its creator's. Linux only.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { type CorePlan, corePlan } from "./core-plan.ts";

let plan: CorePlan | null = null;

/**
 * The run's plan, fixed at its first use: read before anything is pinned,
 * since once this process is pinned availableParallelism() counts only its
 * own cores.
 */
export function runPlan(): CorePlan {
  plan ??= corePlan(availableParallelism());
  return plan;
}

/** Sets the cores of every thread of process `pid`; throws with taskset's message if it cannot. */
export function pinProcess(pid: number, cores: string): void {
  try {
    execFileSync("taskset", ["--all-tasks", "--cpu-list", "--pid", cores, String(pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`--pin: taskset could not pin process ${pid} to cores ${cores}: ${stderr || String(error)}`);
  }
}

/**
 * Pins one started layout: its object's process (the "object" role, or "all"
 * in one workerd) to the plan's object core, its other processes and this
 * process to the rest. Returns what it did, for the log.
 */
export function pinLayout(pids: Partial<Record<string, number>>): string {
  const { object, rest } = runPlan();
  const done: string[] = [];
  pinProcess(process.pid, rest);
  done.push(`the bench ${process.pid} → ${rest}`);
  for (const [role, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    const cores = role === "object" || role === "all" ? object : rest;
    pinProcess(pid, cores);
    done.push(`${role} ${pid} → ${cores}`);
  }
  return done.join(", ");
}
