/**
 * The window of writes in flight that publish rounds and log publication use
 * (durable-objects/write-window.ts): bounded, overlapping, and never losing a
 * failure or leaving a write running after it reports one.
 */
import { describe, expect, it } from "vitest";
import { WriteWindow, withWriteWindow } from "../../durable-objects/write-window.ts";

/** A write that ends when the test says so. */
function gate() {
  let open: () => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

/** Whether `promise` has settled yet (it is expected to reject: the rejection is observed here). */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  void promise
    .catch(() => undefined)
    .finally(() => {
      settled = true;
    });
  return () => settled;
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

/** `promise` stays pending while the slow write runs, and rejects with `message` once `release` lets it end. */
async function expectRejectsOnlyAfter(promise: Promise<unknown>, release: () => void, message: string) {
  const settled = settledFlag(promise);
  await turns();
  expect(settled()).toBe(false);
  release();
  await expect(promise).rejects.toThrow(message);
}

describe("WriteWindow", () => {
  it("keeps at most `limit` writes running and starts the next as soon as one ends", async () => {
    const window = new WriteWindow(2);
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const adding = (async () => {
      for (const [i, g] of gates.entries())
        await window.add(async () => {
          started.push(i);
          await g.done;
        });
    })();
    await turns();
    expect(started).toEqual([0, 1]);
    gates[1]?.open();
    await turns();
    expect(started).toEqual([0, 1, 2]);
    await adding;
    gates[0]?.open();
    gates[2]?.open();
    await window.drain();
  });

  it("drain waits for every write started, then throws the first failure; add refuses after it", async () => {
    const window = new WriteWindow(3);
    const slow = gate();
    let slowEnded = false;
    await window.add(async () => {
      await slow.done;
      slowEnded = true;
    });
    await window.add(async () => {
      throw new Error("first");
    });
    await turns();
    let refusedRan = false;
    await expect(
      window.add(async () => {
        refusedRan = true;
      }),
    ).rejects.toThrow("first");
    expect(refusedRan).toBe(false);
    await expectRejectsOnlyAfter(window.drain(), slow.open, "first");
    expect(slowEnded).toBe(true);
  });

  it("withWriteWindow lets the writes started end before it throws what failed while filling", async () => {
    const slow = gate();
    let ended = false;
    const run = withWriteWindow(4, async (writes) => {
      await writes.add(async () => {
        await slow.done;
        ended = true;
      });
      throw new Error("filling failed");
    });
    await expectRejectsOnlyAfter(run, slow.open, "filling failed");
    expect(ended).toBe(true);
  });

  it("refuses a window of no writes", () => {
    expect(() => new WriteWindow(0)).toThrow();
  });
});
