import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstIllFormed, mayBeIllFormed } from "../../src/schemas/safe-string.ts";

describe("mayBeIllFormed (a push body with no surrogate skips the well-formedness walk)", () => {
  it("finds lone surrogates escaped in either case, and raw", () => {
    expect(mayBeIllFormed('{"path":"a\\ud800"}')).toBe(true);
    expect(mayBeIllFormed('{"path":"a\\uDFFF"}')).toBe(true);
    expect(mayBeIllFormed('{"a\\uDc00":1}')).toBe(true);
    expect(mayBeIllFormed(`{"path":"a${"\ud800"}"}`)).toBe(true);
  });

  it("passes text without surrogates (other escapes, non-ASCII in the BMP)", () => {
    expect(mayBeIllFormed('{"path":"pkg/\\u00fc-1.0.tgz","x":"\\u2028 \\u0041 \\n"}')).toBe(false);
    expect(mayBeIllFormed('{"path":"pkg/ü-1.0.tgz"}')).toBe(false);
    // An escaped backslash before "ud800" is no surrogate, but is taken as one: the walk decides.
    expect(mayBeIllFormed('{"path":"a\\\\ud800"}')).toBe(true);
  });

  it("never passes text whose parsed value holds an ill-formed string or key", () => {
    // Strings of UTF-16 code units, lone surrogates included, in keys and values at any depth.
    const text = fc.string({ unit: "binary" });
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        text,
        fc.integer(),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(text, tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.boolean(), (v, raw) => {
        // JSON.stringify escapes lone surrogates; the raw form keeps them as they are.
        const json = raw
          ? JSON.stringify(v).replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_, hex) =>
              String.fromCharCode(Number.parseInt(hex, 16)),
            )
          : JSON.stringify(v);
        if (firstIllFormed(JSON.parse(json)) !== null) expect(mayBeIllFormed(json)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
