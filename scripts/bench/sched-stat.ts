/**
 * /proc/<pid>/task/<tid>/schedstat read as text (the kernel's
 * Documentation/scheduler/sched-stats.rst), no I/O here: proc.ts
 * threadSchedule takes it. Three numbers: nanoseconds on a core,
 * nanoseconds runnable but waiting for one (the run queue's delay), and the
 * time slices run.
 */
export interface ThreadSchedule {
  /** Seconds the thread ran on a core. */
  runSeconds: number;
  /** Seconds it was ready to run and waited for a core: another thread had it. */
  waitSeconds: number;
}

/** The schedstat text's first two fields, in seconds; null if it is not three whole numbers. */
export function parseSchedstat(text: string): ThreadSchedule | null {
  const m = /^(\d+) (\d+) (\d+)\s*$/.exec(text);
  if (!m) return null;
  return { runSeconds: Number(m[1]) / 1e9, waitSeconds: Number(m[2]) / 1e9 };
}
