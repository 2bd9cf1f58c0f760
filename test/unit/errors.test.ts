import { describe, expect, it } from "vitest";
import { InvalidMetadataError, KeyError, ThresholdError, TufError } from "../../src/tuf/errors.ts";

describe("error classes", () => {
  it("carry a code and their class name, and are TufErrors", () => {
    const cases: [TufError, string, string][] = [
      [new InvalidMetadataError("m"), "InvalidMetadataError", "invalid_metadata"],
      [new KeyError("invalid_key", "m"), "KeyError", "invalid_key"],
      [new KeyError("unsupported_key", "m"), "KeyError", "unsupported_key"],
      [new ThresholdError("m"), "ThresholdError", "threshold_not_met"],
      [new TufError("expired", "m"), "TufError", "expired"],
    ];
    for (const [error, name, code] of cases) {
      expect(error).toBeInstanceOf(TufError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.message).toBe("m");
    }
    expect(new ThresholdError("m")).not.toBeInstanceOf(InvalidMetadataError);
  });

  it("keep a cause", () => {
    const cause = new SyntaxError("x");
    expect(new InvalidMetadataError("m", { cause }).cause).toBe(cause);
    expect(new TufError("bad_version", "m", { cause }).cause).toBe(cause);
  });
});
