/**
 * /proc/<pid>/task/<tid>/schedstat read as text (the kernel's
 * Documentation/scheduler/sched-stats.rst), no I/O here: proc.ts
 * threadSchedule takes it. Three numbers: nanoseconds on a core,
 * nanoseconds runnable but waiting for one (the run queue's delay), and the
 * time slices run.
 */
export interface ThreadSchedule {
  /** Seconds the thread was ready to run and waited for a core: another thread had it. */
  waitSeconds: number;
}

/** The schedstat text's second field, in seconds; null if the text is not three whole numbers. */
export function parseSchedstat(text: string): ThreadSchedule | null {
  const m = /^\d+ (\d+) \d+\s*$/.exec(text);
  return m ? { waitSeconds: Number(m[1]) / 1e9 } : null;
}
