/**
 * Watches the workerd processes of one `wrangler dev` while a section runs:
 * memory (current and peak RSS) of the one that runs the Worker, CPU of both,
 * and restarts (wrangler replaces the workerd process when it reloads the
 * Worker; a crash looks the same from outside). A restarted process is found
 * again by the port wrangler listens on, and its figures are carried on.
 * Or it watches named processes it is given (topology.ts), with no restarts.
 */
import { existsSync } from "node:fs";
import { instanceProcesses } from "./instance.ts";
import {
  cpuSeconds,
  machineBusySeconds,
  type ProcessIo,
  processIo,
  readMemory,
  resetPeak,
  threadCpuSeconds,
  threadSchedule,
} from "./proc.ts";

export interface Restart {
  /** Seconds since the monitor started. */
  atS: number;
  oldPid: number;
  newPid: number | null;
  /** The old process's last readings. */
  lastRss: number | null;
  lastHwm: number | null;
}

interface Mark {
  at: number;
  machine: number;
  self: NodeJS.CpuUsage;
  cpu: Map<number, number>;
  mainThread: Map<number, number>;
  mainThreadWait: Map<number, number>;
  io: Map<number, ProcessIo>;
  restarts: number;
}

export class InstanceMonitor {
  readonly #port: number | null;
  /** Processes given by name (no wrangler proxy to find them by); CPU is reported per name too. */
  readonly #named: Record<string, number> | null;
  readonly #started = performance.now();
  readonly #timer: NodeJS.Timeout;
  workerPid: number | null;
  proxyPid: number | null;
  readonly restarts: Restart[] = [];
  /** Last CPU seconds seen per pid (dead ones keep their last reading). */
  readonly #cpu = new Map<number, number>();
  /** The same for each process's main thread, the one that runs JavaScript. */
  readonly #mainThread = new Map<number, number>();
  /** The seconds each process's main thread waited, runnable, for a core (proc.ts threadSchedule). */
  readonly #mainThreadWait = new Map<number, number>();
  /** The same for each process's writes and kernel CPU (proc.ts, processIo). */
  readonly #io = new Map<number, ProcessIo>();
  #last: { rss: number; hwm: number } | null = null;
  /** Highest VmHWM of the Worker's workerd since the last resetPeak. */
  peakHwm = 0;
  /** Highest RSS seen by sampling since the last resetPeak (a cross-check of VmHWM). */
  peakSampledRss = 0;
  /** False if the kernel refused to reset VmHWM: peaks are then since the process started. */
  resettable = true;

