/**
 * Group accept: pushes that are ready to be written at about the same time
 * (their signatures checked, their bodies parsed, while the object was busy)
 * are written together, in one transaction, so they cost one commit instead
 * of one each. Each push runs in a savepoint of its own inside it: one that
 * throws is rolled back alone, and its neighbours are written; one that is
 * refused by its checks writes nothing (checks come before writes). A push
 * sees the pushes queued before it in its group, as if they had been
 * accepted one at a time in that order.
 *
 * Nothing is answered before it is durable: the answers are given once the
 * group's transaction ends, and the object's output gate holds them until
 * its commit is confirmed. A group's hook (`afterGroup`: the alarm that
 * guarantees the publish) runs once per group, after the transaction; once
 * its pushes are answered, a publish round waiting for its next slice goes
 * on (`handOver`, turns.ts), so rounds and groups take turns.
 */

interface Queued<T> {
  apply: () => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export interface AcceptGroupDeps<T> {
  /** The object's synchronous transaction (nested calls are savepoints). */
  transaction: <R>(fn: () => R) => R;
  /** Inside the group's transaction, after its pushes: what each push that did not throw returned. */
  written: (values: T[]) => void;
  /** Once per group, after its transaction, before any of its pushes is answered: what each returned, as for `written`. */
  afterGroup: (values: T[]) => Promise<void>;
  /** Once per group, after its pushes are answered: long work waiting for its next turn goes on (turns.ts). */
  handOver?: () => void;
}

export class AcceptGroup<T> {
  readonly #deps: AcceptGroupDeps<T>;
  #queue: Queued<T>[] = [];

  constructor(deps: AcceptGroupDeps<T>) {
    this.#deps = deps;
  }

  /**
   * Runs `apply` (synchronous SQL, no await) in the next group's transaction,
   * in a savepoint of its own; resolves with what it returned once the group
   * is written, or rejects with what it threw (its writes rolled back).
   */
  accept(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve, reject });
      // A later turn: pushes whose checks end meanwhile join this group. Each push sets its own timer,
      // and the first to fire writes every push queued by then: no push waits on a timer of another
      // push's request (a sender that went away cannot hold its neighbours).
      setTimeout(() => void this.#flush(), 0);
    });
  }

  async #flush(): Promise<void> {
    if (this.#queue.length === 0) return;
    const group = this.#queue;
    this.#queue = [];
    const outcomes: Array<{ ok: true; value: T } | { ok: false; error: unknown }> = [];
    const values = () => outcomes.flatMap((o) => (o.ok ? [o.value] : []));
    try {
      this.#deps.transaction(() => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: this.#deps.transaction(item.apply) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        this.#deps.written(values());
      });
      await this.#deps.afterGroup(values());
    } catch (error) {
      // The group's own transaction (or its hook) failed: none of it is answered as accepted.
      for (const item of group) item.reject(error);
      this.#deps.handOver?.();
      return;
    }
    for (const [i, item] of group.entries()) {
      const outcome = outcomes[i];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.error);
    }
    this.#deps.handOver?.();
  }
}
