/**
 * A round's phase times (durable-objects/round-phases.ts): each phase adds
 * its wall time, a failed one too; take() hands a round's times over and
 * starts the next round from zero; the log fields are named after the phases.
 */
import { describe, expect, it } from "vitest";
import { phaseFields, ROUND_PHASES, RoundPhases } from "../../durable-objects/round-phases.ts";

/** A clock the test moves. */
function clock() {
  let now = 1_000;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("RoundPhases", () => {
  it("adds each phase's wall time, its nested turn waits counted apart", async () => {
    const c = clock();
    const phases = new RoundPhases(c.now);
    await phases.time("staging", async () => {
      c.advance(30);
      await phases.time("turnWaits", async () => c.advance(12));
      c.advance(8);
    });
    await phases.time("staging", async () => c.advance(5));
    await phases.time("snapshotSign", async () => c.advance(7));
    const times = phases.take();
    expect(times.staging).toBe(55);
    expect(times.turnWaits).toBe(12);
    expect(times.snapshotSign).toBe(7);
    expect(times.commit).toBe(0);
    expect(Object.keys(times).sort()).toEqual([...ROUND_PHASES, "turnWaits"].sort());
  });

  it("counts a phase that fails, and passes its error on", async () => {
    const c = clock();
    const phases = new RoundPhases(c.now);
    await expect(
      phases.time("stores", async () => {
        c.advance(40);
        throw new Error("R2 write failed");
      }),
    ).rejects.toThrow("R2 write failed");
    expect(phases.take().stores).toBe(40);
  });

  it("starts each round from zero after take()", async () => {
    const c = clock();
    const phases = new RoundPhases(c.now);
    await phases.time("commit", async () => c.advance(9));
    expect(phases.take().commit).toBe(9);
    expect(Object.values(phases.take()).every((ms) => ms === 0)).toBe(true);
  });

  it("names the log fields after the phases, in whole milliseconds", () => {
    const times = new RoundPhases().take();
    times.staging = 12.6;
    times.turnWaits = 3.2;
    expect(phaseFields(times)).toMatchObject({ stagingMs: 13, turnWaitsMs: 3, logAheadMs: 0, timestampStoreMs: 0 });
  });
});
