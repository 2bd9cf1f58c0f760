/**
 * Group commit (durable-objects/group-commit.ts): a publish asked for while
 * a run is ending (it has settled its waiters and awaits its `afterRun`) is
 * carried by another run, not left waiting for the next change. The
 * publisher here is scripted (a change is one step that publishes it); the
 * hold, the spend log and the turns are the object's own.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  GroupCommit,
  type GroupCommitDeps,
  IDLE_LOG_WRITES,
  type RunOutcome,
} from "../../durable-objects/group-commit.ts";
import { ImportHold } from "../../durable-objects/import-hold.ts";
import { InvocationLog, LOG_WRITES_PER_INVOCATION, R2Meter } from "../../durable-objects/invocation-budget.ts";
import type { Publisher } from "../../durable-objects/publisher.ts";
import type { Repository } from "../../durable-objects/repository.ts";
import { Turns } from "../../durable-objects/turns.ts";

/**
 * Changes numbered 1, 2, …; each step publishes every change stored so far.
 * `unhashed` slices of the log wait to be hashed between rounds (hashAhead),
 * then `tileWrites` writes of full tiles to be stored ahead (storeAhead).
 */
function scriptedPublisher(unhashed = 0, tileWrites = 0) {
  let stored = 0;
  let published = 0;
  let slices = unhashed;
  let tiles = tileWrites;
  /** The writes each storeAhead call was allowed. */
  const tileCalls: number[] = [];
  /** The slices still unhashed as each step published. */
  const slicesAtPublish: number[] = [];
  const publisher = {
    roles: {
      roundActive: () => false,
      hasChanges: () => stored > published,
      publishedSeq: () => published,
    },
    step: async () => {
      if (stored === published) return { result: "idle" as const, staged: 0, logWrites: 0 };
      published = stored;
      slicesAtPublish.push(slices);
      return { result: "published" as const, staged: 1, logWrites: 0 };
    },
    versions: () => ({ targets: published, snapshot: published, timestamp: published }),
    hashAhead: () => {
      if (slices > 0) slices--;
      return slices > 0;
    },
    tilesAhead: () => tiles > 0,
    storeAhead: async (writes: number) => {
      tileCalls.push(writes);
      const done = Math.min(writes, tiles);
      tiles -= done;
      return done;
    },
  };
  return {
    publisher: publisher as unknown as Publisher,
    store: () => ++stored,
    slicesLeft: () => slices,
    tilesLeft: () => tiles,
    slicesAtPublish,
    tileCalls,
  };
}

/** A GroupCommit over `publisher` with the object's own hold, spend log and turns; `deps` replaces any of them. */
function groupCommit(
  state: DurableObjectState,
  publisher: Publisher,
  deps: Partial<GroupCommitDeps> = {},
): GroupCommit {
  return new GroupCommit({
    publisher,
    budget: () => 100,
    afterRun: async () => undefined,
    scheduleNow: async () => undefined,
    meter: new R2Meter(),
    spent: new InvocationLog(state.storage.kv),
    hold: new ImportHold(state.storage.sql),
    turns: new Turns(),
    ...deps,
  });
}

/**
 * A GroupCommit whose turns are counted, the second storing a change and asking for its publish, as a
 * push taken between two slices would; each run's outcome is recorded. `second()` is that publish.
 */
function changeAtTurn(state: DurableObjectState, publisher: Publisher, store: () => number) {
  const outcomes: RunOutcome["outcome"][] = [];
  let turns = 0;
  let second: Promise<unknown> | null = null;
  const commits = groupCommit(state, publisher, {
    afterRun: async (result) => {
      outcomes.push(result.outcome);
    },
    turns: {
      next: async () => {
        turns++;
        if (turns === 2) second = commits.publish(store());
      },
    },
  });
  return {
    commits,
    outcomes,
    turns: () => turns,
    second: async () => {
      await vi.waitFor(() => expect(second).not.toBeNull());
      return second;
    },
  };
}

