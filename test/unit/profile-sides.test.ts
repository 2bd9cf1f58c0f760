import { describe, expect, it } from "vitest";
import { mainScriptId, type SampledProfile, workerCpuMs } from "../../scripts/bench/profile-sides.ts";

// A bundle as esbuild writes one: each module opens with a comment naming its path (lines are 0-based below).
const BUNDLE = [
  "// ../../work/main/node_modules/hono/dist/hono-base.js", // 0
  "var Hono = class {};", // 1
  "// src/routes/pushes.ts", // 2
  "var pushes = async (c) => {};", // 3
  "// src/tuf/assembled.ts", // 4
  "async function signJoined() {}", // 5
  "// durable-objects/pushes.ts", // 6
  "class Pushes { receive() {} }", // 7
].join("\n");

const frame = (functionName: string, lineNumber: number, scriptId = "10", url = "index.js") => ({
  functionName,
  url,
  lineNumber,
  scriptId,
});

/** root → route (Worker) → signJoined; root → receive (object) → signJoined; root → signJoined (a continuation); idle. */
const PROFILE: SampledProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)", -1, "0", ""), children: [2, 4, 6, 7, 8] },
    { id: 2, callFrame: frame("pushes", 3), children: [3] },
    { id: 3, callFrame: frame("signJoined", 5) },
    { id: 4, callFrame: frame("receive", 7), children: [5] },
    { id: 5, callFrame: frame("signJoined", 5) },
    { id: 6, callFrame: frame("signJoined", 5) },
    { id: 7, callFrame: frame("(idle)", -1, "0", "") },
    { id: 8, callFrame: frame("dispatch", 1) },
  ],
  // Samples: Worker route (0.5 ms), Worker's callee (0.5 ms), object (0.5 ms), its callee (3 ms gap, capped),
  // a continuation of shared code (0.5 ms), idle (0.5 ms), Hono (2 ms gap, capped).
  samples: [2, 3, 4, 5, 6, 7, 8],
  timeDeltas: [500, 500, 500, 3000, 500, 500, 2000],
};

describe("the Worker's share of a profile (bench)", () => {
  it("counts the samples whose outermost bundle frame is a Worker module, each gap capped", () => {
    expect(mainScriptId(PROFILE)).toBe("10");
    // Route 0.5 + its callee 0.5 + Hono min(1, 2) = 2 ms; the object, its callee and the continuation are not the Worker's.
    expect(workerCpuMs(PROFILE, "10", BUNDLE)).toBeCloseTo(2, 6);
    expect(workerCpuMs(PROFILE, "10", BUNDLE, 5)).toBeCloseTo(3, 6);
  });

  it("cannot tell without esbuild's module comments, or for another script", () => {
    expect(workerCpuMs(PROFILE, "10", BUNDLE.replace(/^\/\/ .*$/gm, "//"))).toBeNull();
    expect(workerCpuMs(PROFILE, "11", BUNDLE)).toBe(0);
  });
});
