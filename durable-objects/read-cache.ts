/**
 * A cache of small SQLite reads that the object makes on every request (the
 * active online key that the blocked-key check and every signature need), kept
 * in memory between requests and dropped by the component that writes the rows.
 *
 * A write may be part of a synchronous transaction (`transactionSync`) that is
 * later rolled back. So a write drops the cache and also stops it from keeping
 * anything until the current synchronous block has ended (a microtask later):
 * a value read after the write, inside the transaction, reflects rows that may
 * never be committed and is not kept. The next read after the block reads the
 * committed state again.
 */
export class ReadCache<K, V> {
  readonly #values = new Map<K, V>();
  #writing = false;

  /** The cached value for `key`, or what `load` reads (kept unless a write happened in this synchronous block). */
  get(key: K, load: () => V): V {
    if (this.#values.has(key)) return this.#values.get(key) as V;
    const value = load();
    if (!this.#writing) this.#values.set(key, value);
    return value;
  }

  /** Call with every write of the rows the cache reflects (before or after it, in the same synchronous block). */
  invalidate(): void {
    this.#values.clear();
    if (this.#writing) return;
    this.#writing = true;
    queueMicrotask(() => {
      this.#writing = false;
      this.#values.clear();
    });
  }
}
