/**
 * workerd's --trace-gc and --trace-gc-nvp lines read by the bench
 * (scripts/bench/gc-trace.ts). The lines are as workerd 1.2026 printed them
 * in scale runs on this machine (2026-12-05), the isolates' addresses
 * shortened and the nvp line's fields cut to those the bench reads and a
 * few sub-phases it must not add again.
 */
import { describe, expect, it } from "vitest";
import { majorCollections, parseGcLine } from "../../scripts/bench/gc-trace.ts";

const MC =
  "[4449:0x119e7ecf0000]    51633 ms: Mark-Compact 53.7 (60.1) -> 3.2 (58.0) MB, pooled: 0.0 MB, 92.00 / 0.00 ms  (average mu = 0.958, current mu = 0.957) allocation failure; GC in old space requested";
const SCAVENGE =
  "[4449:0x119e7fca2000]       97 ms: Scavenge 7.0 (7.5) -> 6.7 (8.6) MB, pooled: 0.0 MB, 2.22 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ";

// A Mark-Compact of the split's gateway isolate (12:08 quick run): 113.4 ms, of which V8's phases 9.9.
const NVP_MC =
  '[2372:0x20d9ffe70000:0]    46274 ms: GC: {"pause":113.424,"mutator":189.7,"gc":"mc","reason":"allocation limit","start_object_size":36485700,"end_object_size":308528,"heap.prologue":0,"heap.embedder_tracing_epilogue":0.024,"heap.epilogue":0.01,"heap.external.prologue":0,"heap.external.epilogue":0,"heap.external.weak_global_handles":0,"clear":7.412,"clear.weak_global_handles":5.651,"epilogue":0.001,"evacuate":0.887,"evacuate.update_pointers":0.683,"finish":0.107,"mark":1.259,"mark.roots":0.423,"prologue":0.001,"sweep":0.24,"sweep.old":0.227,"background.sweep":0.165}';
const NVP_SCAVENGE =
  '[2372:0x1333bfca2000:0]       53 ms: GC: {"pause":1.236,"gc":"s","start_object_size":6994464,"end_object_size":6672636,"scavenge":1.214}';

describe("parseGcLine", () => {
  it("reads a --trace-gc-nvp Mark-Compact: its pause and V8's top-level phases, sub-phases not added again", () => {
    const event = parseGcLine(NVP_MC);
    expect(event).toMatchObject({ isolate: "0x20d9ffe70000", atMs: 46274, kind: "mark-compact", pauseMs: 113.424 });
    expect(event?.beforeMb).toBeCloseTo(34.8, 1);
    expect(event?.afterMb).toBeCloseTo(0.29, 2);
    // 0.024 + 0.01 + 7.412 + 0.001 + 0.887 + 0.107 + 1.259 + 0.001 + 0.24
    expect(event?.v8PhasesMs).toBeCloseTo(9.941, 3);
    expect(parseGcLine(NVP_SCAVENGE)).toMatchObject({ kind: "scavenge", pauseMs: 1.236, v8PhasesMs: 0 });
  });

  it("is null for a --trace-gc-nvp line of another collector or that does not parse", () => {
    expect(parseGcLine(NVP_SCAVENGE.replace('"gc":"s"', '"gc":"mmc"'))).toBeNull();
    expect(parseGcLine(NVP_MC.slice(0, -5))).toBeNull();
  });

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
  it("counts the window's pauses for the isolate with the largest heap and for the others", () => {
    const events = [
      mc("0xa", 500, 10, 12), // before the window
      mc("0xb", 1_200, 90, 3),
      mc("0xa", 1_500, 80, 11),
      { ...mc("0xa", 1_600, 3, 11), kind: "scavenge" as const },
      mc("0xc", 2_000, 40, 1),
      mc("0xb", 2_500, 120, 3),
      mc("0xa", 9_000, 70, 12), // after it
    ];
    expect(majorCollections(events, 1_000, 3_000)).toEqual({
      largest: { isolate: "0xa", count: 1, longestMs: 80, totalMs: 80, outsideV8Ms: null },
      others: { count: 3, longestMs: 120, totalMs: 250, outsideV8Ms: null },
    });
  });

  it("adds the part of each pause outside V8's phases when the lines name them", () => {
    const events = [
      { ...mc("0xa", 1_500, 30, 11), v8PhasesMs: 6 },
      { ...mc("0xa", 2_500, 20, 12), v8PhasesMs: 25 }, // never below 0
      { ...mc("0xb", 2_000, 110, 1), v8PhasesMs: 10 },
    ];
    expect(majorCollections(events, 1_000, 3_000)).toEqual({
      largest: { isolate: "0xa", count: 2, longestMs: 30, totalMs: 50, outsideV8Ms: 24 },
      others: { count: 1, longestMs: 110, totalMs: 110, outsideV8Ms: 100 },
    });
  });

  it("has no largest isolate without a Mark-Compact", () => {
    expect(majorCollections([], 0, 1)).toEqual({
      largest: null,
      others: { count: 0, longestMs: 0, totalMs: 0, outsideV8Ms: 0 },
    });
  });
});
