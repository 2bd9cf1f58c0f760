/** Round pacing (durable-objects/round-pacing.ts): how long a round waits after the one before it. */
import { describe, expect, it } from "vitest";
import { ROUND_REST_CAP_MS, RoundPacing } from "../../durable-objects/round-pacing.ts";

describe("RoundPacing", () => {
  it("lets the first round start at once", () => {
    expect(new RoundPacing().restBefore(1_000)).toBe(0);
  });

  it("rests as long as the last round lasted, counted from its end", () => {
    const pacing = new RoundPacing();
    pacing.started(1_000);
    pacing.ended(1_120);
    expect(pacing.restBefore(1_120)).toBe(120);
    expect(pacing.restBefore(1_200)).toBe(40);
    expect(pacing.restBefore(1_240)).toBe(0);
    expect(pacing.restBefore(60_000)).toBe(0);
  });

  it("rests at most the cap after a long round", () => {
    const pacing = new RoundPacing();
    pacing.started(0);
    pacing.ended(5_500);
    expect(ROUND_REST_CAP_MS).toBe(250);
    expect(pacing.restBefore(5_500)).toBe(ROUND_REST_CAP_MS);
    const short = new RoundPacing(40);
    short.started(0);
    short.ended(5_500);
    expect(short.restBefore(5_510)).toBe(30);
  });

  it("does not rest while a round is under way, nor after one that never ended", () => {
    const pacing = new RoundPacing();
    pacing.started(0);
    pacing.ended(100);
    pacing.started(200);
    expect(pacing.restBefore(210)).toBe(0);
    pacing.ended(260);
    expect(pacing.restBefore(260)).toBe(60);
  });

  it("refuses a cap that is not a non-negative number", () => {
    expect(() => new RoundPacing(-1)).toThrow(RangeError);
    expect(() => new RoundPacing(Number.NaN)).toThrow(/non-negative/);
    expect(new RoundPacing(0).restBefore(0)).toBe(0);
  });
});
