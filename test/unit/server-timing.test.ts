/**
 * Reading a Server-Timing header (scripts/lib/registry-client.ts), as a push's
 * answer carries it: "repository", the wait for the repository's object, and
 * "total" (src/routes/pushes.ts).
 */
import { describe, expect, it } from "vitest";
import { serverTiming } from "../../scripts/lib/registry-client.ts";

describe("serverTiming", () => {
  it("reads each metric's duration by name, past quoted descriptions holding commas and semicolons", () => {
    expect(
      serverTiming(
        'repository;dur=12.5;desc="the repository\'s object: its turn, the change; stored", total;dur=14.1;desc="x"',
      ),
    ).toEqual({ repository: 12.5, total: 14.1 });
  });

  it("leaves out a metric without a duration, and reads nothing from no header or one that does not parse", () => {
    expect(serverTiming('a;dur=1, b;desc="no dur", c;dur=3')).toEqual({ a: 1, c: 3 });
    expect(serverTiming(null)).toEqual({});
    expect(serverTiming("")).toEqual({});
    expect(serverTiming('garbage "')).toEqual({});
  });
});
