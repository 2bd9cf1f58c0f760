/**
 * workerd's --trace-gc lines read by the bench (scripts/bench/gc-trace.ts).
 * The lines are as workerd 1.2026 printed them in a scale run on this
 * machine (2026-12-05), the isolates' addresses shortened.
 */
import { describe, expect, it } from "vitest";
import { majorCollections, parseGcLine } from "../../scripts/bench/gc-trace.ts";

const MC =
  "[4449:0x119e7ecf0000]    51633 ms: Mark-Compact 53.7 (60.1) -> 3.2 (58.0) MB, pooled: 0.0 MB, 92.00 / 0.00 ms  (average mu = 0.958, current mu = 0.957) allocation failure; GC in old space requested";
const SCAVENGE =
  "[4449:0x119e7fca2000]       97 ms: Scavenge 7.0 (7.5) -> 6.7 (8.6) MB, pooled: 0.0 MB, 2.22 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";

describe("parseGcLine", () => {
  it("reads a Mark-Compact and a Scavenge", () => {
    expect(parseGcLine(MC)).toEqual({
      isolate: "0x119e7ecf0000",
      atMs: 51633,
      kind: "mark-compact",
      beforeMb: 53.7,
      afterMb: 3.2,
      pauseMs: 92,
    });
    expect(parseGcLine(SCAVENGE)).toMatchObject({ isolate: "0x119e7fca2000", kind: "scavenge", pauseMs: 2.22 });
  });

  it("is null for any other line", () => {
    expect(parseGcLine('{"level":"info","message":"round"}')).toBeNull();
    expect(parseGcLine("[4449:0x1] 5 ms: Memory pool: Removed pages: 0")).toBeNull();
  });
});

describe("majorCollections", () => {
  const mc = (isolate: string, atMs: number, pauseMs: number, afterMb: number) => ({
    isolate,
    atMs,
    kind: "mark-compact" as const,
    beforeMb: afterMb + 40,
    afterMb,
    pauseMs,
  });
  it("counts the window's pauses for the isolate with the largest heap and for all", () => {
    const events = [
      mc("0xa", 500, 10, 12), // before the window
      mc("0xb", 1_200, 90, 3),
      mc("0xa", 1_500, 80, 11),
      { ...mc("0xa", 1_600, 3, 11), kind: "scavenge" as const },
      mc("0xb", 2_500, 120, 3),
      mc("0xa", 9_000, 70, 12), // after it
    ];
    expect(majorCollections(events, 1_000, 3_000)).toEqual({
      largest: { isolate: "0xa", count: 1, longestMs: 80, totalMs: 80 },
      all: { count: 3, longestMs: 120, totalMs: 290 },
    });
  });

  it("has no largest isolate without a Mark-Compact", () => {
    expect(majorCollections([], 0, 1)).toEqual({ largest: null, all: { count: 0, longestMs: 0, totalMs: 0 } });
  });
});
