import { describe, expect, it } from "vitest";
import { sqlLimit } from "../../durable-objects/stable-plans.ts";

describe("sqlLimit", () => {
  it("writes the count into the clause", () => {
    expect(sqlLimit(0)).toBe("LIMIT 0");
    expect(sqlLimit(1024)).toBe("LIMIT 1024");
  });

  it("refuses anything but a non-negative safe integer, so no text reaches the statement", () => {
    for (const bad of [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 53,
      "1; DROP TABLE roles" as unknown as number,
    ]) {
      expect(() => sqlLimit(bad)).toThrow(RangeError);
    }
  });
});
