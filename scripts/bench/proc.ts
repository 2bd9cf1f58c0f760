/**
 * Memory of child processes, read from /proc (Linux only): the workerd
 * processes a `wrangler dev` started by this process runs, their current
 * (VmRSS) and peak (VmHWM) resident set size.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { parseProcIo } from "./proc-io.ts";
import { parseSchedstat, type ThreadSchedule } from "./sched-stat.ts";

function parentOf(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** Every live process below `ancestor` (children, grandchildren, …). */
export function descendants(ancestor: number = process.pid): number[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  const parent = new Map<number, number | null>(pids.map((p) => [p, parentOf(p)]));
  return pids.filter((pid) => {
    for (let p = parent.get(pid) ?? null, hops = 0; p !== null && p > 0 && hops < 64; hops++) {
      if (p === ancestor) return true;
      p = parent.has(p) ? (parent.get(p) ?? null) : parentOf(p);
    }
    return false;
  });
}

/** workerd processes started (through wrangler) by this process; not other users' instances. */
export function workerdPids(ancestor: number = process.pid): number[] {
  return descendants(ancestor).filter((pid) => {
    const cmd = commandOf(pid);
    return /(^|\/)workerd(\s|$)/.test(cmd.split(" ")[0] ?? "") || /\/workerd\s+serve\b/.test(cmd);
  });
}

export interface MemoryReading {
  pid: number;
  /** Current resident set, bytes. */
  rss: number;
  /** Peak resident set since start (or the last reset), bytes. */
  hwm: number;
}

export function readMemory(pid: number): MemoryReading | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { pid, rss: kib("VmRSS"), hwm: kib("VmHWM") };
  } catch {
    return null;
  }
}

/**
 * Resets the peak RSS (VmHWM) of a process to its current RSS, so a later
 * reading is the peak of one phase. Returns false where the kernel refuses.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** TCP ports a process listens on (IPv4 and IPv6), from /proc/net/tcp* and its open sockets. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address rem_address st … inode (field 9)
      if (f[3] !== "0A" || !f[9] || !inodes.has(f[9])) continue;
      const port = Number.parseInt(f[1]?.split(":")[1] ?? "", 16);
      if (Number.isInteger(port)) ports.push(port);
    }
  }
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** The command line of a process, for telling wrangler's two workerd processes apart. */
export { commandOf, parentOf };

/** CPU time (user + system) a process has used, in seconds; 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU time (user + system) one thread of a process has used, in seconds; 0
 * if it is gone. The main thread's id is the process's: workerd runs every
 * isolate's JavaScript, and the local simulators', on that one thread.
 */
export function threadCpuSeconds(pid: number, tid: number = pid): number {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
}

/**
 * How long one thread of a process has waited, runnable, for a core
 * (schedstat); null if it is gone or the kernel keeps no such figures. A thread pinned to a core of its own waits only for the threads
 * the machine pins nowhere else, and for the kernel's own work there.
 */
export function threadSchedule(pid: number, tid: number = pid): ThreadSchedule | null {
  try {
    return parseSchedstat(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8"));
  } catch {
    return null;
  }
}

/** The thread ids of a process (its main thread's is the process's own), [] if it is gone. */
export function threadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

/** utime + stime of a /proc stat file, in seconds; 0 if it cannot be read. */
function statCpuSeconds(path: string): number {
  const { user, system } = statCpu(path);
  return user + system;
}

/** utime and stime of a /proc stat file, in seconds; 0 each if it cannot be read. */
function statCpu(path: string): { user: number; system: number } {
  try {
    const stat = readFileSync(path, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "(comm) ": state is field 3 of the full line, utime 14 and stime 15.
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return { user: 0, system: 0 };
  }
}

/**
 * What a process has written and how much of its CPU was the kernel's, so
 * far: `writeBytes` and `writeCalls` are /proc/<pid>/io's wchar and syscw
 * (every write system call, to files and sockets alike: SQLite's WAL frames,
 * R2 and RPC traffic), `systemSeconds` its stime. Null if they cannot be
 * read (the process is gone, or not this user's).
 */
export interface ProcessIo {
  writeBytes: number;
  writeCalls: number;
  systemSeconds: number;
}

export function processIo(pid: number): ProcessIo | null {
  try {
    const io = parseProcIo(readFileSync(`/proc/${pid}/io`, "utf8"));
    if (!io) return null;
    return { ...io, systemSeconds: statCpu(`/proc/${pid}/stat`).system };
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** A process and everything below it. */
export function processTree(pid: number): number[] {
  return [pid, ...descendants(pid)];
}

/** CPU seconds of this process's children that have exited and been waited for (cutime + cstime). */
export function reapedChildrenCpuSeconds(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine has spent busy (all cores, everything but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * When a process started, as ms since the epoch (Date.now's clock), to
 * about the kernel's tick (10 ms); null if it is gone. From its stat's
 * starttime (ticks since boot) and the boot's time, Date.now() less
 * /proc/uptime.
 */
export function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const uptime = Number.parseFloat(readFileSync("/proc/uptime", "utf8"));
    if (!Number.isFinite(uptime)) return null;
    // After "(comm) ": starttime is field 22 of the full line.
    return Date.now() - uptime * 1000 + (Number(fields[19]) / CLOCK_TICKS) * 1000;
  } catch {
    return null;
  }
}
