/**
 * Group commit: callers that changed the repository wait for a publish that
 * carries their change; changes that arrive while a round runs are carried
 * together by the next one. Work is bounded per invocation: at most
 * `binsPerInvocation` roles are signed (plus a snapshot and timestamp per
 * round), and the rest continues in an alarm: a fresh invocation with its own
 * CPU budget.
 */
import { failure, type Failure, type PublishedVersions } from "../src/repository-api.ts";
import type { Publisher } from "./publisher.ts";
import { KekError } from "./sealer.ts";

interface Waiter {
  seq: number;
  resolve: (versions: PublishedVersions) => void;
  reject: (error: unknown) => void;
}

/** Publish rounds one invocation may finish before handing over to an alarm. */
const ROUNDS_PER_INVOCATION = 4;

/**
 * How a run ended: nothing left to publish, more work for the next
 * invocation (schedule an alarm now), or a failure (schedule a retry).
 */
export type RunOutcome = { outcome: "idle" } | { outcome: "more" } | { outcome: "failed"; error: unknown };

export class PublishFailedError extends Error {
  constructor(cause: unknown) {
    super("publishing failed; the change is stored and will be published when the retry succeeds", { cause });
    this.name = "PublishFailedError";
  }
}

/** The refusal of a change that could not be published: a sealed signing key does not unseal. */
export function blockedFailure(error: KekError): Failure {
  return failure(
    503,
    error.code,
    `publishing is blocked: a signing key cannot be unsealed (${error.message}); configure the key-encryption key it was sealed under in KEY_ENCRYPTION_KEY`,
  );
}

/** A publish's versions, or the refusal to tell a caller whose change is stored but not yet published. */
export async function published(
  wait: Promise<PublishedVersions>,
): Promise<{ ok: true; versions: PublishedVersions } | Failure> {
  try {
    return { ok: true, versions: await wait };
  } catch (error) {
    if (!(error instanceof PublishFailedError)) throw error;
    if (error.cause instanceof KekError) return blockedFailure(error.cause);
    return failure(503, "publish_pending", error.message);
  }
}

export interface GroupCommitDeps {
  publisher: Publisher;
  /** Roles a run may stage before it yields to a later invocation. */
  budget: () => number;
  /** Called after every run, with what it did. */
  afterRun: (result: RunOutcome) => Promise<void>;
  /** Asks for a run as soon as possible (the object's alarm). */
  scheduleNow: () => Promise<void>;
}

export class GroupCommit {
  readonly #publisher: Publisher;
  readonly #afterRun: (result: RunOutcome) => Promise<void>;
  #waiters: Waiter[] = [];
  #running: Promise<void> | null = null;

  readonly #budget: () => number;
  readonly #scheduleNow: () => Promise<void>;

  constructor(deps: GroupCommitDeps) {
    this.#publisher = deps.publisher;
    this.#budget = deps.budget;
    this.#afterRun = deps.afterRun;
    this.#scheduleNow = deps.scheduleNow;
  }

  /** Resolves once the change numbered `seq` (and all before it) is published. */
  publish(seq: number): Promise<PublishedVersions> {
    const done = new Promise<PublishedVersions>((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
    this.#kick();
    return done;
  }

  /**
   * For callers that do not wait (Prefer: respond-async): the change is stored;
   * the publish starts on a later turn, so the response is not held behind the
   * round's first synchronous work, and an alarm makes sure it starts even if
   * the object is evicted first.
   */
  async publishSoon(): Promise<void> {
    await this.#scheduleNow();
    setTimeout(() => this.#kick(), 0);
  }

  /** Runs (or joins) one invocation's worth of the publish loop; for alarms and refreshes. */
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
    let result: RunOutcome = { outcome: "more" };
    let budget = this.#budget();
    try {
      for (let rounds = 0; rounds < ROUNDS_PER_INVOCATION; ) {
        const step = await this.#publisher.step(budget);
        budget -= step.staged;
        this.#settle(step.result === "idle");
        if (step.result === "idle") {
          result = { outcome: "idle" };
          break;
        }
        if (step.result === "published") rounds++;
        if (step.result === "more" && budget <= 0) break;
      }
    } catch (error) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(new PublishFailedError(error));
      result = { outcome: "failed", error };
    }
    await this.#afterRun(result);
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
