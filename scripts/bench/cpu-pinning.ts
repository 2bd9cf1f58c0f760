/**
 * --pin (scale section with --split): a core of its own for the thread
 * that runs the repository's object, and the other cores for everything
 * else of the run. On the platform the object's thread shares its core with
 * nobody of this service: the Worker's requests run in other isolates on
 * other machines, and R2 and the cache are remote. Unpinned here, the
 * object's workerd, the Worker's, the storage's and the bench's own pushers
 * and probes queue for the machine's two cores (docs/measured.md, "The
 * machine's CPU at 2,000 targets/s"), and every wait for a core shows in the
 * acknowledgement. Pinned, the object's runs on core 0 alone, and the
 * Worker's and storage's workerd and this process (its pushers, probes,
 * watcher, and Miniflare, which starts the workerd processes) share the
 * rest. In one workerd, its main thread (every isolate and simulator) takes
 * core 0 and everything else the rest.
 *
 * What shares core 0 with the object's JavaScript (`PinMode`):
 *   - "thread" (--pin): the object's main thread alone, the one that
 *     runs its JavaScript and SQLite; the process's other threads (V8's
 *     helpers: the collector's concurrent marking, the compiler; the
 *     inspector and the profiler's sampler) with the rest. On the platform
 *     those helpers serve many isolates on a machine of many cores.
 *   - "process" (--pin-process): every thread of the object's process, as
 *     --pin did before; they took 5–11 % of the core's time from the main
 *     thread at 2,000 targets/s (docs/measured.md, "V8's helpers off the
 *     object's core").
 *
 * `taskset -a -p -c` sets the affinity of every thread a process has, and
 * `taskset -p -c` one thread's; a thread started later inherits its
 * creator's, so in "thread" mode a watcher (keepHelpersOff) moves each new
 * thread of the object's process off core 0. Linux only.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { type CorePlan, corePlan } from "./core-plan.ts";
import { threadIds } from "./proc.ts";

/** What of the object's process --pin gives core 0 (see above). */
export type PinMode = "thread" | "process";

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
  taskset(["--all-tasks", "--cpu-list", "--pid", cores, String(pid)], `process ${pid}`, cores);
}

/** Sets the cores of thread `tid` alone (a process's main thread has the process's id). */
export function pinThread(tid: number, cores: string): void {
  taskset(["--cpu-list", "--pid", cores, String(tid)], `thread ${tid}`, cores);
}

function taskset(args: string[], what: string, cores: string): void {
  try {
    execFileSync("taskset", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`--pin: taskset could not pin ${what} to cores ${cores}: ${stderr || String(error)}`);
  }
}

/**
 * In "thread" mode, moves every thread of process `pid` but its main one to
 * `cores` as it appears (checked every `intervalMs`; the profiler's sampler,
 * for one, starts with the profile, from the main thread, and would inherit
 * core 0). A thread that ends before it is moved is passed over. Returns
 * the stop function.
 */
export function keepHelpersOff(pid: number, cores: string, intervalMs = 250): () => void {
  const moved = new Set<number>([pid]);
  const check = () => {
    for (const tid of threadIds(pid)) {
      if (moved.has(tid)) continue;
      moved.add(tid);
      try {
        pinThread(tid, cores);
      } catch {
        // Gone meanwhile: nothing to move.
      }
    }
  };
  check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Pins one started layout: its object's process (the "object" role, or "all"
 * in one workerd) to the plan's object core, all of it or its main thread
 * alone (`mode`), its other processes and this process to the rest. Returns
 * what it did, for the log, and the stop of the watcher "thread" mode keeps.
 */
export function pinLayout(pids: Partial<Record<string, number>>, mode: PinMode): { done: string; stop: () => void } {
  const { object, rest } = runPlan();
  const done: string[] = [];
  const stops: Array<() => void> = [];
  pinProcess(process.pid, rest);
  done.push(`the bench ${process.pid} → ${rest}`);
  for (const [role, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    if (role !== "object" && role !== "all") {
      pinProcess(pid, rest);
      done.push(`${role} ${pid} → ${rest}`);
    } else if (mode === "process") {
      pinProcess(pid, object);
      done.push(`${role} ${pid} → ${object}`);
    } else {
      pinThread(pid, object);
      stops.push(keepHelpersOff(pid, rest));
      done.push(`${role} ${pid}: its main thread → ${object}, its other threads → ${rest}`);
    }
  }
  return {
    done: done.join(", "),
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}
