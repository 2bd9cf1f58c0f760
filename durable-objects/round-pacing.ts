/**
 * Round pacing: under a stream of changes, a publish round rests as long as
 * the round before it lasted (at most ROUND_REST_CAP_MS) before it starts.
 *
 * Every round pays a fixed cost whatever it carries: the snapshot lists every
 * targets role (16,385 at 16,384 bins) and is signed and stored, then the
 * timestamp and the log's checkpoint. Started back to back, rounds of a few
 * targets each kept the object's thread busy with that fixed cost alone, so
 * pushes and reads waited behind it (README "Measured", "Rounds rest").
 * Resting as long as the last round lasted keeps publishing to about half of
 * the thread while rounds are short; the cap keeps a long round (thousands of
 * targets) from waiting long before the next, so the rate published under a
 * heavy stream is barely touched.
 *
 * A change after a quiet spell is published at once: the rest only counts
 * from the end of the last round, and a small repository's rounds (a few
 * milliseconds) rest as little. The pace lives in the object's memory: an
 * object that restarts begins unpaced, which is only a round sooner.
 */

/** The longest rest between two rounds, in milliseconds. */
export const ROUND_REST_CAP_MS = 250;

export class RoundPacing {
  readonly #capMs: number;
  #start: number | null = null;
  #end: number | null = null;

  constructor(capMs = ROUND_REST_CAP_MS) {
    if (!Number.isFinite(capMs) || capMs < 0)
      throw new RangeError(`the rest cap must be a non-negative number of ms, got ${capMs}`);
    this.#capMs = capMs;
  }

  /** A round started at `now` (ms since the epoch). */
  started(now: number): void {
    this.#start = now;
    this.#end = null;
  }

  /** The round under way was published at `now`. */
  ended(now: number): void {
    if (this.#start === null) return;
    this.#end = now;
  }

  /** How many ms a round that would start at `now` waits first: 0 before any round has ended. */
  restBefore(now: number): number {
    if (this.#start === null || this.#end === null) return 0;
    const rest = Math.min(this.#capMs, Math.max(0, this.#end - this.#start));
    return Math.max(0, this.#end + rest - now);
  }
}
