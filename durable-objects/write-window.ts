/**
 * A window of writes in flight: at most `limit` at once, each started as soon
 * as a place is free, instead of a group of writes that all wait for the
 * group's slowest before the next group starts.
 *
 * A publish round stores one file per changed role: with a group of 32 awaited
 * as a whole, each group waited for its slowest R2 write and the next group's
 * signing waited behind it; with a window, signing the next roles overlaps the
 * writes of the previous ones and R2 is kept busy. The first failure is kept:
 * `add` refuses new work once a write has failed, and `drain` waits for every
 * write started and then throws that failure, so no write is left running
 * unobserved and nothing is recorded for a role whose file was not stored.
 */
export class WriteWindow {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | null = null;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a write window holds at least 1 write, not ${limit}`);
    this.#limit = limit;
  }

  /** Starts `write` once fewer than `limit` writes run; throws the first failure seen so far instead. */
  async add(write: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit && !this.#failure) await Promise.race(this.#running);
    if (this.#failure) throw this.#failure.error;
    const running: Promise<void> = write()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Waits for every write started; throws the first failure if any write failed. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    if (this.#failure) throw this.#failure.error;
  }
}

/**
 * Runs `fill`, which adds writes to a fresh window of `limit`, then waits for
 * every write. If `fill` or a write fails, the writes already started still
 * end before the first failure is thrown.
 */
export async function withWriteWindow(limit: number, fill: (writes: WriteWindow) => Promise<void>): Promise<void> {
  const writes = new WriteWindow(limit);
  try {
    await fill(writes);
  } catch (error) {
    await writes.drain().catch(() => undefined);
    throw error;
  }
  await writes.drain();
}
