/**
 * The bench's reading of a thread's scheduling (scripts/bench/sched-stat.ts):
 * the scale table's row on how long the object's main thread waited for a
 * core comes from /proc/<pid>/task/<tid>/schedstat, parsed here.
 */
import { describe, expect, it } from "vitest";
import { parseSchedstat } from "../../scripts/bench/sched-stat.ts";

describe("parseSchedstat", () => {
  it("reads the time spent waiting for a core, in seconds, not the time on one", () => {
    // As a workerd main thread's file read on this machine: 8.38 s run, 2.03 s waited, 6,055 slices.
    expect(parseSchedstat("8380468540 2030127470 6055\n")).toEqual({ waitSeconds: 2.03012747 });
  });

  it("is null for anything but three whole numbers", () => {
    expect(parseSchedstat("")).toBeNull();
    expect(parseSchedstat("8380468540 2030127470\n")).toBeNull();
    expect(parseSchedstat("8380468540 -1 6055\n")).toBeNull();
    expect(parseSchedstat("8380468540 2030127470 6055 7\n")).toBeNull();
  });
});
