/**
 * Where a publish round's wall time went, phase by phase, as the object's
 * clock saw it: logged with the round (`publish.round`'s `stagingMs`,
 * `logAheadMs` and so on: metrics.ts), so an operator, and the bench, can
 * tell a round long from signing from one long from waiting for R2 or for
 * the object's other events.
 *
 * A phase's time is wall time, its waits included: a turn given to the
 * object's other events (turns.ts), an R2 write. `turnWaits` is the part of
 * the round spent waiting for those turns, counted inside the phase that
 * waited, so it is a share of the others, not a phase beside them. Whatever
 * the phases leave of the round's duration is time between the round's
 * steps (an alarm that continues it, the invocation's other work). On the
 * platform, `Date.now()` advances only across I/O and timers, so a phase
 * with neither shows 0 however much CPU it used.
 *
 * The counts live in the isolate: a round continued after the object
 * restarted reports only the phases this isolate saw.
 */

/** A round's phases, in the order they run (publisher.ts). */
export const ROUND_PHASES = [
  /** Claimed roles signed and stored (role-staging.ts). */
  "staging",
  /** The log's full tiles since the last checkpoint, hashed and stored ahead of it. */
  "logAhead",
  /** The log's entries since the last round hashed, before the snapshot. */
  "logHash",
  /** The snapshot joined and signed. */
  "snapshotSign",
  /** The snapshot, any new root and the log's tiles and checkpoint stored (at once). */
  "stores",
  /** The timestamp signed and stored, and the edge's copy purged. */
  "timestampStore",
  /** The round's versions made current, in parts (round-commit.ts). */
  "commit",
] as const;

export type RoundPhase = (typeof ROUND_PHASES)[number];

/** Milliseconds per phase, and of them the waits for the object's turns. */
export type PhaseTimes = Record<RoundPhase | "turnWaits", number>;

export class RoundPhases {
  readonly #now: () => number;
  #ms = RoundPhases.#zero();

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  static #zero(): PhaseTimes {
    return Object.fromEntries([...ROUND_PHASES, "turnWaits"].map((p) => [p, 0])) as PhaseTimes;
  }

  /** Runs `work`, adding its wall time to `phase` (a failure's time counts too). */
  async time<T>(phase: RoundPhase | "turnWaits", work: () => Promise<T>): Promise<T> {
    const start = this.#now();
    try {
      return await work();
    } finally {
      this.#ms[phase] += this.#now() - start;
    }
  }

  /** The times since the last take() (a round's), and a fresh start for the next round. */
  take(): PhaseTimes {
    const taken = this.#ms;
    this.#ms = RoundPhases.#zero();
    return taken;
  }
}

/** The times as log fields: `stagingMs`, `logAheadMs`, … `turnWaitsMs`, whole milliseconds. */
export function phaseFields(times: PhaseTimes): Record<`${keyof PhaseTimes}Ms`, number> {
  return Object.fromEntries(Object.entries(times).map(([phase, ms]) => [`${phase}Ms`, Math.round(ms)])) as Record<
    `${keyof PhaseTimes}Ms`,
    number
  >;
}
