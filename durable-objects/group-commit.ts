/**
 * Group commit: callers that changed the repository wait for a publish that
 * carries their change; changes that arrive while a round runs are carried
 * together by the next one. Work is bounded per invocation (see
 * invocation-budget.ts: roles signed, rounds, R2 operations), and the rest
 * continues in an alarm: a fresh invocation with its own CPU budget.
 */
import { failure, type Failure, type PublishedVersions } from "../src/repository-api.ts";
import {
  type InvocationLog,
  LOG_WRITES_PER_INVOCATION,
  R2_FINISH_RESERVE,
  R2_OPERATIONS_PER_INVOCATION,
  type R2Meter,
  ROUNDS_PER_INVOCATION,
} from "./invocation-budget.ts";
import type { ImportHold } from "./import-hold.ts";
import type { Publisher } from "./publisher.ts";
import type { Turns } from "./turns.ts";
import { KekError } from "./sealer.ts";

/**
 * R2 writes of the log's full tiles (a tile and its entry bundle are two)
 * stored in one turn while publishing is idle (Publisher.storeAhead): a few
 * milliseconds of the object's thread each, so a push that arrives meanwhile
 * waits for at most this many before its round starts.
 */
export const IDLE_LOG_WRITES = 16;

interface Waiter {
  seq: number;
  /** Its place among the publishes asked for: a step's "idle" settles only those asked for before it began. */
  ticket: number;
  resolve: (versions: PublishedVersions) => void;
  reject: (error: unknown) => void;
}

/**
 * How a run ended: nothing left to publish, more work for the next
 * invocation (schedule an alarm now), changes that wait for an import's end
 * (import-hold.ts: schedule the alarm for the hold's deadline), or a failure
 * (schedule a retry).
 */
export type RunOutcome =
  | { outcome: "idle" }
  | { outcome: "more" }
  | { outcome: "held" }
  | { outcome: "failed"; error: unknown };

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
  /** Counts the object's R2 operations (the per-invocation budget). */
  meter: R2Meter;
  /** Where each run's spend is recorded. */
  spent: InvocationLog;
  /** Deferred import batches: no round starts while it holds (import-hold.ts). */
  hold: ImportHold;
  /** Where a publish asked for by a push starts: its next turn (turns.ts). */
  turns: Pick<Turns, "next">;
}

export class GroupCommit {
  readonly #publisher: Publisher;
  readonly #afterRun: (result: RunOutcome) => Promise<void>;
  #waiters: Waiter[] = [];
  #tickets = 0;
  #running: Promise<void> | null = null;
  /** A publish was asked for while a run was under way: another run follows it. */
  #again = false;

  readonly #budget: () => number;
  readonly #scheduleNow: () => Promise<void>;
  readonly #meter: R2Meter;
  readonly #spent: InvocationLog;
  readonly #hold: ImportHold;
  readonly #turns: Pick<Turns, "next">;

  constructor(deps: GroupCommitDeps) {
    this.#publisher = deps.publisher;
    this.#budget = deps.budget;
    this.#afterRun = deps.afterRun;
    this.#scheduleNow = deps.scheduleNow;
    this.#meter = deps.meter;
    this.#spent = deps.spent;
    this.#hold = deps.hold;
    this.#turns = deps.turns;
  }

  /** Resolves once the change numbered `seq` (and all before it) is published (an import's hold ends). */
  publish(seq: number): Promise<PublishedVersions> {
    this.#hold.release();
    const ticket = ++this.#tickets;
    const done = new Promise<PublishedVersions>((resolve, reject) =>
      this.#waiters.push({ seq, ticket, resolve, reject }),
    );
    this.#kick();
    return done;
  }

  /**
   * For callers that do not wait (Prefer: respond-async): the change is stored;
   * the publish starts on a later turn (turns.ts), so the response is not held
   * behind the round's first synchronous work, and an alarm makes sure it starts even if
   * the object is evicted first. An import's hold ends: this change's round
   * carries its stored batches too.
   */
  async publishSoon(): Promise<void> {
    this.#hold.release();
    await this.#scheduleNow();
    void this.#turns.next().then(() => this.#kick());
  }

  /**
   * For a deferred import batch (import-hold.ts): the change is stored, and
   * publishing waits for the import's end or IMPORT_IDLE_MS without another
   * batch. Returns that deadline; the caller sets the alarm for it.
   */
  deferForImport(now: number): number {
    return this.#hold.extend(now);
  }

