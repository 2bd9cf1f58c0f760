/**
 * Where an acknowledged change's wait until it is served goes: before the
 * round that publishes it starts, in that round, and from the round's end
 * until the watcher reads its timestamp. Rounds come from the repository
 * object's own log lines (`publish.round`, durable-objects/metrics.ts: the
 * timestamp version a round published, its duration and the time it was
 * logged), which the bench receives when it starts the bundle itself
 * (topology.ts). Pure: no I/O, so the arithmetic is tested
 * (test/unit/round-times.test.ts).
 */
import { ROUND_PHASES } from "../../durable-objects/round-phases.ts";
import { percentile } from "./stats.ts";

/** A round's phases as its line names them (`stagingMs`, …), and the turns' waits counted inside them. */
export const PHASE_NAMES = [...ROUND_PHASES, "turnWaits"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** A publish round on the bench's clock (performance.now(), ms). */
export interface Round {
  start: number;
  end: number;
  files: number;
  /** Where its time went (ms per phase), if its line says (durable-objects/round-phases.ts; 2026-12-04 on). */
  phases?: Record<PhaseName, number>;
}

/**
 * The rounds by the timestamp version each published, from the object's
 * `publish.round` lines. `origin` is the bench's performance.timeOrigin,
 * to put the object's wall-clock times on the bench's clock.
 */
export class RoundTimes {
  readonly #rounds = new Map<number, Round>();
  readonly #origin: number;

  constructor(origin: number) {
    this.#origin = origin;
  }

  /** Takes one structured log line (its JSON fields); any line but a round's is ignored. */
  record(line: Readonly<Record<string, unknown>>): void {
    const { event, timestamp, durationMs, files, at } = line;
    if (event !== "publish.round" || typeof timestamp !== "number" || typeof durationMs !== "number") return;
    if (typeof at !== "string") return;
    const end = Date.parse(at) - this.#origin;
    if (!Number.isFinite(end)) return;
    const round: Round = { start: end - durationMs, end, files: typeof files === "number" ? files : 0 };
    const phases = PHASE_NAMES.map((name) => line[`${name}Ms`]);
    if (phases.every((ms) => typeof ms === "number"))
      round.phases = Object.fromEntries(PHASE_NAMES.map((name, i) => [name, phases[i]])) as Record<PhaseName, number>;
    this.#rounds.set(timestamp, round);
  }

  /**
   * The mean ms of each phase, and of the rest of the round (`between`: its
   * duration less its phases, the time between its steps), over the rounds
   * that ended within [from, to] and say where their time went; null if none.
   */
  meanPhases(from: number, to: number): (Record<PhaseName, number> & { between: number; rounds: number }) | null {
    const rounds = [...this.#rounds.values()].filter((r) => r.end >= from && r.end <= to && r.phases);
    if (rounds.length === 0) return null;
    const mean = (ms: (r: Round) => number) => rounds.reduce((sum, r) => sum + ms(r), 0) / rounds.length;
    const inPhases = (r: Round) => ROUND_PHASES.reduce((sum, name) => sum + (r.phases?.[name] ?? 0), 0);
    return {
      ...(Object.fromEntries(PHASE_NAMES.map((name) => [name, mean((r) => r.phases?.[name] ?? 0)])) as Record<
        PhaseName,
        number
      >),
      between: mean((r) => r.end - r.start - inPhases(r)),
      rounds: rounds.length,
    };
  }

  get(version: number): Round | undefined {
    return this.#rounds.get(version);
  }

  get size(): number {
    return this.#rounds.size;
  }

  /** The longest round that ended within [from, to] (the bench's clock), or null if none did. */
  longest(from: number, to: number): Round | null {
    let best: Round | null = null;
    for (const round of this.#rounds.values())
      if (round.end >= from && round.end <= to && (best === null || round.end - round.start > best.end - best.start))
        best = round;
    return best;
  }
}

/** One acknowledged change: when its acknowledgement arrived, its round, and when its timestamp was first served. */
export interface ChangeTimes {
  ackAt: number;
  round: Round;
  servedAt: number;
}

/** Mean ms of each part of the wait, over some changes. */
export interface WaitParts {
  changes: number;
  /** From the acknowledgement until the round that publishes the change starts (0 if it started earlier). */
  beforeRound: number;
  /** That round, from its start (or from the acknowledgement, if later) to its end. */
  inRound: number;
  /** From the round's end until the watcher first read a timestamp that carries the change. */
  toServed: number;
}

function meanParts(changes: readonly ChangeTimes[]): WaitParts | null {
  if (changes.length === 0) return null;
  let beforeRound = 0;
  let inRound = 0;
  let toServed = 0;
  for (const { ackAt, round, servedAt } of changes) {
    const start = Math.max(ackAt, round.start);
    beforeRound += start - ackAt;
    inRound += Math.max(0, round.end - start);
    toServed += servedAt - Math.max(round.end, start);
  }
  const n = changes.length;
  return { changes: n, beforeRound: beforeRound / n, inRound: inRound / n, toServed: toServed / n };
}

/**
 * The parts of the wait over every change, and over the slowest: those whose
 * whole wait (served − acknowledged) is at or above its p99. The three parts
 * of one change add up to its wait.
 */
export function waitParts(changes: readonly ChangeTimes[]): { all: WaitParts; slowest: WaitParts } | null {
  const all = meanParts(changes);
  if (all === null) return null;
  const slowest = meanParts(slowestChanges(changes));
  return slowest === null ? null : { all, slowest };
}

/** The slowest 1 % of changes: those whose whole wait (served − acknowledged) is at or above its p99. */
export function slowestChanges(changes: readonly ChangeTimes[]): ChangeTimes[] {
  if (changes.length === 0) return [];
  const p99 = percentile(
    changes.map((c) => c.servedAt - c.ackAt),
    99,
  );
  return changes.filter((c) => c.servedAt - c.ackAt >= p99);
}
