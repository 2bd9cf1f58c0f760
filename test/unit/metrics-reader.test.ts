import { describe, expect, it } from "vitest";
import { longestStill, perTarget } from "../../scripts/bench/metrics-reader.ts";

describe("longestStill (the bench's longest pause of a gauge)", () => {
  it("is the longest stretch from a value's first reading to the first reading that differs", () => {
    // 900 → 644 after 250 ms, then stuck at 644 for 2 s, then 388 and 0.
    const readings: Array<[number, number]> = [
      [0, 900],
      [250, 644],
      [500, 644],
      [2250, 644],
      [2500, 388],
      [2750, 0],
    ];
    expect(longestStill(readings)).toBe(2250);
  });

  it("counts a value still standing at the last reading (a gauge that never reached 0)", () => {
    expect(
      longestStill([
        [0, 5],
        [100, 4],
        [5100, 4],
      ]),
    ).toBe(5000);
  });

  it("is 0 with no readings or one", () => {
    expect(longestStill([])).toBe(0);
    expect(longestStill([[10, 3]])).toBe(0);
  });
});

describe("perTarget (a counter's growth by label, per target)", () => {
  it("divides each label value's growth, a value new since the first reading counted from 0", () => {
    expect(perTarget({ packs: 10, site: 4 }, { packs: 30, site: 4, log: 5 }, 10)).toEqual({
      packs: 2,
      site: 0,
      log: 0.5,
    });
  });

  it("is null without both readings or with nothing accepted", () => {
    expect(perTarget(null, { packs: 1 }, 10)).toBeNull();
    expect(perTarget({ packs: 1 }, null, 10)).toBeNull();
    expect(perTarget({ packs: 1 }, { packs: 2 }, 0)).toBeNull();
  });
});
