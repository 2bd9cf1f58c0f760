/**
 * The collector's pauses in a CPU profile (scripts/bench/gc-pauses.ts): runs
 * of "(garbage collector)" samples, each sample counted for the time since
 * the one before it.
 */
import { describe, expect, it } from "vitest";
import { gcPauses } from "../../scripts/bench/gc-pauses.ts";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";
import { sampledProfile } from "./helpers.ts";

const frame = (functionName: string) => ({ functionName, url: "", lineNumber: -1 });
const NODES: SampledProfile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 3, 4] },
  { id: 2, callFrame: frame("(idle)") },
  { id: 3, callFrame: frame("(garbage collector)") },
  { id: 4, callFrame: frame("step") },
];

describe("gcPauses", () => {
  it("times each run of the collector's samples, and counts the long ones", () => {
    const profile = sampledProfile(NODES, [
      [4, 1],
      [3, 5], // a run of 5 + 20 = 25 ms
      [3, 20],
      [4, 1],
      [3, 2], // a run of 2 ms
      [2, 1],
      [3, 30], // a run of 30 ms at the end
    ]);
    expect(gcPauses(profile)).toEqual({ totalMs: 57, longestMs: 30, long: 2 });
    expect(gcPauses(profile, 26)).toEqual({ totalMs: 57, longestMs: 30, long: 1 });
  });

  it("is all zeros for a profile without the collector", () => {
    expect(
      gcPauses(
        sampledProfile(NODES, [
          [4, 3],
          [2, 1],
        ]),
      ),
    ).toEqual({ totalMs: 0, longestMs: 0, long: 0 });
  });
});
