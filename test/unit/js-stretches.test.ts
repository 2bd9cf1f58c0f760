import { describe, expect, it } from "vitest";
import { longestStretches } from "../../scripts/bench/js-stretches.ts";
import type { SampledProfile } from "../../scripts/bench/profile-sides.ts";
import { sampledProfile } from "./helpers.ts";

const frame = (functionName: string) => ({ functionName, url: "", lineNumber: -1 });
// (root) > finish > commit > exec > step; (root) > flush; the runtime's own (program), idle and the collector.
const NODES: SampledProfile["nodes"] = [
  { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 5, 9] },
  { id: 2, callFrame: frame("(idle)") },
  { id: 3, callFrame: frame("(program)") },
  { id: 4, callFrame: frame("(garbage collector)") },
  { id: 5, callFrame: frame("finish"), children: [6] },
  { id: 6, callFrame: frame("commit"), children: [7] },
  { id: 7, callFrame: frame("exec"), children: [8] },
  { id: 8, callFrame: frame("step") },
  { id: 9, callFrame: frame("") },
];

describe("longestStretches", () => {
  it("breaks at idle and (program) samples, keeps the collector inside, and names the heaviest path", () => {
    const profile = sampledProfile(NODES, [
      [5, 1], // finish: a stretch of 1 ms at 0
      [2, 1], // idle
      [8, 1], // 2–7 ms: finish > commit > exec (below it, step), 3 ms
      [4, 1], //   the collector, 1 ms
      [9, 1], //   an anonymous function, 1 ms
      [7, 1],
      [7, 1],
      [3, 1], // (program): the stretch ends
      [9, 4], // 8–12 ms: 4 ms since the sample before, of which 1 is the isolate's own
      [2, 1],
    ]);
    expect(longestStretches(profile, 5)).toEqual([
      { atMs: 2, wallMs: 5, ownCpuMs: 5, path: "finish > commit > exec", pathMs: 3 },
      { atMs: 0, wallMs: 1, ownCpuMs: 1, path: "finish", pathMs: 1 },
      { atMs: 8, wallMs: 4, ownCpuMs: 1, path: "(anonymous)", pathMs: 1 },
    ]);
  });

  it("returns the longest `count` by own CPU, and none for an idle or empty profile", () => {
    const profile = sampledProfile(NODES, [
      [5, 1],
      [3, 1],
      [5, 1],
      [5, 1],
      [2, 1],
      [9, 1],
      [9, 1],
      [9, 1],
    ]);
    expect(longestStretches(profile, 2).map((s) => [s.path, s.ownCpuMs])).toEqual([
      ["(anonymous)", 3],
      ["finish", 2],
    ]);
    expect(longestStretches(sampledProfile(NODES, [[2, 5]]), 3)).toEqual([]);
    expect(longestStretches({ nodes: NODES }, 3)).toEqual([]);
  });
});
