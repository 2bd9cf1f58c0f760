/**
 * Group commit: callers that changed the repository wait for a publish that
 * carries their change; changes that arrive while a round runs are carried
 * together by the next one. Work is bounded per invocation: after a few steps
 * the rest continues in an alarm (a fresh invocation with its own CPU budget).
 */
import type { PublishedVersions } from "../src/repository-api.ts";
import type { Publisher } from "./publisher.ts";

interface Waiter {
  seq: number;
  resolve: (versions: PublishedVersions) => void;
  reject: (error: unknown) => void;
}

/** Steps one invocation may run before handing over to an alarm. */
const STEPS_PER_INVOCATION = 4;
/** Delay before a failed publish is tried again. */
const RETRY_DELAY_MS = 5_000;

export class PublishFailedError extends Error {
  constructor(cause: unknown) {
    super("publishing failed; the change is stored and will be published when the retry succeeds", { cause });
    this.name = "PublishFailedError";
  }
}

export class GroupCommit {
  readonly #publisher: Publisher;
  readonly #scheduleAlarm: (at: number) => Promise<void>;
  #waiters: Waiter[] = [];
  #running: Promise<void> | null = null;

  constructor(publisher: Publisher, scheduleAlarm: (at: number) => Promise<void>) {
    this.#publisher = publisher;
    this.#scheduleAlarm = scheduleAlarm;
  }

  /** Resolves once the change numbered `seq` (and all before it) is published. */
  publish(seq: number): Promise<PublishedVersions> {
    const done = new Promise<PublishedVersions>((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
    this.#kick();
    return done;
  }

  /** Runs (or joins) the publish loop; for alarms. */
  async resume(): Promise<void> {
    this.#kick();
    await this.#running;
  }

  #kick(): void {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
  }

  async #run(): Promise<void> {
    try {
      for (let step = 0; step < STEPS_PER_INVOCATION; step++) {
        const result = await this.#publisher.step();
        this.#settle(result === "idle");
        if (result === "idle") return;
      }
      await this.#scheduleAlarm(Date.now());
    } catch (error) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(new PublishFailedError(error));
      await this.#scheduleAlarm(Date.now() + RETRY_DELAY_MS);
    }
  }

  /** Resolves the waiters whose changes are now published (all of them when nothing is left). */
  #settle(everything: boolean): void {
    const published = this.#publisher.roles.publishedSeq();
    const versions = this.#publisher.versions();
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (everything || w.seq <= published) w.resolve(versions);
      else still.push(w);
    }
    this.#waiters = still;
  }
}
