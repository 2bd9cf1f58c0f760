/**
 * Group accept: pushes that are ready to be written at about the same time
 * (their signatures checked, their bodies parsed, while the object was busy)
 * are written together, in one transaction, so they cost one commit instead
 * of one each. A push that throws is rolled back alone, and its neighbours
 * are written; one that is refused by its checks writes nothing (checks come
 * before writes). A push sees the pushes queued before it in its group, as
 * if they had been accepted one at a time in that order.
 *
 * Two ways to write a group. First as the object's outermost transaction
 * (`outermost`: storage.transaction(), a savepoint that begins the SQLite
 * transaction itself), with no savepoint inside: SQLite then copies no page
 * to a journal before changing it. Inside a savepoint (transactionSync's),
 * every page a push changes is copied first, so that the savepoint can be
 * undone alone: 4 KB a page, written out to a temporary file past 64 KB
 * (plain-inserts.ts). If a push throws there, the whole try is rolled back
 * (`rolledBack` drops what its pushes kept in memory) and the group is
 * written again the careful way: in `transaction`, each push in a savepoint
 * of its own, so that only the push that throws is undone.
 *
 * Nothing is answered before it is durable: the answers are given once the
 * group's transaction ends, and the object's output gate holds them until
 * its commit is confirmed. A group's hook (`afterGroup`: the alarm that
 * guarantees the publish) runs once per group, after the transaction.
 *
 * One timer at a time: the push that opens a group sets the timer that
 * writes it; the pushes that join it set none. workerd fires an object's
 * timers one at a time, in the order they are due, each once the one before
 * it has run (its TimeoutManager, src/workerd/io/io-context.c++), at most one
 * per run of its event loop. A timer per push made a queue that grew faster
 * than it drained under a stream of pushes, and every other timer of the
 * object waited behind it, a publish round's next slice (turns.ts) included.
 * With one timer per group, acknowledgements at 16,384 bins and 2,000
 * targets/s offered came back in 484 ms at the median instead of 2,088 ms
 * (docs/measured.md, "One timer per group").
 *
 * A timer that has not fired after STALE_TIMER_MS (it should within one turn
 * of the event loop) is not trusted: the next push sets another, so a lost
 * timer cannot hold a group for good (the one that fires first writes it).
 */

/**
 * Most pushes one group writes. Pushes queue while the object is busy (a
 * round's slice, the group before), and an uncapped group took all of them:
 * at 2,000 targets/s offered and 16,384 bins, the profile's longest
 * stretches held 25–98 ms of groups' transactions (a stretch may hold more
 * than one group), every push of a group answered only at its end. A larger
 * queue is written as several groups, each with its own timer, so the first
 * pushes are answered after their own group (docs/measured.md, "Groups of at
 * most 16 pushes").
 */
export const GROUP_PUSHES = 16;

/** After this long, a group's pending timer is deemed lost and the next push sets another. */
export const STALE_TIMER_MS = 5_000;

/** Sets a timer that calls `fire` (setTimeout(0) but in tests). */
export type GroupTimer = (fire: () => void) => void;

const zeroTimer: GroupTimer = (fire) => {
  setTimeout(fire, 0);
};

interface Queued<T> {
  apply: () => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export interface AcceptGroupDeps<T> {
  /** The object's synchronous transaction (nested calls are savepoints). */
  transaction: <R>(fn: () => R) => R;
  /** The object's outermost transaction (storage.transaction()): the first try at a group, with no savepoint inside. */
  outermost?: <R>(fn: () => R) => Promise<R>;
  /** A first try was rolled back: forget what its pushes kept in memory before they run again. */
  rolledBack?: () => void;
  /** Inside the group's transaction, after its pushes: what each push that did not throw returned. */
  written: (values: T[]) => void;
  /** Once per group, after its transaction, before any of its pushes is answered: what each returned, as for `written`. */
  afterGroup: (values: T[]) => Promise<void>;
  /** The group's timer (default setTimeout(0)) and the clock that tells a lost one (default Date.now). */
  timer?: GroupTimer;
  now?: () => number;
}

export class AcceptGroup<T> {
  readonly #deps: AcceptGroupDeps<T>;
  readonly #timer: GroupTimer;
  readonly #now: () => number;
  #queue: Queued<T>[] = [];
  /** When the pending timer of the group being gathered was set, or null if none is pending. */
  #timerSetAt: number | null = null;

  constructor(deps: AcceptGroupDeps<T>) {
    this.#deps = deps;
    this.#timer = deps.timer ?? zeroTimer;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Runs `apply` (synchronous SQL, no await) in the next group's transaction,
   * in a savepoint of its own; resolves with what it returned once the group
   * is written, or rejects with what it threw (its writes rolled back).
   */
  accept(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve, reject });
      // A later turn: pushes whose checks end meanwhile join this group, whose timer is set once.
      const now = this.#now();
      if (this.#timerSetAt !== null && now - this.#timerSetAt < STALE_TIMER_MS) return;
      this.#timerSetAt = now;
      this.#timer(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    // The next push opens a new group and sets its timer (a lost timer firing late finds nothing queued).
    this.#timerSetAt = null;
    if (this.#queue.length === 0) return;
    const group = this.#queue.splice(0, GROUP_PUSHES);
    // The rest is the next group, with a timer of its own: other events (a round's slice, a read) may come first.
    if (this.#queue.length > 0) {
      this.#timerSetAt = this.#now();
      this.#timer(() => void this.#flush());
    }
    let outcomes: Outcome<T>[];
    try {
      outcomes = await this.#write(group);
      await this.#deps.afterGroup(values(outcomes));
    } catch (error) {
      // The group's own transaction (or its hook) failed: none of it is answered as accepted.
      for (const item of group) item.reject(error);
      return;
    }
    for (const [i, item] of group.entries()) {
      const outcome = outcomes[i];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.error);
    }
  }

  /** Writes a group: as one outermost transaction if it can, else each push in a savepoint (see above). */
  async #write(group: Queued<T>[]): Promise<Outcome<T>[]> {
    const { outermost } = this.#deps;
    if (outermost) {
      try {
        return await outermost(() => {
          const written = group.map((item) => item.apply());
          this.#deps.written(written);
          return written.map((value) => ({ ok: true as const, value }));
        });
      } catch {
        // Rolled back whole; the careful way below finds the push that throws (or throws itself).
        this.#deps.rolledBack?.();
      }
    }
    const outcomes: Outcome<T>[] = [];
    this.#deps.transaction(() => {
      for (const item of group) {
        try {
          outcomes.push({ ok: true, value: this.#deps.transaction(item.apply) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      this.#deps.written(values(outcomes));
    });
    return outcomes;
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

const values = <T>(outcomes: readonly Outcome<T>[]): T[] => outcomes.flatMap((o) => (o.ok ? [o.value] : []));
