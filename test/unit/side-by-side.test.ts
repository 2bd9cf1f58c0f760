import { describe, expect, it } from "vitest";
import { range, sideBySide, sideBySideRuns } from "../../scripts/bench/side-by-side.ts";
import { median } from "../../scripts/bench/stats.ts";

describe("side by side, once or repeated (--repeat)", () => {
  it("median: the middle value, or the mean of the middle two; null for no values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNull();
  });

  it("range: lowest–highest with one digit, thousands separated", () => {
    expect(range([1_250.04, 980, 14_499.36])).toBe("980.0–14,499.4");
    expect(range([5])).toBe("5.0–5.0");
    expect(range([])).toBeNull();
  });

  it("a repeated row gives each side's median and range; better × compares the medians", () => {
    const now = [{ ms: 300 }, { ms: 100 }, { ms: 200 }];
    const before = [{ ms: 400 }, { ms: 800 }, { ms: 600 }];
    const row = sideBySideRuns(now, before);
    expect(row("ack p99, ms", (f) => f.ms, true)).toEqual(["ack p99, ms", 200, 600, 3, "100.0–300.0", "400.0–800.0"]);
    // A rate is better when higher: this code ÷ baseline.
    expect(row("targets/s", (f) => f.ms, false)).toEqual([
      "targets/s",
      200,
      600,
      200 / 600,
      "100.0–300.0",
      "400.0–800.0",
    ]);
  });

  it("a figure a run lacks (null, NaN) is left out of its side; a side with none is empty", () => {
    const row = sideBySideRuns([{ x: 2 }, { x: null }, { x: Number.NaN }, { x: 4 }], []);
    expect(row("x", (f) => f.x, true)).toEqual(["x", 3, null, null, "2.0–4.0", null]);
  });

  it("one run each reads as sideBySide", () => {
    const once = sideBySideRuns([{ x: 2 }], [{ x: 4 }])("x", (f) => f.x, true);
    expect(once.slice(0, 4)).toEqual(sideBySide({ x: 2 }, { x: 4 })("x", (f) => f.x, true));
  });
});
