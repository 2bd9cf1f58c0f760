/**
 * Watches the workerd processes of one `wrangler dev` while a section runs:
 * memory (current and peak RSS) of the one that runs the Worker, CPU of both,
 * and restarts (wrangler replaces the workerd process when it reloads the
 * Worker; a crash looks the same from outside). A restarted process is found
 * again by the port wrangler listens on, and its figures are carried on.
 */
import { existsSync } from "node:fs";
import { instanceProcesses } from "./instance.ts";
import { cpuSeconds, machineBusySeconds, readMemory, resetPeak } from "./proc.ts";

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
  restarts: number;
}

export class InstanceMonitor {
  readonly #port: number;
  readonly #started = performance.now();
  readonly #timer: NodeJS.Timeout;
  workerPid: number | null;
  proxyPid: number | null;
  readonly restarts: Restart[] = [];
  /** Last CPU seconds seen per pid (dead ones keep their last reading). */
  readonly #cpu = new Map<number, number>();
  #last: { rss: number; hwm: number } | null = null;
  /** Highest VmHWM of the Worker's workerd since the last resetPeak. */
  peakHwm = 0;
  /** Highest RSS seen by sampling since the last resetPeak (a cross-check of VmHWM). */
  peakSampledRss = 0;
  /** False if the kernel refused to reset VmHWM: peaks are then since the process started. */
  resettable = true;

  constructor(port: number, intervalMs = 100) {
    this.#port = port;
    const { workerPid, proxyPid } = instanceProcesses(port);
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
    if (this.workerPid !== null && !existsSync(`/proc/${this.workerPid}`)) {
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
    for (const pid of [this.workerPid, this.proxyPid]) {
      if (pid === null || !existsSync(`/proc/${pid}`)) continue;
      this.#cpu.set(pid, cpuSeconds(pid));
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
      restarts: this.restarts.length,
    };
  }

  /** CPU (in cores) of both workerd processes and of every other process since `mark`. */
  since(mark: Mark): {
    seconds: number;
    workerdCores: number;
    /** The Worker's workerd alone (its Durable Object and the local simulators), without wrangler's proxy. */
    workerProcessCores: number;
    otherCores: number;
    restarts: Restart[];
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
    const self = process.cpuUsage(mark.self);
    const others = Math.max(0, machineBusySeconds() - mark.machine - workerd - (self.user + self.system) / 1e6);
    return {
      seconds,
      workerdCores: workerd / seconds,
      workerProcessCores: worker / seconds,
      otherCores: others / seconds,
      restarts: this.restarts.slice(mark.restarts),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
