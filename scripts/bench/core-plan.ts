/** --pin's split of the machine's cores (cpu-pinning.ts does the pinning). */
export interface CorePlan {
  /** The cores of the process that runs the repository's object (taskset's list form). */
  object: string;
  /** The cores of every other process of the run. */
  rest: string;
}

/** The plan for a machine of `cores` cores. */
export function corePlan(cores: number): CorePlan {
  if (!Number.isInteger(cores) || cores < 2)
    throw new Error(`--pin needs at least 2 cores (one for the object, one for the rest); this machine has ${cores}`);
  return { object: "0", rest: cores === 2 ? "1" : `1-${cores - 1}` };
}

/** A core list as a sentence says it: "core 1", "cores 1-7". */
export function coreList(cores: string): string {
  return /^\d+$/.test(cores) ? `core ${cores}` : `cores ${cores}`;
}
