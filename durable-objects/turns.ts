/**
 * Turns: long work (a publish round, in slices of bounded CPU) lets the
 * object take the events that wait (pushes, task polls, status) between two
 * of its slices. A slice's wait for its next turn ends at whichever comes
 * first:
 *
 *   - its own timer (`setTimeout(0)`): enough while the object is quiet;
 *   - the end of the next group of pushes (accept-group.ts calls `handOver`
 *     once the group is written and answered).
 *
 * Why not the timer alone: under a steady stream of pushes, local workerd
 * fired a waiting round's timer only once the stream stopped, while each
 * group's own timer fired within milliseconds. With the timer alone a round
 * waited 0.2–4.7 s per slice and lasted as long as the stream (rounds of
 * 11 s wall at 200 pushes a second); with the hand-over, slices and groups
 * of pushes alternate (`npm run bench -- --quick --only scale --bins 1024
 * --targets 20000 --push-rate 2000 --direct`, README "Measured").
 */

/** Starts a timer that calls `go`; returns what cancels it. */
export type TurnTimer = (go: () => void) => () => void;

const zeroTimer: TurnTimer = (go) => {
  const id = setTimeout(go, 0);
  return () => clearTimeout(id);
};

export class Turns {
  readonly #timer: TurnTimer;
  readonly #waiting = new Set<() => void>();

  constructor(timer: TurnTimer = zeroTimer) {
    this.#timer = timer;
  }

  /** Resolves at the next turn: after the next group of pushes, or on a timer if none comes first. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      let cancel: () => void = () => undefined;
      const go = () => {
        if (!this.#waiting.delete(go)) return;
        cancel();
        resolve();
      };
      this.#waiting.add(go);
      cancel = this.#timer(go);
    });
  }

  /** Slices waiting for their turn. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Lets every slice waiting for its turn go on, after the event that calls it (its microtasks run next). */
  handOver(): void {
    for (const go of [...this.#waiting]) go();
  }
}