describe("GroupCommit", () => {
  it("runs again for a publish asked for while a run awaits its afterRun", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-race"), async (_i: Repository, state) => {
      const { publisher, store } = scriptedPublisher();
      const outcomes: RunOutcome["outcome"][] = [];
      let releaseFirst: () => void = () => undefined;
      const firstHeld = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let ended: () => void = () => undefined;
      const firstEnding = new Promise<void>((resolve) => {
        ended = resolve;
      });
      const commits = groupCommit(state, publisher, {
        afterRun: async (result) => {
          outcomes.push(result.outcome);
          if (outcomes.length === 1) {
            ended();
            await firstHeld;
          }
        },
      });

      expect(await commits.publish(store())).toEqual({ targets: 1, snapshot: 1, timestamp: 1 });
      await firstEnding;
      // The first run found nothing more ("idle") and is in its afterRun: a change stored now.
      const second = commits.publish(store());
      releaseFirst();
      expect(await second).toEqual({ targets: 2, snapshot: 2, timestamp: 2 });
      // Its waiters are settled before its afterRun: the second run ends too.
      await vi.waitFor(() => expect(outcomes).toEqual(["idle", "idle"]));
    });
  });

  it("does not settle a change asked for after the step that found nothing left: its own round publishes it", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-idle-race"), async (_i: Repository, state) => {
      const { publisher, store } = scriptedPublisher();
      const commits = groupCommit(state, publisher);
      // The first run publishes change 1, then its next step finds nothing and returns at once ("idle").
      // This caller resumes between that step and the run's settling, and stores and asks for change 2:
      // it used to be settled with the versions of change 1.
      expect(await commits.publish(store())).toEqual({ targets: 1, snapshot: 1, timestamp: 1 });
      expect(await commits.publish(store())).toEqual({ targets: 2, snapshot: 2, timestamp: 2 });
    });
  });

  it("hashes the log between rounds a slice a turn; a change stored meanwhile is published at the next step", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-hash-ahead"), async (_i: Repository, state) => {
      const { publisher, store, slicesLeft, slicesAtPublish } = scriptedPublisher(5);
      const { commits, outcomes, turns, second } = changeAtTurn(state, publisher, store);
      expect(await commits.publish(store())).toEqual({ targets: 1, snapshot: 1, timestamp: 1 });
      // The change stored at the second turn is published at the step after it, before the slices left.
      expect(await second()).toEqual({ targets: 2, snapshot: 2, timestamp: 2 });
      // The first run: publish 1, nothing left, two slices; publish 2, nothing left, three slices (a turn
      // after each but the last). The change asked for during it makes a second run, which finds nothing.
      await vi.waitFor(() => expect(outcomes).toEqual(["idle", "idle"]));
      expect(slicesLeft()).toBe(0);
      expect(slicesAtPublish).toEqual([5, 3]);
      expect(turns()).toBe(4);
    });
  });

  it("stores the log's full tiles between rounds a few writes a turn, once hashed; a change stored meanwhile goes first", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-tiles-ahead"), async (_i: Repository, state) => {
      const { publisher, store, tilesLeft, tileCalls, slicesAtPublish } = scriptedPublisher(2, 40);
      // The second turn follows the first tile slice: a push taken there.
      const { commits, outcomes, turns, second } = changeAtTurn(state, publisher, store);
      expect(await commits.publish(store())).toEqual({ targets: 1, snapshot: 1, timestamp: 1 });
      expect(await second()).toEqual({ targets: 2, snapshot: 2, timestamp: 2 });
      await vi.waitFor(() => expect(outcomes).toEqual(["idle", "idle"]));
      // Publish 1; a hash slice, a turn; the last hash slice; tiles (16), a turn, where change 2 is stored;
      // publish 2; tiles (16), a turn; tiles (8), a turn; none left. The second run (change 2 was asked for
      // during the first) finds nothing to publish and no tile left.
      expect(slicesAtPublish).toEqual([2, 0]);
      expect(tileCalls).toEqual([IDLE_LOG_WRITES, IDLE_LOG_WRITES, IDLE_LOG_WRITES, IDLE_LOG_WRITES, IDLE_LOG_WRITES]);
      expect(tilesLeft()).toBe(0);
      expect(turns()).toBe(4);
    });
  });

  it("stops storing tiles between rounds at the run's budget, and leaves the rest to the alarm", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-tiles-budget"), async (_i: Repository, state) => {
      const { publisher, tilesLeft, tileCalls } = scriptedPublisher(0, 1_000);
      const outcomes: RunOutcome["outcome"][] = [];
      const spent = new InvocationLog(state.storage.kv);
      const commits = groupCommit(state, publisher, {
        budget: () => 100_000,
        afterRun: async (result) => {
          outcomes.push(result.outcome);
        },
        spent,
      });
      await commits.resume();
      // LOG_WRITES_PER_INVOCATION in slices of IDLE_LOG_WRITES, then "more": the alarm's run goes on.
      expect(tileCalls).toEqual(Array(LOG_WRITES_PER_INVOCATION / IDLE_LOG_WRITES).fill(IDLE_LOG_WRITES));
      expect(outcomes).toEqual(["more"]);
      expect(spent.recent().at(-1)).toMatchObject({ roles: 0, logWrites: LOG_WRITES_PER_INVOCATION, outcome: "more" });
      await commits.resume();
      expect(tilesLeft()).toBe(1_000 - 2 * LOG_WRITES_PER_INVOCATION);
      // A budget smaller than a slice is what a run may write.
      const small = groupCommit(state, publisher, { budget: () => 5, afterRun: async () => undefined });
      await small.resume();
      expect(tileCalls.at(-1)).toBe(5);
    });
  });

  it("stops a run once its steps stored LOG_WRITES_PER_INVOCATION log tiles ahead, telling each step what is left", async () => {
    await runInDurableObject(env.REPOSITORY.getByName("group-commit-log-budget"), async (_i: Repository, state) => {
      // A round whose log keeps having full tiles to store: every step stores 100 writes and asks for more.
      const given: number[] = [];
      const publisher = {
        roles: { roundActive: () => true, hasChanges: () => true, publishedSeq: () => 0 },
        step: async (_budget: number, logBudget: number) => {
          given.push(logBudget);
          return { result: "more" as const, staged: 0, logWrites: 100 };
        },
        versions: () => ({ targets: 0, snapshot: 0, timestamp: 0 }),
        hashAhead: () => false,
      };
      const outcomes: RunOutcome["outcome"][] = [];
      const spent = new InvocationLog(state.storage.kv);
      const commits = groupCommit(state, publisher as unknown as Publisher, {
        budget: () => 100_000,
        afterRun: async (result) => {
          outcomes.push(result.outcome);
        },
        spent,
      });
      await commits.resume();
      expect(LOG_WRITES_PER_INVOCATION).toBe(256);
      expect(given).toEqual([256, 156, 56]);
      expect(outcomes).toEqual(["more"]);
      expect(spent.recent().at(-1)).toMatchObject({ roles: 0, logWrites: 300, outcome: "more" });
    });
  });
});
