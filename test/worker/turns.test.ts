/**
 * Turns (durable-objects/turns.ts): a slice of long work waits for its next
 * turn on a timer of its own, and goes on when that timer fires, not before.
 */
import { describe, expect, it } from "vitest";
import { Turns, type TurnTimer } from "../../durable-objects/turns.ts";

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
  it("goes on at its own timer, not before", async () => {
    const pending: Array<() => void> = [];
    const timer: TurnTimer = (go) => {
      pending.push(go);
    };
    const turns = new Turns(timer);
    const slice = turns.next();
    expect(pending).toHaveLength(1);
    expect(await settled(slice)).toBe(false);
    pending.shift()?.();
    expect(await settled(slice)).toBe(true);
  });

  it("by default waits for a timer of the runtime (setTimeout(0)), after the microtasks queued meanwhile", async () => {
    const turns = new Turns();
    let microtasks = 0;
    const slice = turns.next().then(() => microtasks);
    for (let i = 0; i < 100; i++) await Promise.resolve().then(() => microtasks++);
    expect(await slice).toBe(100);
  });
});
