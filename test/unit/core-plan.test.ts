import { describe, expect, it } from "vitest";
import { coreList, corePlan } from "../../scripts/bench/core-plan.ts";

describe("corePlan (bench --pin)", () => {
  it("gives the object core 0 and the rest every other core", () => {
    expect(corePlan(2)).toEqual({ object: "0", rest: "1" });
    expect(corePlan(8)).toEqual({ object: "0", rest: "1-7" });
  });

  it("refuses a machine with one core, saying why", () => {
    expect(() => corePlan(1)).toThrow(/at least 2 cores.*has 1/);
    expect(() => corePlan(Number.NaN)).toThrow(/at least 2 cores/);
  });

  it("names one core or a range as a sentence would", () => {
    expect(coreList("1")).toBe("core 1");
    expect(coreList("1-7")).toBe("cores 1-7");
  });
});
