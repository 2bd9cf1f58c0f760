/** Consecutive runs under a count and a size cap (src/lib/cut.ts). */
import { describe, expect, it } from "vitest";
import { cutRuns } from "../../src/lib/cut.ts";

const size = (n: number) => n;

describe("cutRuns", () => {
  it("keeps the order and cuts at the count", () => {
    expect(cutRuns([1, 1, 1, 1, 1], 2, 100, size)).toEqual([[1, 1], [1, 1], [1]]);
  });

  it("cuts before an item that would pass the size, and gives an item larger than it a run of its own", () => {
    expect(cutRuns([3, 3, 5, 20, 1], 10, 8, size)).toEqual([[3, 3], [5], [20], [1]]);
  });

  it("gives no run for no items", () => {
    expect(cutRuns([], 3, 3, size)).toEqual([]);
  });
});
