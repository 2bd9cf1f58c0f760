import { describe, expect, it } from "vitest";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";
import { mergeWindows, profileWindow, profileWindows, windowUse } from "../../scripts/bench/profile-windows.ts";
import { sampledProfile } from "./helpers.ts";

const frame = (functionName: string) => ({ functionName, url: "", lineNumber: -1 });
const NODES: SampledProfile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 3, 4] },
  { id: 2, callFrame: frame("(idle)") },
  { id: 3, callFrame: frame("publish") },
  { id: 4, callFrame: frame("accept") },
];
// Samples end at 1, 2, 12, 13, 14, 24, 25 ms after the profile's start.
const PROFILE = sampledProfile(NODES, [
  [3, 1],
  [2, 1],
  [3, 10],
  [4, 1],
  [2, 1],
  [4, 10],
  [3, 1],
]);

describe("mergeWindows", () => {
  it("sorts, joins overlapping and touching windows, and drops empty ones", () => {
    expect(
      mergeWindows([
        { from: 20, to: 30 },
        { from: 0, to: 5 },
        { from: 4, to: 8 },
        { from: 8, to: 10 },
        { from: 15, to: 15 },
        { from: 25, to: 26 },
      ]),
    ).toEqual([
      { from: 0, to: 10 },
      { from: 20, to: 30 },
    ]);
  });

  it("does not change the windows it is given", () => {
    const windows = [
      { from: 0, to: 5 },
      { from: 3, to: 9 },
    ];
    mergeWindows(windows);
    expect(windows).toEqual([
      { from: 0, to: 5 },
      { from: 3, to: 9 },
    ]);
  });
});

describe("profileWindows", () => {
  it("keeps the samples whose time falls in a window (from inclusive, to exclusive), with their deltas", () => {
    const part = profileWindows(PROFILE, [
      { from: 12, to: 14 },
      { from: 24, to: 100 },
    ]);
    expect(part.samples).toEqual([3, 4, 4, 3]);
    expect(part.timeDeltas).toEqual([10_000, 1000, 10_000, 1000]);
    expect(part.nodes).toBe(PROFILE.nodes);
  });

  it("profileWindow is one window; no window keeps nothing", () => {
    expect(profileWindow(PROFILE, 0, 2).samples).toEqual([3]);
    expect(profileWindows(PROFILE, []).samples).toEqual([]);
  });
});

describe("windowUse", () => {
  it("counts the windows' length, the busy samples' time, and their own CPU with each gap capped", () => {
    // In [10, 26): samples at 12 (publish, 10 ms), 13 (accept, 1), 14 (idle), 24 (accept, 10), 25 (publish, 1).
    expect(windowUse(PROFILE, [{ from: 10, to: 26 }])).toEqual({ wallMs: 16, busyMs: 22, ownCpuMs: 4 });
  });

  it("overlapping windows are counted once", () => {
    const once = windowUse(PROFILE, [{ from: 0, to: 14 }]);
    expect(
      windowUse(PROFILE, [
        { from: 0, to: 10 },
        { from: 5, to: 14 },
      ]),
    ).toEqual(once);
    expect(once).toEqual({ wallMs: 14, busyMs: 12, ownCpuMs: 3 });
  });
});