  /**
   * `source`: the port `wrangler dev` listens on, or the processes by name,
   * of which `main` is the one whose memory is read.
   */
  constructor(source: number | { processes: Record<string, number>; main: string }, intervalMs = 100) {
    this.#port = typeof source === "number" ? source : null;
    this.#named = typeof source === "number" ? null : source.processes;
    const { workerPid, proxyPid } =
      typeof source === "number"
        ? instanceProcesses(source)
        : { workerPid: source.processes[source.main] ?? null, proxyPid: null };
    this.workerPid = workerPid;
    this.proxyPid = proxyPid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  get rss(): number | null {
    return this.#last?.rss ?? null;
  }

  sample(): void {
    if (this.#port !== null && this.workerPid !== null && !existsSync(`/proc/${this.workerPid}`)) {
      const found = instanceProcesses(this.#port);
      const restart: Restart = {
        atS: (performance.now() - this.#started) / 1000,
        oldPid: this.workerPid,
        newPid: found.workerPid,
        lastRss: this.#last?.rss ?? null,
        lastHwm: this.#last?.hwm ?? null,
      };
      this.restarts.push(restart);
      this.workerPid = found.workerPid;
      if (found.proxyPid !== null) this.proxyPid = found.proxyPid;
      this.#last = null;
    }
    for (const pid of this.#named ? Object.values(this.#named) : [this.workerPid, this.proxyPid]) {
      if (pid === null || !existsSync(`/proc/${pid}`)) continue;
      this.#cpu.set(pid, cpuSeconds(pid));
      this.#mainThread.set(pid, threadCpuSeconds(pid));
      const schedule = threadSchedule(pid);
      if (schedule) this.#mainThreadWait.set(pid, schedule.waitSeconds);
      const io = processIo(pid);
      if (io) this.#io.set(pid, io);
    }
    if (this.workerPid !== null) {
      const m = readMemory(this.workerPid);
      if (m && Number.isFinite(m.rss)) {
        this.#last = { rss: m.rss, hwm: m.hwm };
        this.peakHwm = Math.max(this.peakHwm, m.hwm);
        this.peakSampledRss = Math.max(this.peakSampledRss, m.rss);
      }
    }
  }

  /** Starts a phase's peak: VmHWM reset to the current RSS. */
  resetPeak(): void {
    if (this.workerPid !== null) this.resettable = resetPeak(this.workerPid) && this.resettable;
    if (this.proxyPid !== null) resetPeak(this.proxyPid);
    this.peakHwm = 0;
    this.peakSampledRss = 0;
    this.sample();
  }

  mark(): Mark {
    this.sample();
    return {
      at: performance.now(),
      machine: machineBusySeconds(),
      self: process.cpuUsage(),
      cpu: new Map(this.#cpu),
      mainThread: new Map(this.#mainThread),
      mainThreadWait: new Map(this.#mainThreadWait),
      io: new Map(this.#io),
      restarts: this.restarts.length,
    };
  }

  /** CPU (in cores) of the workerd processes, of this process and of every other process since `mark`. */
  since(mark: Mark): {
    seconds: number;
    workerdCores: number;
    /** The Worker's workerd alone (its Durable Object and the local simulators), without wrangler's proxy. */
    workerProcessCores: number;
    otherCores: number;
    /** This process (the bench: its load, probes and watchers, every thread of it). */
    benchCores: number;
    /** Every process on the machine (/proc/stat), of the machine's cores (BenchContext.machineCores). */
    machineCores: number;
    restarts: Restart[];
    /** Each named process's cores (processes given by name only). */
    byProcess: Record<string, number>;
    /**
     * The share of the time each process's main thread was on a core (0 to
     * 1): by name, or "worker" for the Worker's workerd of a `wrangler dev`.
     * Near 1, every event on that thread waits for the one before it.
     */
    mainThreadBusy: Record<string, number>;
    /**
     * The share of the time each process's main thread was ready to run
     * and waited for a core (0 to 1; by name, or "worker" as above): the
     * time another thread, of this process or any other, had its core.
     */
    mainThreadWaiting: Record<string, number>;
    /**
     * The cores each process's other threads used (V8's helpers: the
     * collector's concurrent marking, the compiler; the inspector): its
     * CPU less its main thread's, by name.
     */
    helperThreadCores: Record<string, number>;
    /**
     * Each process's writes and kernel CPU over the phase (processIo's
     * fields, differences): by name, or "worker" for the Worker's workerd of a
     * `wrangler dev`; a process whose counters could not be read is missing.
     */
    ioByProcess: Record<string, ProcessIo>;
  } {
    this.sample();
    const seconds = (performance.now() - mark.at) / 1000;
    let workerd = 0;
    let worker = 0;
    for (const [pid, cpu] of this.#cpu) {
      const used = cpu - (mark.cpu.get(pid) ?? 0);
      workerd += used;
      if (pid === this.workerPid) worker += used;
    }
    const byProcess: Record<string, number> = {};
    const mainThreadBusy: Record<string, number> = {};
    const ioByProcess: Record<string, ProcessIo> = {};
    const busy = (pid: number) => ((this.#mainThread.get(pid) ?? 0) - (mark.mainThread.get(pid) ?? 0)) / seconds;
    const mainThreadWaiting: Record<string, number> = {};
    const helperThreadCores: Record<string, number> = {};
    const waiting = (name: string, pid: number) => {
      const [now, then] = [this.#mainThreadWait.get(pid), mark.mainThreadWait.get(pid)];
      if (now !== undefined && then !== undefined) mainThreadWaiting[name] = (now - then) / seconds;
    };
    const ioOf = (name: string, pid: number) => {
      const [now, then] = [this.#io.get(pid), mark.io.get(pid)];
      if (now && then)
        ioByProcess[name] = {
          writeBytes: now.writeBytes - then.writeBytes,
          writeCalls: now.writeCalls - then.writeCalls,
          systemSeconds: now.systemSeconds - then.systemSeconds,
        };
    };
    for (const [name, pid] of Object.entries(this.#named ?? {})) {
      byProcess[name] = ((this.#cpu.get(pid) ?? 0) - (mark.cpu.get(pid) ?? 0)) / seconds;
      mainThreadBusy[name] = busy(pid);
      helperThreadCores[name] = Math.max(0, (byProcess[name] ?? 0) - busy(pid));
      waiting(name, pid);
      ioOf(name, pid);
    }
    // A Worker's workerd that wrangler restarted meanwhile has no figure for the whole phase.
    if (!this.#named && this.workerPid !== null && mark.mainThread.has(this.workerPid)) {
      mainThreadBusy.worker = busy(this.workerPid);
      waiting("worker", this.workerPid);
      ioOf("worker", this.workerPid);
    }
    const self = process.cpuUsage(mark.self);
    const bench = (self.user + self.system) / 1e6;
    const machine = machineBusySeconds() - mark.machine;
    const others = Math.max(0, machine - workerd - bench);
    return {
      seconds,
      workerdCores: workerd / seconds,
      workerProcessCores: worker / seconds,
      otherCores: others / seconds,
      benchCores: bench / seconds,
      machineCores: machine / seconds,
      restarts: this.restarts.slice(mark.restarts),
      byProcess,
      mainThreadBusy,
      mainThreadWaiting,
      helperThreadCores,
      ioByProcess,
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