  /** Runs (or joins) one invocation's worth of the publish loop; for alarms and refreshes. */
  async resume(): Promise<void> {
    this.#kick();
    await this.#running;
  }

  /**
   * Starts a run, or asks the one under way for another after it: a change
   * whose publish is asked for while a run is ending (it settled its waiters
   * and awaits `afterRun`) would otherwise wait for the next change's run.
   * A run that stopped at its budget ("more") or failed is not followed at
   * once: its alarm continues it in an invocation of its own (or retries).
   */
  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#running = this.#run().then(
      (outcome) => {
        this.#running = null;
        if (this.#again && (outcome === "idle" || outcome === "held")) this.#kick();
      },
      (error: unknown) => {
        this.#running = null;
        throw error;
      },
    );
  }

  async #run(): Promise<RunOutcome["outcome"]> {
    let result: RunOutcome = { outcome: "more" };
    const started = Date.now();
    const r2Before = this.#meter.operations;
    const r2Left = () => R2_OPERATIONS_PER_INVOCATION - R2_FINISH_RESERVE - (this.#meter.operations - r2Before);
    let budget = this.#budget();
    let roles = 0;
    let logWrites = 0;
    let rounds = 0;
    try {
      while (rounds < ROUNDS_PER_INVOCATION) {
        // An import's batches wait for its end: no new round starts (one under way finishes).
        const table = this.#publisher.roles;
        if (!table.roundActive() && this.#hold.until(Date.now()) !== null && table.hasChanges()) {
          result = { outcome: "held" };
          break;
        }
        // A step that finds nothing left vouches only for the changes asked for before it began: one
        // stored and asked for while it is awaited (another caller resumes meanwhile) has its own round.
        const askedBefore = this.#tickets;
        // Each staged role is at most one R2 write: the step stays within both budgets.
        const step = await this.#publisher.step(
          Math.max(0, Math.min(budget, r2Left())),
          LOG_WRITES_PER_INVOCATION - logWrites,
        );
        // A log write stored ahead counts against the roles' budget too (and LOG_WRITES_PER_INVOCATION); it is not a role signed.
        budget -= step.staged + step.logWrites;
        roles += step.staged;
        logWrites += step.logWrites;
        this.#settle(step.result === "idle" ? askedBefore : 0);
        if (step.result === "idle") {
          // Nothing to publish: the log entries of the round just published are hashed meanwhile, a slice a
          // turn, so a change that arrives starts its round at the next step instead of behind them.
          if (this.#publisher.hashAhead()) {
            await this.#turns.next();
            continue;
          }
          // Then their full tiles are stored ahead of the checkpoint, a few writes a turn, within the budgets.
          const writes = Math.min(IDLE_LOG_WRITES, budget, r2Left(), LOG_WRITES_PER_INVOCATION - logWrites);
          const stored = writes > 0 ? await this.#publisher.storeAhead(writes) : 0;
          if (stored > 0) {
            budget -= stored;
            logWrites += stored;
            if (budget <= 0 || r2Left() <= 0 || logWrites >= LOG_WRITES_PER_INVOCATION) break;
            await this.#turns.next();
            continue;
          }
          // A budget spent before the tiles were looked at: an alarm goes on with them if any wait.
          result = { outcome: writes <= 0 && this.#publisher.tilesAhead() ? "more" : "idle" };
          break;
        }
        if (step.result === "published") rounds++;
        if (step.result === "more" && (budget <= 0 || r2Left() <= 0 || logWrites >= LOG_WRITES_PER_INVOCATION)) break;
      }
    } catch (error) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(new PublishFailedError(error));
      result = { outcome: "failed", error };
    }
    // A run that found nothing to do is not worth a record.
    if (roles > 0 || logWrites > 0 || rounds > 0 || (result.outcome !== "idle" && result.outcome !== "held"))
      this.#spent.record({
        roles,
        logWrites,
        rounds,
        r2Operations: this.#meter.operations - r2Before,
        wallMs: Date.now() - started,
        outcome: result.outcome,
      });
    await this.#afterRun(result);
    return result.outcome;
  }

  /**
   * Resolves the waiters whose changes are now published, and, when a step found nothing left,
   * every waiter with a ticket up to `idleThrough` (a change that needed no role signed).
   */
  #settle(idleThrough: number): void {
    const published = this.#publisher.roles.publishedSeq();
    const versions = this.#publisher.versions();
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.ticket <= idleThrough || w.seq <= published) w.resolve(versions);
      else still.push(w);
    }
    this.#waiters = still;
  }
}
