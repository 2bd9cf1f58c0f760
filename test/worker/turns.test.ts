/**
 * Turns (durable-objects/turns.ts): a slice of long work waits for its next
 * turn until its own timer fires or the next group of pushes hands over,
 * whichever comes first; the other one then does nothing.
 */
import { describe, expect, it } from "vitest";
import { Turns, type TurnTimer } from "../../durable-objects/turns.ts";

/** A timer that fires only when told to, and counts its cancellations. */
function heldTimer() {
  const pending: Array<() => void> = [];
  let cancelled = 0;
  const timer: TurnTimer = (go) => {
    pending.push(go);
    return () => {
      cancelled++;
    };
  };
  return {
    timer,
    fire: () => {
      for (const go of pending.splice(0)) go();
    },
    cancelled: () => cancelled,
  };
}

const settled = async (promise: Promise<void>) => {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  // Every microtask queued so far runs before a macrotask.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
};

describe("Turns", () => {
  it("goes on at its own timer when nothing hands over", async () => {
    const turns = new Turns();
    await turns.next();
    expect(turns.waiting).toBe(0);
  });

  it("goes on when a group hands over, before its timer, and cancels the timer", async () => {
    const held = heldTimer();
    const turns = new Turns(held.timer);
    const first = turns.next();
    const second = turns.next();
    expect(turns.waiting).toBe(2);
    expect(await settled(first)).toBe(false);

    turns.handOver();
    expect(turns.waiting).toBe(0);
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
    expect(held.cancelled()).toBe(2);
    // The timers firing late change nothing.
    held.fire();
    expect(turns.waiting).toBe(0);
  });

  it("a hand-over with nobody waiting does nothing, and a slice that went on by its timer is not handed over", async () => {
    const held = heldTimer();
    const turns = new Turns(held.timer);
    turns.handOver();
    const slice = turns.next();
    held.fire();
    expect(await settled(slice)).toBe(true);
    expect(turns.waiting).toBe(0);
    turns.handOver();
    expect(held.cancelled()).toBe(1);
  });
});
