/**
 * Turns: long work (a publish round, in slices of bounded CPU) lets the
 * object take the events that wait (pushes, task polls, status) between two
 * of its slices. A slice waits for its next turn on a timer of its own
 * (`setTimeout(0)`): the runtime takes new requests and fires timers only
 * between runs of the work already queued, so what arrived during a slice
 * is taken before the next one.
 *
 * workerd fires an object's timers one at a time, in the order they are
 * due, each once the one before it has run. A slice's timer therefore waits
 * behind the object's other timers, and there must be few: a group of
 * pushes sets one timer, not one per push (accept-group.ts). With a timer
 * per push, slices waited behind the pushes' timers for as long as a stream
 * of pushes lasted, and rounds went on only because each group of pushes
 * "handed over" to the waiting slice straight after its answers, in the same
 * run of work, so the requests that arrived meanwhile waited for the group
 * and the slice together (docs/measured.md, "One timer per group").
 */

/** Starts a timer that calls `go`. */
export type TurnTimer = (go: () => void) => void;

const zeroTimer: TurnTimer = (go) => {
  setTimeout(go, 0);
};

export class Turns {
  readonly #timer: TurnTimer;

  constructor(timer: TurnTimer = zeroTimer) {
    this.#timer = timer;
  }

  /** Resolves at the next turn of the object's event loop, after what waits now. */
  next(): Promise<void> {
    return new Promise((resolve) => this.#timer(resolve));
  }
}
