import { describe, expect, it } from "vitest";
import { totalTimes } from "../../scripts/bench/profile-totals.ts";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";
import { sampledProfile } from "./helpers.ts";

const frame = (functionName: string, line = -1) => ({
  functionName,
  url: line < 0 ? "" : "/x/.wrangler/tmp/index.js",
  lineNumber: line,
});
// (root) → round → append → encode; round → round (recursion) → exec (native); (idle); (program).
const NODES: SampledProfile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 5, 7, 8] },
  { id: 2, callFrame: frame("round", 9), children: [3, 6] },
  { id: 3, callFrame: frame("append", 19), children: [4] },
  { id: 4, callFrame: frame("encode", 29) },
  { id: 5, callFrame: frame("(idle)") },
  { id: 6, callFrame: frame("round", 9), children: [9] },
  { id: 7, callFrame: frame("(program)") },
  { id: 8, callFrame: frame("") },
  { id: 9, callFrame: frame("exec") },
];
/** Samples as [node, ms since the sample before]. */
const profile = (samples: Array<[number, number]>) => sampledProfile(NODES, samples);

describe("totalTimes", () => {
  it("counts a sample for every function on its stack, once each (recursion), idle for none", () => {
    const totals = totalTimes(
      profile([
        [4, 3], // encode ← append ← round
        [3, 2], // append ← round
        [9, 5], // exec ← round ← round: round once
        [5, 100], // idle
        [7, 1], // (program): busy, but not listed
        [8, 4], // an anonymous function
      ]),
    );
    expect(totals.map((t) => [t.name, t.where, t.totalMs])).toEqual([
      ["round", "tmp/index.js:10", 10],
      ["append", "tmp/index.js:20", 5],
      ["exec", "", 5],
      ["(anonymous)", "", 4],
      ["encode", "tmp/index.js:30", 3],
    ]);
    // Shares are of the busy time: every sample but the idle one (3 + 2 + 5 + 1 + 4 ms).
    expect(totals[0]?.share).toBeCloseTo(10 / 15);
  });
  it("keeps the heaviest `limit`, and an empty or idle profile has none", () => {
    const samples: Array<[number, number]> = [
      [4, 3],
      [3, 2],
      [2, 1],
    ];
    expect(totalTimes(profile(samples), 2).map((t) => [t.name, t.totalMs])).toEqual([
      ["round", 6],
      ["append", 5],
    ]);
    expect(totalTimes(profile([]))).toEqual([]);
    expect(totalTimes(profile([[5, 10]]))).toEqual([]);
  });
});
