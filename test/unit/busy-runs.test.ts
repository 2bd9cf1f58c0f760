import { describe, expect, it } from "vitest";
import { busyRuns } from "../../scripts/bench/busy-runs.ts";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";
import { sampledProfile } from "./helpers.ts";

const frame = (functionName: string) => ({ functionName, url: "", lineNumber: -1 });
const NODES: SampledProfile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 3, 4] },
  { id: 2, callFrame: frame("(idle)") },
  { id: 3, callFrame: frame("publish") },
  { id: 4, callFrame: frame("(garbage collector)") },
];
/** Samples as [node, ms since the sample before]. */
const profile = (samples: Array<[number, number]>) => sampledProfile(NODES, samples);

describe("busyRuns", () => {
  it("a run lasts from the last idle sample to its own last sample, gaps included; idle samples end it", () => {
    // Runs: 1 + 60 (a gap counts toward its run) + 2 (the collector is busy) = 63 ms; then 10 ms; then 4 ms at the end.
    const runs = busyRuns(
      profile([
        [2, 0],
        [3, 1],
        [3, 60],
        [4, 2],
        [2, 0.5],
        [3, 10],
        [2, 0.5],
        [2, 30],
        [3, 4],
      ]),
    );
    expect(runs.longestMs).toBe(63);
    expect(runs.longShare).toBeCloseTo(63 / (63 + 10 + 4));
    // Of the long run's 63 ms, 59 were outside the isolate (the 60 ms gap beyond the 1 ms a sample may take) and 1 more
    // of the collector's 2 ms sample.
    expect(runs.longOutside).toBeCloseTo((59 + 1) / 63);
  });

  it("the long-run threshold is the caller's; an idle profile has no runs", () => {
    const samples: Array<[number, number]> = [
      [3, 20],
      [2, 1],
      [3, 5],
    ];
    expect(busyRuns(profile(samples), 10)).toEqual({ longestMs: 20, longShare: 20 / 25, longOutside: 19 / 20 });
    expect(busyRuns(profile(samples), 50)).toEqual({ longestMs: 20, longShare: 0, longOutside: 0 });
    expect(busyRuns(profile([[2, 1]]))).toEqual({ longestMs: 0, longShare: 0, longOutside: 0 });
    expect(busyRuns({ nodes: NODES })).toEqual({ longestMs: 0, longShare: 0, longOutside: 0 });
  });
});
