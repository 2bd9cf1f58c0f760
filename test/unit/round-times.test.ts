import { describe, expect, it } from "vitest";
import { type ChangeTimes, RoundTimes, waitParts } from "../../scripts/bench/round-times.ts";

/** The object's line for a round (durable-objects/metrics.ts logs these fields). */
const roundLine = (timestamp: number, at: string, durationMs: number) => ({
  level: "info",
  event: "publish.round",
  repository: "bench",
  targets: 3,
  snapshot: timestamp,
  timestamp,
  files: 12,
  durationMs,
  at,
});

describe("round times (the bench's split of ack → published)", () => {
  it("puts each round's start and end on the bench's clock, by its timestamp version", () => {
    const origin = Date.parse("2026-12-02T10:00:00.000Z");
    const rounds = new RoundTimes(origin);
    rounds.record(roundLine(7, "2026-12-02T10:00:02.500Z", 400));
    expect(rounds.get(7)).toEqual({ start: 2_100, end: 2_500, files: 12 });
    expect(rounds.size).toBe(1);
  });

  it("finds the longest round that ended within a window", () => {
    const rounds = new RoundTimes(Date.parse("2026-12-02T10:00:00.000Z"));
    rounds.record(roundLine(1, "2026-12-02T10:00:01.000Z", 900)); // ends at 1,000: before the window
    rounds.record(roundLine(2, "2026-12-02T10:00:03.000Z", 300));
    rounds.record(roundLine(3, "2026-12-02T10:00:04.000Z", 500));
    rounds.record(roundLine(4, "2026-12-02T10:00:09.000Z", 2_000)); // ends at 9,000: after it
    expect(rounds.longest(2_000, 8_000)).toEqual({ start: 3_500, end: 4_000, files: 12 });
    expect(rounds.longest(5_000, 8_000)).toBeNull();
  });

  it("ignores every other line, and a round line missing what it needs", () => {
    const rounds = new RoundTimes(0);
    rounds.record({ event: "publish.round.start", roles: 4, at: "2026-12-02T10:00:00.000Z" });
    rounds.record({ event: "push.accepted", timestamp: 3, durationMs: 1, at: "2026-12-02T10:00:00.000Z" });
    rounds.record({ ...roundLine(8, "not a date", 5) });
    rounds.record({ ...roundLine(9, "2026-12-02T10:00:00.000Z", 5), durationMs: "5" });
    rounds.record({ ...roundLine(10, "2026-12-02T10:00:00.000Z", 5), at: undefined });
    expect(rounds.size).toBe(0);
  });

  it("keeps where a round's time went, when its line says, and averages it over a window", () => {
    const rounds = new RoundTimes(Date.parse("2026-12-02T10:00:00.000Z"));
    const phases = (staging: number, stores: number, turnWaits: number) => ({
      stagingMs: staging,
      logAheadMs: 0,
      logHashMs: 10,
      snapshotSignMs: 5,
      storesMs: stores,
      timestampStoreMs: 5,
      commitMs: 0,
      turnWaitsMs: turnWaits,
    });
    rounds.record({ ...roundLine(1, "2026-12-02T10:00:01.000Z", 300), ...phases(200, 60, 40) });
    rounds.record({ ...roundLine(2, "2026-12-02T10:00:02.000Z", 100), ...phases(40, 20, 0) });
    rounds.record(roundLine(3, "2026-12-02T10:00:03.000Z", 900)); // a code before phases: left out of the mean
    expect(rounds.get(1)?.phases).toMatchObject({ staging: 200, stores: 60, turnWaits: 40 });
    expect(rounds.get(3)?.phases).toBeUndefined();
    const mean = rounds.meanPhases(0, 5_000);
    // Round 1: 280 ms in phases, 20 between its steps; round 2: 80 and 20.
    expect(mean).toMatchObject({ rounds: 2, staging: 120, stores: 40, logHash: 10, turnWaits: 20, between: 20 });
    expect(rounds.meanPhases(2_500, 5_000)).toBeNull();
    // A line missing one phase gives none.
    rounds.record({ ...roundLine(4, "2026-12-02T10:00:04.000Z", 50), ...phases(10, 10, 0), commitMs: undefined });
    expect(rounds.get(4)?.phases).toBeUndefined();
  });

  it("splits each wait at its round's start and end; the parts add up to the wait", () => {
    const round = { start: 100, end: 400, files: 1 };
    const changes: ChangeTimes[] = [
      // acknowledged while the round before ran: waits 60 ms for its own to start
      { ackAt: 40, round, servedAt: 420 },
      // acknowledged after its round had started (a round that takes changes as it goes): no wait before it
      { ackAt: 150, round, servedAt: 430 },
    ];
    const parts = waitParts(changes);
    expect(parts?.all).toEqual({ changes: 2, beforeRound: 30, inRound: 275, toServed: 25 });
    // the slowest 1 % of two changes: the longer wait alone (380 ms)
    expect(parts?.slowest).toEqual({ changes: 1, beforeRound: 60, inRound: 300, toServed: 20 });
    const sum = (p: { beforeRound: number; inRound: number; toServed: number }) =>
      p.beforeRound + p.inRound + p.toServed;
    expect(sum(parts?.slowest ?? { beforeRound: 0, inRound: 0, toServed: 0 })).toBe(380);
  });

  it("the slowest 1 %: the waits at or above the p99", () => {
    const changes: ChangeTimes[] = Array.from({ length: 200 }, (_, i) => ({
      ackAt: 0,
      round: { start: 10, end: 20, files: 1 },
      servedAt: i < 197 ? 25 : 1_020,
    }));
    // p99 by nearest rank is the 198th of 200 waits: the first of the three slow ones
    const parts = waitParts(changes);
    expect(parts?.slowest.changes).toBe(3);
    expect(parts?.slowest.toServed).toBe(1_000);
    expect(parts?.all.changes).toBe(200);
  });

  it("gives nothing for no changes", () => {
    expect(waitParts([])).toBeNull();
  });
});
